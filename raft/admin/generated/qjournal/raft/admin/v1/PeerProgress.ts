// Original file: raft/admin/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface PeerProgress {
  'id'?: (string);
  'match'?: (number | string | Long);
  'next'?: (number | string | Long);
  'state'?: (string);
  'recentActive'?: (boolean);
  'learner'?: (boolean);
}

export interface PeerProgress__Output {
  'id': (string);
  'match': (number);
  'next': (number);
  'state': (string);
  'recentActive': (boolean);
  'learner': (boolean);
}
