// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface GetJournaledEditsRequest {
  'journalId'?: (string);
  'fromTxId'?: (number | string | Long);
  /**
   * At most this many records (1 .. 100,000).
   */
  'maxCount'?: (number);
  /**
   * At most this many framed bytes (1 .. 8 MiB), except that one record is always returned
   * when one is available, whatever its size.
   */
  'maxBytes'?: (number);
}

export interface GetJournaledEditsRequest__Output {
  'journalId': (string);
  'fromTxId': (number);
  /**
   * At most this many records (1 .. 100,000).
   */
  'maxCount': (number);
  /**
   * At most this many framed bytes (1 .. 8 MiB), except that one record is always returned
   * when one is available, whatever its size.
   */
  'maxBytes': (number);
}
