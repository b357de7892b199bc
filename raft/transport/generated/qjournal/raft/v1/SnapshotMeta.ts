// Original file: raft/transport/raft.proto

import type { ConfState as _qjournal_raft_v1_ConfState, ConfState__Output as _qjournal_raft_v1_ConfState__Output } from '../../../qjournal/raft/v1/ConfState.ts';
import type { Long } from '@grpc/proto-loader';

export interface SnapshotMeta {
  'index'?: (number | string | Long);
  'term'?: (number | string | Long);
  'confState'?: (_qjournal_raft_v1_ConfState | null);
}

export interface SnapshotMeta__Output {
  'index': (number);
  'term': (number);
  'confState': (_qjournal_raft_v1_ConfState__Output | null);
}
