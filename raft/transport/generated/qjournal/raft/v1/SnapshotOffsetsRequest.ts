// Original file: raft/transport/raft.proto

import type { Message as _qjournal_raft_v1_Message, Message__Output as _qjournal_raft_v1_Message__Output } from '../../../qjournal/raft/v1/Message.ts';
import type { SnapshotFile as _qjournal_raft_v1_SnapshotFile, SnapshotFile__Output as _qjournal_raft_v1_SnapshotFile__Output } from '../../../qjournal/raft/v1/SnapshotFile.ts';

/**
 * Asked by the sender before InstallSnapshot: how much of each file the receiver already holds.
 */
export interface SnapshotOffsetsRequest {
  /**
   * The MSG_SNAP message (group id, from, to, term, snapshot meta and data).
   */
  'message'?: (_qjournal_raft_v1_Message | null);
  'files'?: (_qjournal_raft_v1_SnapshotFile)[];
  /**
   * CRC-32C of the message and the file list (codec.ts snapshotHeaderCrc32c): HTTP/2 has no
   * checksum of its own, and a damaged snapshot index would make the receiver skip or repeat entries.
   */
  'headerCrc32c'?: (number);
}

/**
 * Asked by the sender before InstallSnapshot: how much of each file the receiver already holds.
 */
export interface SnapshotOffsetsRequest__Output {
  /**
   * The MSG_SNAP message (group id, from, to, term, snapshot meta and data).
   */
  'message': (_qjournal_raft_v1_Message__Output | null);
  'files': (_qjournal_raft_v1_SnapshotFile__Output)[];
  /**
   * CRC-32C of the message and the file list (codec.ts snapshotHeaderCrc32c): HTTP/2 has no
   * checksum of its own, and a damaged snapshot index would make the receiver skip or repeat entries.
   */
  'headerCrc32c': (number);
}
