// Original file: journalnode/protocol/journal.proto

import type { SegmentInfo as _qjournal_v1_SegmentInfo, SegmentInfo__Output as _qjournal_v1_SegmentInfo__Output } from '../../qjournal/v1/SegmentInfo.ts';

export interface FinalizeResult {
  /**
   * The finalized segment (absent when an empty segment was dropped).
   */
  'segment'?: (_qjournal_v1_SegmentInfo | null);
  /**
   * True when the segment was already finalized with the same txids (a retried Finalize).
   */
  'alreadyFinalized'?: (boolean);
  /**
   * True when the segment was empty and has been deleted.
   */
  'dropped'?: (boolean);
}

export interface FinalizeResult__Output {
  /**
   * The finalized segment (absent when an empty segment was dropped).
   */
  'segment': (_qjournal_v1_SegmentInfo__Output | null);
  /**
   * True when the segment was already finalized with the same txids (a retried Finalize).
   */
  'alreadyFinalized': (boolean);
  /**
   * True when the segment was empty and has been deleted.
   */
  'dropped': (boolean);
}
