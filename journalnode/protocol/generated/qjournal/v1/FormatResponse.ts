// Original file: journalnode/protocol/journal.proto

import type { FormatResult as _qjournal_v1_FormatResult, FormatResult__Output as _qjournal_v1_FormatResult__Output } from '../../qjournal/v1/FormatResult.ts';
import type { JournalError as _qjournal_v1_JournalError, JournalError__Output as _qjournal_v1_JournalError__Output } from '../../qjournal/v1/JournalError.ts';

export interface FormatResponse {
  'success'?: (_qjournal_v1_FormatResult | null);
  'error'?: (_qjournal_v1_JournalError | null);
  'result'?: "success"|"error";
}

export interface FormatResponse__Output {
  'success'?: (_qjournal_v1_FormatResult__Output | null);
  'error'?: (_qjournal_v1_JournalError__Output | null);
  'result'?: "success"|"error";
}
