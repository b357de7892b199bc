// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface SegmentInfo {
  'firstTxId'?: (number | string | Long);
  /**
   * The last txid written; first_tx_id - 1 for an empty in-progress segment.
   */
  'lastTxId'?: (number | string | Long);
  'inProgress'?: (boolean);
  /**
   * The writer epoch that opened the segment.
   */
  'epoch'?: (number | string | Long);
  /**
   * Size of the segment file in bytes (framed records only, no header).
   */
  'sizeBytes'?: (number | string | Long);
}

export interface SegmentInfo__Output {
  'firstTxId': (number);
  /**
   * The last txid written; first_tx_id - 1 for an empty in-progress segment.
   */
  'lastTxId': (number);
  'inProgress': (boolean);
  /**
   * The writer epoch that opened the segment.
   */
  'epoch': (number);
  /**
   * Size of the segment file in bytes (framed records only, no header).
   */
  'sizeBytes': (number);
}
