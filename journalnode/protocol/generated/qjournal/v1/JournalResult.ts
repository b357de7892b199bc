// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface JournalResult {
  'firstTxId'?: (number | string | Long);
  'count'?: (number);
  /**
   * The journal's last txid after this batch.
   */
  'lastTxId'?: (number | string | Long);
  /**
   * True when the batch was an exact retry of an applied batch, acknowledged without being
   * written twice.
   */
  'duplicate'?: (boolean);
}

export interface JournalResult__Output {
  'firstTxId': (number);
  'count': (number);
  /**
   * The journal's last txid after this batch.
   */
  'lastTxId': (number);
  /**
   * True when the batch was an exact retry of an applied batch, acknowledged without being
   * written twice.
   */
  'duplicate': (boolean);
}
