// Original file: raft/transport/raft.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The receiver handed every batch up to and including `sequence` to its core. The sender uses
 * it to release queue space (flow control); acks may be coalesced.
 */
export interface StreamAck {
  'sequence'?: (number | string | Long);
}

/**
 * The receiver handed every batch up to and including `sequence` to its core. The sender uses
 * it to release queue space (flow control); acks may be coalesced.
 */
export interface StreamAck__Output {
  'sequence': (number);
}
