// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface JournaledEdits {
  /**
   * The first txid of `records` (= from_tx_id when count > 0).
   */
  'firstTxId'?: (number | string | Long);
  'count'?: (number);
  /**
   * Framed records (see the header of this file), possibly spanning several segments.
   */
  'records'?: (Buffer | Uint8Array | string);
  'crc32c'?: (number);
  /**
   * The journal's last committed txid on the answering node: more may be read while
   * first_tx_id + count <= last_tx_id.
   */
  'lastTxId'?: (number | string | Long);
}

export interface JournaledEdits__Output {
  /**
   * The first txid of `records` (= from_tx_id when count > 0).
   */
  'firstTxId': (number);
  'count': (number);
  /**
   * Framed records (see the header of this file), possibly spanning several segments.
   */
  'records': (Buffer);
  'crc32c': (number);
  /**
   * The journal's last committed txid on the answering node: more may be read while
   * first_tx_id + count <= last_tx_id.
   */
  'lastTxId': (number);
}
