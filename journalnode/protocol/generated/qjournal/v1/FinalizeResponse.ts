// Original file: journalnode/protocol/journal.proto

import type { FinalizeResult as _qjournal_v1_FinalizeResult, FinalizeResult__Output as _qjournal_v1_FinalizeResult__Output } from '../../qjournal/v1/FinalizeResult.ts';
import type { JournalError as _qjournal_v1_JournalError, JournalError__Output as _qjournal_v1_JournalError__Output } from '../../qjournal/v1/JournalError.ts';

export interface FinalizeResponse {
  'success'?: (_qjournal_v1_FinalizeResult | null);
  'error'?: (_qjournal_v1_JournalError | null);
  'result'?: "success"|"error";
}

export interface FinalizeResponse__Output {
  'success'?: (_qjournal_v1_FinalizeResult__Output | null);
  'error'?: (_qjournal_v1_JournalError__Output | null);
  'result'?: "success"|"error";
}
