// Original file: raft/admin/admin.proto

import type { Peer as _qjournal_raft_admin_v1_Peer, Peer__Output as _qjournal_raft_admin_v1_Peer__Output } from '../../../../qjournal/raft/admin/v1/Peer.ts';

export interface ResetPeerRequest {
  'groupId'?: (string);
  /**
   * The configuration forced on the receiving node. UNSAFE: committed entries held only by
   * the nodes left out may be lost, and the group splits if they come back. Refused unless force.
   */
  'peers'?: (_qjournal_raft_admin_v1_Peer)[];
  'force'?: (boolean);
}

export interface ResetPeerRequest__Output {
  'groupId': (string);
  /**
   * The configuration forced on the receiving node. UNSAFE: committed entries held only by
   * the nodes left out may be lost, and the group splits if they come back. Refused unless force.
   */
  'peers': (_qjournal_raft_admin_v1_Peer__Output)[];
  'force': (boolean);
}
