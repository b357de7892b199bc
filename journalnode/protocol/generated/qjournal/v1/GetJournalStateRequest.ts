// Original file: journalnode/protocol/journal.proto


export interface GetJournalStateRequest {
  'journalId'?: (string);
}

export interface GetJournalStateRequest__Output {
  'journalId': (string);
}
