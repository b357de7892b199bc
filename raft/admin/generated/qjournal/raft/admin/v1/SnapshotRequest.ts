// Original file: raft/admin/admin.proto


export interface SnapshotRequest {
  'groupId'?: (string);
}

export interface SnapshotRequest__Output {
  'groupId': (string);
}
