// Original file: raft/admin/admin.proto

import type { Peer as _qjournal_raft_admin_v1_Peer, Peer__Output as _qjournal_raft_admin_v1_Peer__Output } from '../../../../qjournal/raft/admin/v1/Peer.ts';

export interface Configuration {
  'voters'?: (string)[];
  'votersOutgoing'?: (string)[];
  'learners'?: (string)[];
  'peers'?: (_qjournal_raft_admin_v1_Peer)[];
}

export interface Configuration__Output {
  'voters': (string)[];
  'votersOutgoing': (string)[];
  'learners': (string)[];
  'peers': (_qjournal_raft_admin_v1_Peer__Output)[];
}
