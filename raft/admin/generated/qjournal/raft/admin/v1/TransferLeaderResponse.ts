// Original file: raft/admin/admin.proto

import type { TransferLeaderResult as _qjournal_raft_admin_v1_TransferLeaderResult, TransferLeaderResult__Output as _qjournal_raft_admin_v1_TransferLeaderResult__Output } from '../../../../qjournal/raft/admin/v1/TransferLeaderResult.ts';
import type { AdminError as _qjournal_raft_admin_v1_AdminError, AdminError__Output as _qjournal_raft_admin_v1_AdminError__Output } from '../../../../qjournal/raft/admin/v1/AdminError.ts';

export interface TransferLeaderResponse {
  'success'?: (_qjournal_raft_admin_v1_TransferLeaderResult | null);
  'error'?: (_qjournal_raft_admin_v1_AdminError | null);
  'result'?: "success"|"error";
}

export interface TransferLeaderResponse__Output {
  'success'?: (_qjournal_raft_admin_v1_TransferLeaderResult__Output | null);
  'error'?: (_qjournal_raft_admin_v1_AdminError__Output | null);
  'result'?: "success"|"error";
}
