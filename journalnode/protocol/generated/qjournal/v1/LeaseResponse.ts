// Original file: journalnode/protocol/journal.proto

import type { LeaseResult as _qjournal_v1_LeaseResult, LeaseResult__Output as _qjournal_v1_LeaseResult__Output } from '../../qjournal/v1/LeaseResult.ts';
import type { JournalError as _qjournal_v1_JournalError, JournalError__Output as _qjournal_v1_JournalError__Output } from '../../qjournal/v1/JournalError.ts';

export interface LeaseResponse {
  'success'?: (_qjournal_v1_LeaseResult | null);
  'error'?: (_qjournal_v1_JournalError | null);
  'result'?: "success"|"error";
}

export interface LeaseResponse__Output {
  'success'?: (_qjournal_v1_LeaseResult__Output | null);
  'error'?: (_qjournal_v1_JournalError__Output | null);
  'result'?: "success"|"error";
}
