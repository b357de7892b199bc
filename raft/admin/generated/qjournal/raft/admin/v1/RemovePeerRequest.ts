// Original file: raft/admin/admin.proto


export interface RemovePeerRequest {
  'groupId'?: (string);
  'id'?: (string);
}

export interface RemovePeerRequest__Output {
  'groupId': (string);
  'id': (string);
}
