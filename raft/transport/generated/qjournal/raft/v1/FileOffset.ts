// Original file: raft/transport/raft.proto

import type { Long } from '@grpc/proto-loader';

export interface FileOffset {
  'name'?: (string);
  'offset'?: (number | string | Long);
}

export interface FileOffset__Output {
  'name': (string);
  'offset': (number);
}
