// Original file: journalnode/protocol/journal.proto

import type { SegmentInfo as _qjournal_v1_SegmentInfo, SegmentInfo__Output as _qjournal_v1_SegmentInfo__Output } from '../../qjournal/v1/SegmentInfo.ts';
import type { Long } from '@grpc/proto-loader';

export interface NewEpochResult {
  /**
   * The last segment of the journal (absent when it holds none). When in_progress, the new
   * writer recovers it by Finalize(first_tx_id, last_tx_id).
   */
  'lastSegment'?: (_qjournal_v1_SegmentInfo | null);
  'lastTxId'?: (number | string | Long);
  'promisedEpoch'?: (number | string | Long);
}

export interface NewEpochResult__Output {
  /**
   * The last segment of the journal (absent when it holds none). When in_progress, the new
   * writer recovers it by Finalize(first_tx_id, last_tx_id).
   */
  'lastSegment': (_qjournal_v1_SegmentInfo__Output | null);
  'lastTxId': (number);
  'promisedEpoch': (number);
}
