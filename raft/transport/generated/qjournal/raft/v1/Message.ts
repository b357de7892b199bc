// Original file: raft/transport/raft.proto

import type { MessageType as _qjournal_raft_v1_MessageType, MessageType__Output as _qjournal_raft_v1_MessageType__Output } from '../../../qjournal/raft/v1/MessageType.ts';
import type { Entry as _qjournal_raft_v1_Entry, Entry__Output as _qjournal_raft_v1_Entry__Output } from '../../../qjournal/raft/v1/Entry.ts';
import type { Snapshot as _qjournal_raft_v1_Snapshot, Snapshot__Output as _qjournal_raft_v1_Snapshot__Output } from '../../../qjournal/raft/v1/Snapshot.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Mirrors raft/core/types.ts Message. `snapshot` is present on MSG_SNAP only.
 */
export interface Message {
  'groupId'?: (string);
  'type'?: (_qjournal_raft_v1_MessageType);
  'from'?: (string);
  'to'?: (string);
  'term'?: (number | string | Long);
  'logTerm'?: (number | string | Long);
  'index'?: (number | string | Long);
  'entries'?: (_qjournal_raft_v1_Entry)[];
  'commit'?: (number | string | Long);
  'reject'?: (boolean);
  'rejectHint'?: (number | string | Long);
  'snapshot'?: (_qjournal_raft_v1_Snapshot | null);
  'context'?: (Buffer | Uint8Array | string);
  /**
   * MSG_APP without entries that only carries a commit index: accepted, it is not answered.
   */
  'commitOnly'?: (boolean);
  '_snapshot'?: "snapshot";
}

/**
 * Mirrors raft/core/types.ts Message. `snapshot` is present on MSG_SNAP only.
 */
export interface Message__Output {
  'groupId': (string);
  'type': (_qjournal_raft_v1_MessageType__Output);
  'from': (string);
  'to': (string);
  'term': (number);
  'logTerm': (number);
  'index': (number);
  'entries': (_qjournal_raft_v1_Entry__Output)[];
  'commit': (number);
  'reject': (boolean);
  'rejectHint': (number);
  'snapshot'?: (_qjournal_raft_v1_Snapshot__Output | null);
  'context': (Buffer);
  /**
   * MSG_APP without entries that only carries a commit index: accepted, it is not answered.
   */
  'commitOnly': (boolean);
  '_snapshot'?: "snapshot";
}
