// Original file: journalnode/protocol/journal.proto

import type { EditLogManifest as _qjournal_v1_EditLogManifest, EditLogManifest__Output as _qjournal_v1_EditLogManifest__Output } from '../../qjournal/v1/EditLogManifest.ts';
import type { JournalError as _qjournal_v1_JournalError, JournalError__Output as _qjournal_v1_JournalError__Output } from '../../qjournal/v1/JournalError.ts';

export interface GetEditLogManifestResponse {
  'success'?: (_qjournal_v1_EditLogManifest | null);
  'error'?: (_qjournal_v1_JournalError | null);
  'result'?: "success"|"error";
}

export interface GetEditLogManifestResponse__Output {
  'success'?: (_qjournal_v1_EditLogManifest__Output | null);
  'error'?: (_qjournal_v1_JournalError__Output | null);
  'result'?: "success"|"error";
}
