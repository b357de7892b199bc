// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface ReleaseLeaseRequest {
  'journalId'?: (string);
  'leaseName'?: (string);
  'candidate'?: (string);
  'token'?: (number | string | Long);
}

export interface ReleaseLeaseRequest__Output {
  'journalId': (string);
  'leaseName': (string);
  'candidate': (string);
  'token': (number);
}
