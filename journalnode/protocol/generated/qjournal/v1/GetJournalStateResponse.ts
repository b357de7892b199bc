// Original file: journalnode/protocol/journal.proto

import type { JournalState as _qjournal_v1_JournalState, JournalState__Output as _qjournal_v1_JournalState__Output } from '../../qjournal/v1/JournalState.ts';
import type { JournalError as _qjournal_v1_JournalError, JournalError__Output as _qjournal_v1_JournalError__Output } from '../../qjournal/v1/JournalError.ts';

export interface GetJournalStateResponse {
  'success'?: (_qjournal_v1_JournalState | null);
  'error'?: (_qjournal_v1_JournalError | null);
  'result'?: "success"|"error";
}

export interface GetJournalStateResponse__Output {
  'success'?: (_qjournal_v1_JournalState__Output | null);
  'error'?: (_qjournal_v1_JournalError__Output | null);
  'result'?: "success"|"error";
}
