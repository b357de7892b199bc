// Original file: journalnode/protocol/journal.proto

import type { JournalResult as _qjournal_v1_JournalResult, JournalResult__Output as _qjournal_v1_JournalResult__Output } from '../../qjournal/v1/JournalResult.ts';
import type { JournalError as _qjournal_v1_JournalError, JournalError__Output as _qjournal_v1_JournalError__Output } from '../../qjournal/v1/JournalError.ts';
import type { Long } from '@grpc/proto-loader';

export interface JournalResponse {
  'sequence'?: (number | string | Long);
  'success'?: (_qjournal_v1_JournalResult | null);
  'error'?: (_qjournal_v1_JournalError | null);
  'result'?: "success"|"error";
}

export interface JournalResponse__Output {
  'sequence': (number);
  'success'?: (_qjournal_v1_JournalResult__Output | null);
  'error'?: (_qjournal_v1_JournalError__Output | null);
  'result'?: "success"|"error";
}
