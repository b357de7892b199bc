// Original file: raft/admin/admin.proto

import type { Peer as _qjournal_raft_admin_v1_Peer, Peer__Output as _qjournal_raft_admin_v1_Peer__Output } from '../../../../qjournal/raft/admin/v1/Peer.ts';
import type { Long } from '@grpc/proto-loader';

export interface ChangePeersRequest {
  'groupId'?: (string);
  'peers'?: (_qjournal_raft_admin_v1_Peer)[];
  'timeoutMs'?: (number | string | Long);
}

export interface ChangePeersRequest__Output {
  'groupId': (string);
  'peers': (_qjournal_raft_admin_v1_Peer__Output)[];
  'timeoutMs': (number);
}
