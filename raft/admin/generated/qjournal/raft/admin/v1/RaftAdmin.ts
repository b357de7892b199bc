// Original file: raft/admin/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddPeerRequest as _qjournal_raft_admin_v1_AddPeerRequest, AddPeerRequest__Output as _qjournal_raft_admin_v1_AddPeerRequest__Output } from '../../../../qjournal/raft/admin/v1/AddPeerRequest.ts';
import type { ChangePeersRequest as _qjournal_raft_admin_v1_ChangePeersRequest, ChangePeersRequest__Output as _qjournal_raft_admin_v1_ChangePeersRequest__Output } from '../../../../qjournal/raft/admin/v1/ChangePeersRequest.ts';
import type { ConfigurationResponse as _qjournal_raft_admin_v1_ConfigurationResponse, ConfigurationResponse__Output as _qjournal_raft_admin_v1_ConfigurationResponse__Output } from '../../../../qjournal/raft/admin/v1/ConfigurationResponse.ts';
import type { RemovePeerRequest as _qjournal_raft_admin_v1_RemovePeerRequest, RemovePeerRequest__Output as _qjournal_raft_admin_v1_RemovePeerRequest__Output } from '../../../../qjournal/raft/admin/v1/RemovePeerRequest.ts';
import type { ResetPeerRequest as _qjournal_raft_admin_v1_ResetPeerRequest, ResetPeerRequest__Output as _qjournal_raft_admin_v1_ResetPeerRequest__Output } from '../../../../qjournal/raft/admin/v1/ResetPeerRequest.ts';
import type { SnapshotRequest as _qjournal_raft_admin_v1_SnapshotRequest, SnapshotRequest__Output as _qjournal_raft_admin_v1_SnapshotRequest__Output } from '../../../../qjournal/raft/admin/v1/SnapshotRequest.ts';
import type { SnapshotResponse as _qjournal_raft_admin_v1_SnapshotResponse, SnapshotResponse__Output as _qjournal_raft_admin_v1_SnapshotResponse__Output } from '../../../../qjournal/raft/admin/v1/SnapshotResponse.ts';
import type { StatusRequest as _qjournal_raft_admin_v1_StatusRequest, StatusRequest__Output as _qjournal_raft_admin_v1_StatusRequest__Output } from '../../../../qjournal/raft/admin/v1/StatusRequest.ts';
import type { StatusResponse as _qjournal_raft_admin_v1_StatusResponse, StatusResponse__Output as _qjournal_raft_admin_v1_StatusResponse__Output } from '../../../../qjournal/raft/admin/v1/StatusResponse.ts';
import type { TransferLeaderRequest as _qjournal_raft_admin_v1_TransferLeaderRequest, TransferLeaderRequest__Output as _qjournal_raft_admin_v1_TransferLeaderRequest__Output } from '../../../../qjournal/raft/admin/v1/TransferLeaderRequest.ts';
import type { TransferLeaderResponse as _qjournal_raft_admin_v1_TransferLeaderResponse, TransferLeaderResponse__Output as _qjournal_raft_admin_v1_TransferLeaderResponse__Output } from '../../../../qjournal/raft/admin/v1/TransferLeaderResponse.ts';

