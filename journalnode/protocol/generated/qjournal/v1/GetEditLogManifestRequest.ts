// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface GetEditLogManifestRequest {
  'journalId'?: (string);
  'sinceTxId'?: (number | string | Long);
}

export interface GetEditLogManifestRequest__Output {
  'journalId': (string);
  'sinceTxId': (number);
}
