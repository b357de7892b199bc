// Original file: raft/admin/admin.proto

import type { Configuration as _qjournal_raft_admin_v1_Configuration, Configuration__Output as _qjournal_raft_admin_v1_Configuration__Output } from '../../../../qjournal/raft/admin/v1/Configuration.ts';
import type { PeerProgress as _qjournal_raft_admin_v1_PeerProgress, PeerProgress__Output as _qjournal_raft_admin_v1_PeerProgress__Output } from '../../../../qjournal/raft/admin/v1/PeerProgress.ts';
import type { Long } from '@grpc/proto-loader';

export interface NodeStatus {
  'id'?: (string);
  'groupId'?: (string);
  'role'?: (string);
  'term'?: (number | string | Long);
  'vote'?: (string);
  'leaderId'?: (string);
  'leaderAddress'?: (string);
  'commit'?: (number | string | Long);
  'applied'?: (number | string | Long);
  'lastIndex'?: (number | string | Long);
  'snapshotIndex'?: (number | string | Long);
  'configuration'?: (_qjournal_raft_admin_v1_Configuration | null);
  /**
   * The leader's view of each follower (empty on followers).
   */
  'progress'?: (_qjournal_raft_admin_v1_PeerProgress)[];
  'leadTransferee'?: (string);
  'fsyncs'?: (number | string | Long);
}

export interface NodeStatus__Output {
  'id': (string);
  'groupId': (string);
  'role': (string);
  'term': (number);
  'vote': (string);
  'leaderId': (string);
  'leaderAddress': (string);
  'commit': (number);
  'applied': (number);
  'lastIndex': (number);
  'snapshotIndex': (number);
  'configuration': (_qjournal_raft_admin_v1_Configuration__Output | null);
  /**
   * The leader's view of each follower (empty on followers).
   */
  'progress': (_qjournal_raft_admin_v1_PeerProgress__Output)[];
  'leadTransferee': (string);
  'fsyncs': (number);
}
