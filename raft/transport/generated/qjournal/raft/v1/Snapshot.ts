// Original file: raft/transport/raft.proto

import type { SnapshotMeta as _qjournal_raft_v1_SnapshotMeta, SnapshotMeta__Output as _qjournal_raft_v1_SnapshotMeta__Output } from '../../../qjournal/raft/v1/SnapshotMeta.ts';

/**
 * The snapshot as the core sees it: metadata plus opaque bytes (a descriptor of the file set).
 */
export interface Snapshot {
  'meta'?: (_qjournal_raft_v1_SnapshotMeta | null);
  'data'?: (Buffer | Uint8Array | string);
}

/**
 * The snapshot as the core sees it: metadata plus opaque bytes (a descriptor of the file set).
 */
export interface Snapshot__Output {
  'meta': (_qjournal_raft_v1_SnapshotMeta__Output | null);
  'data': (Buffer);
}
