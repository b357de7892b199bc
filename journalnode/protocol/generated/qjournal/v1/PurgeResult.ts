// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface PurgeResult {
  'purgedSegments'?: (number);
  /**
   * The first txid still held after the purge (0 when none).
   */
  'firstTxId'?: (number | string | Long);
}

export interface PurgeResult__Output {
  'purgedSegments': (number);
  /**
   * The first txid still held after the purge (0 when none).
   */
  'firstTxId': (number);
}
