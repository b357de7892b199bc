// Original file: raft/transport/raft.proto

import type { FileOffset as _qjournal_raft_v1_FileOffset, FileOffset__Output as _qjournal_raft_v1_FileOffset__Output } from '../../../qjournal/raft/v1/FileOffset.ts';

export interface SnapshotOffsetsResponse {
  'offsets'?: (_qjournal_raft_v1_FileOffset)[];
}

export interface SnapshotOffsetsResponse__Output {
  'offsets': (_qjournal_raft_v1_FileOffset__Output)[];
}
