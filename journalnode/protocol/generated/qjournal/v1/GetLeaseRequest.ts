// Original file: journalnode/protocol/journal.proto


export interface GetLeaseRequest {
  'journalId'?: (string);
  'leaseName'?: (string);
}

export interface GetLeaseRequest__Output {
  'journalId': (string);
  'leaseName': (string);
}
