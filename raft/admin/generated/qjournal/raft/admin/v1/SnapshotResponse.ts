// Original file: raft/admin/admin.proto

import type { SnapshotResult as _qjournal_raft_admin_v1_SnapshotResult, SnapshotResult__Output as _qjournal_raft_admin_v1_SnapshotResult__Output } from '../../../../qjournal/raft/admin/v1/SnapshotResult.ts';
import type { AdminError as _qjournal_raft_admin_v1_AdminError, AdminError__Output as _qjournal_raft_admin_v1_AdminError__Output } from '../../../../qjournal/raft/admin/v1/AdminError.ts';

export interface SnapshotResponse {
  'success'?: (_qjournal_raft_admin_v1_SnapshotResult | null);
  'error'?: (_qjournal_raft_admin_v1_AdminError | null);
  'result'?: "success"|"error";
}

export interface SnapshotResponse__Output {
  'success'?: (_qjournal_raft_admin_v1_SnapshotResult__Output | null);
  'error'?: (_qjournal_raft_admin_v1_AdminError__Output | null);
  'result'?: "success"|"error";
}
