// Original file: raft/transport/raft.proto

import type { Message as _qjournal_raft_v1_Message, Message__Output as _qjournal_raft_v1_Message__Output } from '../../../qjournal/raft/v1/Message.ts';
import type { SnapshotFile as _qjournal_raft_v1_SnapshotFile, SnapshotFile__Output as _qjournal_raft_v1_SnapshotFile__Output } from '../../../qjournal/raft/v1/SnapshotFile.ts';

/**
 * The first chunk of an InstallSnapshot stream.
 */
export interface SnapshotHeader {
  /**
   * The MSG_SNAP message, handed to the receiver's core once the files are published.
   */
  'message'?: (_qjournal_raft_v1_Message | null);
  'files'?: (_qjournal_raft_v1_SnapshotFile)[];
  /**
   * As in SnapshotOffsetsRequest.
   */
  'headerCrc32c'?: (number);
}

/**
 * The first chunk of an InstallSnapshot stream.
 */
export interface SnapshotHeader__Output {
  /**
   * The MSG_SNAP message, handed to the receiver's core once the files are published.
   */
  'message': (_qjournal_raft_v1_Message__Output | null);
  'files': (_qjournal_raft_v1_SnapshotFile__Output)[];
  /**
   * As in SnapshotOffsetsRequest.
   */
  'headerCrc32c': (number);
}
