// Original file: raft/admin/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface TransferLeaderRequest {
  'groupId'?: (string);
  'id'?: (string);
  'timeoutMs'?: (number | string | Long);
}

export interface TransferLeaderRequest__Output {
  'groupId': (string);
  'id': (string);
  'timeoutMs': (number);
}
