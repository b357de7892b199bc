// Original file: raft/transport/raft.proto

import type { Long } from '@grpc/proto-loader';

export interface InstallSnapshotResult {
  /**
   * File bytes received by this call (not counting what the receiver already held).
   */
  'bytesReceived'?: (number | string | Long);
}

export interface InstallSnapshotResult__Output {
  /**
   * File bytes received by this call (not counting what the receiver already held).
   */
  'bytesReceived': (number);
}
