// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface JournalRequest {
  /**
   * Client sequence number on JournalStream (echoed in the response); ignored by the unary call.
   */
  'sequence'?: (number | string | Long);
  'journalId'?: (string);
  'epoch'?: (number | string | Long);
  'firstTxId'?: (number | string | Long);
  'count'?: (number);
  /**
   * `count` framed records (see the header of this file).
   */
  'records'?: (Buffer | Uint8Array | string);
  /**
   * CRC-32C of `records`.
   */
  'crc32c'?: (number);
}

export interface JournalRequest__Output {
  /**
   * Client sequence number on JournalStream (echoed in the response); ignored by the unary call.
   */
  'sequence': (number);
  'journalId': (string);
  'epoch': (number);
  'firstTxId': (number);
  'count': (number);
  /**
   * `count` framed records (see the header of this file).
   */
  'records': (Buffer);
  /**
   * CRC-32C of `records`.
   */
  'crc32c': (number);
}
