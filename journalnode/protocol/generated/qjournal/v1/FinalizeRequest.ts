// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface FinalizeRequest {
  'journalId'?: (string);
  'epoch'?: (number | string | Long);
  'firstTxId'?: (number | string | Long);
  /**
   * The segment's last txid; first_tx_id - 1 finalizes (drops) an empty segment.
   */
  'lastTxId'?: (number | string | Long);
}

export interface FinalizeRequest__Output {
  'journalId': (string);
  'epoch': (number);
  'firstTxId': (number);
  /**
   * The segment's last txid; first_tx_id - 1 finalizes (drops) an empty segment.
   */
  'lastTxId': (number);
}
