// Original file: journalnode/protocol/journal.proto

import type { JournalErrorCode as _qjournal_v1_JournalErrorCode, JournalErrorCode__Output as _qjournal_v1_JournalErrorCode__Output } from '../../qjournal/v1/JournalErrorCode.ts';
import type { Long } from '@grpc/proto-loader';

export interface JournalError {
  'code'?: (_qjournal_v1_JournalErrorCode);
  'message'?: (string);
  /**
   * EPOCH_FENCED, EPOCH_NOT_PROMISED: the epoch the journal has promised.
   */
  'promisedEpoch'?: (number | string | Long);
  /**
   * OUT_OF_ORDER: the next txid; SEGMENT_MISMATCH: the segment's last txid;
   * EDITS_UNAVAILABLE: the first available txid.
   */
  'expectedTxId'?: (number | string | Long);
  /**
   * NOT_LEADER: host:port of the leader's QJournal service, empty when unknown.
   */
  'leaderHint'?: (string);
  /**
   * True when the same request may succeed later (NOT_LEADER, UNAVAILABLE).
   */
  'retryable'?: (boolean);
}

export interface JournalError__Output {
  'code': (_qjournal_v1_JournalErrorCode__Output);
  'message': (string);
  /**
   * EPOCH_FENCED, EPOCH_NOT_PROMISED: the epoch the journal has promised.
   */
  'promisedEpoch': (number);
  /**
   * OUT_OF_ORDER: the next txid; SEGMENT_MISMATCH: the segment's last txid;
   * EDITS_UNAVAILABLE: the first available txid.
   */
  'expectedTxId': (number);
  /**
   * NOT_LEADER: host:port of the leader's QJournal service, empty when unknown.
   */
  'leaderHint': (string);
  /**
   * True when the same request may succeed later (NOT_LEADER, UNAVAILABLE).
   */
  'retryable': (boolean);
}
