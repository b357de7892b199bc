// Original file: raft/admin/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface SnapshotResult {
  'index'?: (number | string | Long);
}

export interface SnapshotResult__Output {
  'index': (number);
}
