// Original file: journalnode/protocol/journal.proto

export const JournalErrorCode = {
  JOURNAL_ERROR_UNSPECIFIED: 'JOURNAL_ERROR_UNSPECIFIED',
  /**
   * The request's epoch is below the promised epoch: this writer is fenced and must stop;
   * no retry can succeed. `promised_epoch` is set.
   */
  EPOCH_FENCED: 'EPOCH_FENCED',
  /**
   * The batch does not start at the next txid and is not an exact retry of an applied batch.
   * `expected_tx_id` is the txid the journal expects next.
   */
  OUT_OF_ORDER: 'OUT_OF_ORDER',
  /**
   * The journal id was never formatted.
   */
  NOT_FORMATTED: 'NOT_FORMATTED',
  /**
   * Format of an existing journal without `force`.
   */
  ALREADY_FORMATTED: 'ALREADY_FORMATTED',
  /**
   * No segment is open for this epoch (Journal), or none at that txid (Finalize).
   */
  SEGMENT_NOT_OPEN: 'SEGMENT_NOT_OPEN',
  /**
   * StartSegment while a segment is open.
   */
  SEGMENT_ALREADY_OPEN: 'SEGMENT_ALREADY_OPEN',
  /**
   * NewEpoch with a namespace different from the formatted one.
   */
  NAMESPACE_MISMATCH: 'NAMESPACE_MISMATCH',
  /**
   * A malformed request: bad journal id, count, size, txid or number above 2^53 - 1.
   */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /**
   * This JournalNode is not the Raft leader; retry at `leader_hint`. Retryable.
   */
  NOT_LEADER: 'NOT_LEADER',
  /**
   * AcquireLease while another candidate holds a live lease.
   */
  LEASE_HELD: 'LEASE_HELD',
  /**
   * Renew or use of a lease (candidate, token) that is no longer held: expired, released or
   * taken over. The holder has lost its leadership.
   */
  LEASE_EXPIRED: 'LEASE_EXPIRED',
  /**
   * The request's epoch is above the promised epoch: call NewEpoch first. `promised_epoch` is set.
   */
  EPOCH_NOT_PROMISED: 'EPOCH_NOT_PROMISED',
  /**
   * Finalize at a last txid that is not the open segment's last txid. `expected_tx_id` is
   * the segment's last txid.
   */
  SEGMENT_MISMATCH: 'SEGMENT_MISMATCH',
  /**
   * Framed records failed validation (length, per-record CRC, txid sequence, batch CRC).
   */
  CORRUPT_RECORDS: 'CORRUPT_RECORDS',
  /**
   * Edits were requested below the first retained txid (purged). `expected_tx_id` is the first
   * txid still available (0 when none is).
   */
  EDITS_UNAVAILABLE: 'EDITS_UNAVAILABLE',
  /**
   * The service cannot answer now (no quorum, shutting down, timeout). Retryable.
   */
  UNAVAILABLE: 'UNAVAILABLE',
  /**
   * A bug or an I/O failure on the server.
   */
  INTERNAL: 'INTERNAL',
} as const;

export type JournalErrorCode =
  | 'JOURNAL_ERROR_UNSPECIFIED'
  | 0
  /**
   * The request's epoch is below the promised epoch: this writer is fenced and must stop;
   * no retry can succeed. `promised_epoch` is set.
   */
  | 'EPOCH_FENCED'
  | 1
  /**
   * The batch does not start at the next txid and is not an exact retry of an applied batch.
   * `expected_tx_id` is the txid the journal expects next.
   */
  | 'OUT_OF_ORDER'
  | 2
  /**
   * The journal id was never formatted.
   */
  | 'NOT_FORMATTED'
  | 3
  /**
   * Format of an existing journal without `force`.
   */
  | 'ALREADY_FORMATTED'
  | 4
  /**
   * No segment is open for this epoch (Journal), or none at that txid (Finalize).
   */
  | 'SEGMENT_NOT_OPEN'
  | 5
  /**
   * StartSegment while a segment is open.
   */
  | 'SEGMENT_ALREADY_OPEN'
  | 6
  /**
   * NewEpoch with a namespace different from the formatted one.
   */
  | 'NAMESPACE_MISMATCH'
  | 7
  /**
   * A malformed request: bad journal id, count, size, txid or number above 2^53 - 1.
   */
  | 'INVALID_ARGUMENT'
  | 8
  /**
   * This JournalNode is not the Raft leader; retry at `leader_hint`. Retryable.
   */
  | 'NOT_LEADER'
  | 9
  /**
   * AcquireLease while another candidate holds a live lease.
   */
  | 'LEASE_HELD'
  | 10
  /**
   * Renew or use of a lease (candidate, token) that is no longer held: expired, released or
   * taken over. The holder has lost its leadership.
   */
  | 'LEASE_EXPIRED'
  | 11
  /**
   * The request's epoch is above the promised epoch: call NewEpoch first. `promised_epoch` is set.
   */
  | 'EPOCH_NOT_PROMISED'
  | 12
  /**
   * Finalize at a last txid that is not the open segment's last txid. `expected_tx_id` is
   * the segment's last txid.
   */
  | 'SEGMENT_MISMATCH'
  | 13
  /**
   * Framed records failed validation (length, per-record CRC, txid sequence, batch CRC).
   */
  | 'CORRUPT_RECORDS'
  | 14
  /**
   * Edits were requested below the first retained txid (purged). `expected_tx_id` is the first
   * txid still available (0 when none is).
   */
  | 'EDITS_UNAVAILABLE'
  | 15
  /**
   * The service cannot answer now (no quorum, shutting down, timeout). Retryable.
   */
  | 'UNAVAILABLE'
  | 16
  /**
   * A bug or an I/O failure on the server.
   */
  | 'INTERNAL'
  | 17

export type JournalErrorCode__Output = typeof JournalErrorCode[keyof typeof JournalErrorCode]
