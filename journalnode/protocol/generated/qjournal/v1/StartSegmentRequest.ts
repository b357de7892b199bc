// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface StartSegmentRequest {
  'journalId'?: (string);
  'epoch'?: (number | string | Long);
  'txId'?: (number | string | Long);
}

export interface StartSegmentRequest__Output {
  'journalId': (string);
  'epoch': (number);
  'txId': (number);
}
