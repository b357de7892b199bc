// Original file: journalnode/protocol/journal.proto

import type { JournaledEdits as _qjournal_v1_JournaledEdits, JournaledEdits__Output as _qjournal_v1_JournaledEdits__Output } from '../../qjournal/v1/JournaledEdits.ts';
import type { JournalError as _qjournal_v1_JournalError, JournalError__Output as _qjournal_v1_JournalError__Output } from '../../qjournal/v1/JournalError.ts';

export interface GetJournaledEditsResponse {
  'success'?: (_qjournal_v1_JournaledEdits | null);
  'error'?: (_qjournal_v1_JournalError | null);
  'result'?: "success"|"error";
}

export interface GetJournaledEditsResponse__Output {
  'success'?: (_qjournal_v1_JournaledEdits__Output | null);
  'error'?: (_qjournal_v1_JournalError__Output | null);
  'result'?: "success"|"error";
}
