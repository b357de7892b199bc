// Original file: journalnode/protocol/journal.proto

import type { NamespaceInfo as _qjournal_v1_NamespaceInfo, NamespaceInfo__Output as _qjournal_v1_NamespaceInfo__Output } from '../../qjournal/v1/NamespaceInfo.ts';
import type { SegmentInfo as _qjournal_v1_SegmentInfo, SegmentInfo__Output as _qjournal_v1_SegmentInfo__Output } from '../../qjournal/v1/SegmentInfo.ts';
import type { Long } from '@grpc/proto-loader';

export interface JournalState {
  'journalId'?: (string);
  'namespace'?: (_qjournal_v1_NamespaceInfo | null);
  'promisedEpoch'?: (number | string | Long);
  /**
   * The epoch that opened the latest segment.
   */
  'writerEpoch'?: (number | string | Long);
  /**
   * The last committed txid (0 when none).
   */
  'lastTxId'?: (number | string | Long);
  /**
   * The first txid still held (0 when the journal holds no segment).
   */
  'firstTxId'?: (number | string | Long);
  /**
   * The in-progress segment, if any.
   */
  'openSegment'?: (_qjournal_v1_SegmentInfo | null);
  /**
   * The Raft index of the last applied entry on the answering node.
   */
  'appliedIndex'?: (number | string | Long);
}

export interface JournalState__Output {
  'journalId': (string);
  'namespace': (_qjournal_v1_NamespaceInfo__Output | null);
  'promisedEpoch': (number);
  /**
   * The epoch that opened the latest segment.
   */
  'writerEpoch': (number);
  /**
   * The last committed txid (0 when none).
   */
  'lastTxId': (number);
  /**
   * The first txid still held (0 when the journal holds no segment).
   */
  'firstTxId': (number);
  /**
   * The in-progress segment, if any.
   */
  'openSegment': (_qjournal_v1_SegmentInfo__Output | null);
  /**
   * The Raft index of the last applied entry on the answering node.
   */
  'appliedIndex': (number);
}
