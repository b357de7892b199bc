// Original file: raft/transport/raft.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One file of a snapshot's file set.
 */
export interface SnapshotFile {
  /**
   * A plain file name (no directory part).
   */
  'name'?: (string);
  'bytes'?: (number | string | Long);
  'crc32c'?: (number);
}

/**
 * One file of a snapshot's file set.
 */
export interface SnapshotFile__Output {
  /**
   * A plain file name (no directory part).
   */
  'name': (string);
  'bytes': (number);
  'crc32c': (number);
}
