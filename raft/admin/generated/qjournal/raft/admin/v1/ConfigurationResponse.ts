// Original file: raft/admin/admin.proto

import type { Configuration as _qjournal_raft_admin_v1_Configuration, Configuration__Output as _qjournal_raft_admin_v1_Configuration__Output } from '../../../../qjournal/raft/admin/v1/Configuration.ts';
import type { AdminError as _qjournal_raft_admin_v1_AdminError, AdminError__Output as _qjournal_raft_admin_v1_AdminError__Output } from '../../../../qjournal/raft/admin/v1/AdminError.ts';

export interface ConfigurationResponse {
  'success'?: (_qjournal_raft_admin_v1_Configuration | null);
  'error'?: (_qjournal_raft_admin_v1_AdminError | null);
  'result'?: "success"|"error";
}

export interface ConfigurationResponse__Output {
  'success'?: (_qjournal_raft_admin_v1_Configuration__Output | null);
  'error'?: (_qjournal_raft_admin_v1_AdminError__Output | null);
  'result'?: "success"|"error";
}
