// Original file: journalnode/protocol/journal.proto

import type { SegmentInfo as _qjournal_v1_SegmentInfo, SegmentInfo__Output as _qjournal_v1_SegmentInfo__Output } from '../../qjournal/v1/SegmentInfo.ts';

export interface StartSegmentResult {
  'segment'?: (_qjournal_v1_SegmentInfo | null);
  /**
   * True when this exact segment was already open and empty (a retried StartSegment).
   */
  'duplicate'?: (boolean);
}

export interface StartSegmentResult__Output {
  'segment': (_qjournal_v1_SegmentInfo__Output | null);
  /**
   * True when this exact segment was already open and empty (a retried StartSegment).
   */
  'duplicate': (boolean);
}
