// Original file: raft/admin/admin.proto

import type { NodeStatus as _qjournal_raft_admin_v1_NodeStatus, NodeStatus__Output as _qjournal_raft_admin_v1_NodeStatus__Output } from '../../../../qjournal/raft/admin/v1/NodeStatus.ts';
import type { AdminError as _qjournal_raft_admin_v1_AdminError, AdminError__Output as _qjournal_raft_admin_v1_AdminError__Output } from '../../../../qjournal/raft/admin/v1/AdminError.ts';

export interface StatusResponse {
  'success'?: (_qjournal_raft_admin_v1_NodeStatus | null);
  'error'?: (_qjournal_raft_admin_v1_AdminError | null);
  'result'?: "success"|"error";
}

export interface StatusResponse__Output {
  'success'?: (_qjournal_raft_admin_v1_NodeStatus__Output | null);
  'error'?: (_qjournal_raft_admin_v1_AdminError__Output | null);
  'result'?: "success"|"error";
}
