// Original file: raft/admin/admin.proto


export interface StatusRequest {
  'groupId'?: (string);
}

export interface StatusRequest__Output {
  'groupId': (string);
}
