// Original file: journalnode/protocol/journal.proto

import type { SegmentInfo as _qjournal_v1_SegmentInfo, SegmentInfo__Output as _qjournal_v1_SegmentInfo__Output } from '../../qjournal/v1/SegmentInfo.ts';
import type { Long } from '@grpc/proto-loader';

export interface EditLogManifest {
  /**
   * Ascending by first_tx_id; the in-progress segment, if any, is last.
   */
  'segments'?: (_qjournal_v1_SegmentInfo)[];
  'lastTxId'?: (number | string | Long);
}

export interface EditLogManifest__Output {
  /**
   * Ascending by first_tx_id; the in-progress segment, if any, is last.
   */
  'segments': (_qjournal_v1_SegmentInfo__Output)[];
  'lastTxId': (number);
}
