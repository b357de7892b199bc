// Original file: raft/admin/admin.proto

import type { AdminErrorCode as _qjournal_raft_admin_v1_AdminErrorCode, AdminErrorCode__Output as _qjournal_raft_admin_v1_AdminErrorCode__Output } from '../../../../qjournal/raft/admin/v1/AdminErrorCode.ts';

export interface AdminError {
  'code'?: (_qjournal_raft_admin_v1_AdminErrorCode);
  'message'?: (string);
  /**
   * NOT_LEADER: the leader's host:port, empty when unknown.
   */
  'leaderHint'?: (string);
  'retryable'?: (boolean);
}

export interface AdminError__Output {
  'code': (_qjournal_raft_admin_v1_AdminErrorCode__Output);
  'message': (string);
  /**
   * NOT_LEADER: the leader's host:port, empty when unknown.
   */
  'leaderHint': (string);
  'retryable': (boolean);
}
