// Original file: journalnode/protocol/journal.proto

import type { PurgeResult as _qjournal_v1_PurgeResult, PurgeResult__Output as _qjournal_v1_PurgeResult__Output } from '../../qjournal/v1/PurgeResult.ts';
import type { JournalError as _qjournal_v1_JournalError, JournalError__Output as _qjournal_v1_JournalError__Output } from '../../qjournal/v1/JournalError.ts';

export interface PurgeResponse {
  'success'?: (_qjournal_v1_PurgeResult | null);
  'error'?: (_qjournal_v1_JournalError | null);
  'result'?: "success"|"error";
}

export interface PurgeResponse__Output {
  'success'?: (_qjournal_v1_PurgeResult__Output | null);
  'error'?: (_qjournal_v1_JournalError__Output | null);
  'result'?: "success"|"error";
}
