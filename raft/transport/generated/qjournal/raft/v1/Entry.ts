// Original file: raft/transport/raft.proto

import type { EntryType as _qjournal_raft_v1_EntryType, EntryType__Output as _qjournal_raft_v1_EntryType__Output } from '../../../qjournal/raft/v1/EntryType.ts';
import type { Long } from '@grpc/proto-loader';

export interface Entry {
  'term'?: (number | string | Long);
  'index'?: (number | string | Long);
  'type'?: (_qjournal_raft_v1_EntryType);
  'data'?: (Buffer | Uint8Array | string);
}

export interface Entry__Output {
  'term': (number);
  'index': (number);
  'type': (_qjournal_raft_v1_EntryType__Output);
  'data': (Buffer);
}
