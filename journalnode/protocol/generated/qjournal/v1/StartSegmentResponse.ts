// Original file: journalnode/protocol/journal.proto

import type { StartSegmentResult as _qjournal_v1_StartSegmentResult, StartSegmentResult__Output as _qjournal_v1_StartSegmentResult__Output } from '../../qjournal/v1/StartSegmentResult.ts';
import type { JournalError as _qjournal_v1_JournalError, JournalError__Output as _qjournal_v1_JournalError__Output } from '../../qjournal/v1/JournalError.ts';

export interface StartSegmentResponse {
  'success'?: (_qjournal_v1_StartSegmentResult | null);
  'error'?: (_qjournal_v1_JournalError | null);
  'result'?: "success"|"error";
}

export interface StartSegmentResponse__Output {
  'success'?: (_qjournal_v1_StartSegmentResult__Output | null);
  'error'?: (_qjournal_v1_JournalError__Output | null);
  'result'?: "success"|"error";
}
