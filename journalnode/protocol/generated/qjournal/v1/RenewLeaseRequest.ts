// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface RenewLeaseRequest {
  'journalId'?: (string);
  'leaseName'?: (string);
  'candidate'?: (string);
  'token'?: (number | string | Long);
  'ttlMs'?: (number | string | Long);
}

export interface RenewLeaseRequest__Output {
  'journalId': (string);
  'leaseName': (string);
  'candidate': (string);
  'token': (number);
  'ttlMs': (number);
}
