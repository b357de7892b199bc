// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface AcquireLeaseRequest {
  'journalId'?: (string);
  'leaseName'?: (string);
  'candidate'?: (string);
  'ttlMs'?: (number | string | Long);
}

export interface AcquireLeaseRequest__Output {
  'journalId': (string);
  'leaseName': (string);
  'candidate': (string);
  'ttlMs': (number);
}