export interface RaftAdminClient extends grpc.Client {
  /**
   * The peer joins as a learner and is promoted to voter once its log has caught up.
   */
  AddPeer(argument: _qjournal_raft_admin_v1_AddPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  AddPeer(argument: _qjournal_raft_admin_v1_AddPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  AddPeer(argument: _qjournal_raft_admin_v1_AddPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  AddPeer(argument: _qjournal_raft_admin_v1_AddPeerRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The peer joins as a learner and is promoted to voter once its log has caught up.
   */
  addPeer(argument: _qjournal_raft_admin_v1_AddPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _qjournal_raft_admin_v1_AddPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _qjournal_raft_admin_v1_AddPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _qjournal_raft_admin_v1_AddPeerRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Joint consensus: the voters become exactly `peers`.
   */
  ChangePeers(argument: _qjournal_raft_admin_v1_ChangePeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  ChangePeers(argument: _qjournal_raft_admin_v1_ChangePeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  ChangePeers(argument: _qjournal_raft_admin_v1_ChangePeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  ChangePeers(argument: _qjournal_raft_admin_v1_ChangePeersRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Joint consensus: the voters become exactly `peers`.
   */
  changePeers(argument: _qjournal_raft_admin_v1_ChangePeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  changePeers(argument: _qjournal_raft_admin_v1_ChangePeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  changePeers(argument: _qjournal_raft_admin_v1_ChangePeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  changePeers(argument: _qjournal_raft_admin_v1_ChangePeersRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  
  RemovePeer(argument: _qjournal_raft_admin_v1_RemovePeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  RemovePeer(argument: _qjournal_raft_admin_v1_RemovePeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  RemovePeer(argument: _qjournal_raft_admin_v1_RemovePeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  RemovePeer(argument: _qjournal_raft_admin_v1_RemovePeerRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  removePeer(argument: _qjournal_raft_admin_v1_RemovePeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  removePeer(argument: _qjournal_raft_admin_v1_RemovePeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  removePeer(argument: _qjournal_raft_admin_v1_RemovePeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  removePeer(argument: _qjournal_raft_admin_v1_RemovePeerRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  
  ResetPeer(argument: _qjournal_raft_admin_v1_ResetPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  ResetPeer(argument: _qjournal_raft_admin_v1_ResetPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  ResetPeer(argument: _qjournal_raft_admin_v1_ResetPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  ResetPeer(argument: _qjournal_raft_admin_v1_ResetPeerRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  resetPeer(argument: _qjournal_raft_admin_v1_ResetPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  resetPeer(argument: _qjournal_raft_admin_v1_ResetPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  resetPeer(argument: _qjournal_raft_admin_v1_ResetPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  resetPeer(argument: _qjournal_raft_admin_v1_ResetPeerRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_ConfigurationResponse__Output>): grpc.ClientUnaryCall;
  
  Snapshot(argument: _qjournal_raft_admin_v1_SnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  Snapshot(argument: _qjournal_raft_admin_v1_SnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  Snapshot(argument: _qjournal_raft_admin_v1_SnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  Snapshot(argument: _qjournal_raft_admin_v1_SnapshotRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  snapshot(argument: _qjournal_raft_admin_v1_SnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  snapshot(argument: _qjournal_raft_admin_v1_SnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  snapshot(argument: _qjournal_raft_admin_v1_SnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  snapshot(argument: _qjournal_raft_admin_v1_SnapshotRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _qjournal_raft_admin_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _qjournal_raft_admin_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _qjournal_raft_admin_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _qjournal_raft_admin_v1_StatusRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _qjournal_raft_admin_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _qjournal_raft_admin_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _qjournal_raft_admin_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _qjournal_raft_admin_v1_StatusRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  TransferLeader(argument: _qjournal_raft_admin_v1_TransferLeaderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  TransferLeader(argument: _qjournal_raft_admin_v1_TransferLeaderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  TransferLeader(argument: _qjournal_raft_admin_v1_TransferLeaderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  TransferLeader(argument: _qjournal_raft_admin_v1_TransferLeaderRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  transferLeader(argument: _qjournal_raft_admin_v1_TransferLeaderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  transferLeader(argument: _qjournal_raft_admin_v1_TransferLeaderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_admin_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  transferLeader(argument: _qjournal_raft_admin_v1_TransferLeaderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_admin_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  transferLeader(argument: _qjournal_raft_admin_v1_TransferLeaderRequest, callback: grpc.requestCallback<_qjournal_raft_admin_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface RaftAdminHandlers extends grpc.UntypedServiceImplementation {
  /**
   * The peer joins as a learner and is promoted to voter once its log has caught up.
   */
  AddPeer: grpc.handleUnaryCall<_qjournal_raft_admin_v1_AddPeerRequest__Output, _qjournal_raft_admin_v1_ConfigurationResponse>;
  
  /**
   * Joint consensus: the voters become exactly `peers`.
   */
  ChangePeers: grpc.handleUnaryCall<_qjournal_raft_admin_v1_ChangePeersRequest__Output, _qjournal_raft_admin_v1_ConfigurationResponse>;
  
  RemovePeer: grpc.handleUnaryCall<_qjournal_raft_admin_v1_RemovePeerRequest__Output, _qjournal_raft_admin_v1_ConfigurationResponse>;
  
  ResetPeer: grpc.handleUnaryCall<_qjournal_raft_admin_v1_ResetPeerRequest__Output, _qjournal_raft_admin_v1_ConfigurationResponse>;
  
  Snapshot: grpc.handleUnaryCall<_qjournal_raft_admin_v1_SnapshotRequest__Output, _qjournal_raft_admin_v1_SnapshotResponse>;
  
  Status: grpc.handleUnaryCall<_qjournal_raft_admin_v1_StatusRequest__Output, _qjournal_raft_admin_v1_StatusResponse>;
  
  TransferLeader: grpc.handleUnaryCall<_qjournal_raft_admin_v1_TransferLeaderRequest__Output, _qjournal_raft_admin_v1_TransferLeaderResponse>;
  
}

export interface RaftAdminDefinition extends grpc.ServiceDefinition {
  AddPeer: MethodDefinition<_qjournal_raft_admin_v1_AddPeerRequest, _qjournal_raft_admin_v1_ConfigurationResponse, _qjournal_raft_admin_v1_AddPeerRequest__Output, _qjournal_raft_admin_v1_ConfigurationResponse__Output>
  ChangePeers: MethodDefinition<_qjournal_raft_admin_v1_ChangePeersRequest, _qjournal_raft_admin_v1_ConfigurationResponse, _qjournal_raft_admin_v1_ChangePeersRequest__Output, _qjournal_raft_admin_v1_ConfigurationResponse__Output>
  RemovePeer: MethodDefinition<_qjournal_raft_admin_v1_RemovePeerRequest, _qjournal_raft_admin_v1_ConfigurationResponse, _qjournal_raft_admin_v1_RemovePeerRequest__Output, _qjournal_raft_admin_v1_ConfigurationResponse__Output>
  ResetPeer: MethodDefinition<_qjournal_raft_admin_v1_ResetPeerRequest, _qjournal_raft_admin_v1_ConfigurationResponse, _qjournal_raft_admin_v1_ResetPeerRequest__Output, _qjournal_raft_admin_v1_ConfigurationResponse__Output>
  Snapshot: MethodDefinition<_qjournal_raft_admin_v1_SnapshotRequest, _qjournal_raft_admin_v1_SnapshotResponse, _qjournal_raft_admin_v1_SnapshotRequest__Output, _qjournal_raft_admin_v1_SnapshotResponse__Output>
  Status: MethodDefinition<_qjournal_raft_admin_v1_StatusRequest, _qjournal_raft_admin_v1_StatusResponse, _qjournal_raft_admin_v1_StatusRequest__Output, _qjournal_raft_admin_v1_StatusResponse__Output>
  TransferLeader: MethodDefinition<_qjournal_raft_admin_v1_TransferLeaderRequest, _qjournal_raft_admin_v1_TransferLeaderResponse, _qjournal_raft_admin_v1_TransferLeaderRequest__Output, _qjournal_raft_admin_v1_TransferLeaderResponse__Output>
}
