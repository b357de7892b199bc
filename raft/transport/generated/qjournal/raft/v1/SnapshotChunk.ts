// Original file: raft/transport/raft.proto

import type { SnapshotHeader as _qjournal_raft_v1_SnapshotHeader, SnapshotHeader__Output as _qjournal_raft_v1_SnapshotHeader__Output } from '../../../qjournal/raft/v1/SnapshotHeader.ts';
import type { FileChunk as _qjournal_raft_v1_FileChunk, FileChunk__Output as _qjournal_raft_v1_FileChunk__Output } from '../../../qjournal/raft/v1/FileChunk.ts';

export interface SnapshotChunk {
  'header'?: (_qjournal_raft_v1_SnapshotHeader | null);
  'chunk'?: (_qjournal_raft_v1_FileChunk | null);
  'payload'?: "header"|"chunk";
}

export interface SnapshotChunk__Output {
  'header'?: (_qjournal_raft_v1_SnapshotHeader__Output | null);
  'chunk'?: (_qjournal_raft_v1_FileChunk__Output | null);
  'payload'?: "header"|"chunk";
}
