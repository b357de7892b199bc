// Original file: raft/admin/admin.proto

import type { Peer as _qjournal_raft_admin_v1_Peer, Peer__Output as _qjournal_raft_admin_v1_Peer__Output } from '../../../../qjournal/raft/admin/v1/Peer.ts';
import type { Long } from '@grpc/proto-loader';

export interface AddPeerRequest {
  'groupId'?: (string);
  'peer'?: (_qjournal_raft_admin_v1_Peer | null);
  /**
   * Stay a learner (never promoted).
   */
  'learner'?: (boolean);
  'timeoutMs'?: (number | string | Long);
}

export interface AddPeerRequest__Output {
  'groupId': (string);
  'peer': (_qjournal_raft_admin_v1_Peer__Output | null);
  /**
   * Stay a learner (never promoted).
   */
  'learner': (boolean);
  'timeoutMs': (number);
}
