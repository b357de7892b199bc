// Original file: raft/transport/raft.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A piece of one file; pieces of a file arrive in order with no gap, from the offset the
 * receiver reported in SnapshotOffsetsResponse.
 */
export interface FileChunk {
  'name'?: (string);
  'offset'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
}

/**
 * A piece of one file; pieces of a file arrive in order with no gap, from the offset the
 * receiver reported in SnapshotOffsetsResponse.
 */
export interface FileChunk__Output {
  'name': (string);
  'offset': (number);
  'data': (Buffer);
}
