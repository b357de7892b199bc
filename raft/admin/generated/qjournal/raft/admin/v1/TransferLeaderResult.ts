// Original file: raft/admin/admin.proto


export interface TransferLeaderResult {
  'leaderId'?: (string);
}

export interface TransferLeaderResult__Output {
  'leaderId': (string);
}
