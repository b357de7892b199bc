// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface Lease {
  'journalId'?: (string);
  'leaseName'?: (string);
  /**
   * Empty when the lease is free.
   */
  'holder'?: (string);
  /**
   * The Raft index of the acquire that made `holder` the holder.
   */
  'token'?: (number | string | Long);
  /**
   * Expiry on the leader's clock (ms since the epoch); compare with remaining_ms, not your clock.
   */
  'expiresAtMs'?: (number | string | Long);
  /**
   * Time left as seen by the answering node when it answered (0 when free or expired).
   */
  'remainingMs'?: (number | string | Long);
}

export interface Lease__Output {
  'journalId': (string);
  'leaseName': (string);
  /**
   * Empty when the lease is free.
   */
  'holder': (string);
  /**
   * The Raft index of the acquire that made `holder` the holder.
   */
  'token': (number);
  /**
   * Expiry on the leader's clock (ms since the epoch); compare with remaining_ms, not your clock.
   */
  'expiresAtMs': (number);
  /**
   * Time left as seen by the answering node when it answered (0 when free or expired).
   */
  'remainingMs': (number);
}
