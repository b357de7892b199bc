// Original file: journalnode/protocol/journal.proto

import type { NewEpochResult as _qjournal_v1_NewEpochResult, NewEpochResult__Output as _qjournal_v1_NewEpochResult__Output } from '../../qjournal/v1/NewEpochResult.ts';
import type { JournalError as _qjournal_v1_JournalError, JournalError__Output as _qjournal_v1_JournalError__Output } from '../../qjournal/v1/JournalError.ts';

export interface NewEpochResponse {
  'success'?: (_qjournal_v1_NewEpochResult | null);
  'error'?: (_qjournal_v1_JournalError | null);
  'result'?: "success"|"error";
}

export interface NewEpochResponse__Output {
  'success'?: (_qjournal_v1_NewEpochResult__Output | null);
  'error'?: (_qjournal_v1_JournalError__Output | null);
  'result'?: "success"|"error";
}
