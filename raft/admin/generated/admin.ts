import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddPeerRequest as _qjournal_raft_admin_v1_AddPeerRequest, AddPeerRequest__Output as _qjournal_raft_admin_v1_AddPeerRequest__Output } from './qjournal/raft/admin/v1/AddPeerRequest.ts';
import type { AdminError as _qjournal_raft_admin_v1_AdminError, AdminError__Output as _qjournal_raft_admin_v1_AdminError__Output } from './qjournal/raft/admin/v1/AdminError.ts';
import type { ChangePeersRequest as _qjournal_raft_admin_v1_ChangePeersRequest, ChangePeersRequest__Output as _qjournal_raft_admin_v1_ChangePeersRequest__Output } from './qjournal/raft/admin/v1/ChangePeersRequest.ts';
import type { Configuration as _qjournal_raft_admin_v1_Configuration, Configuration__Output as _qjournal_raft_admin_v1_Configuration__Output } from './qjournal/raft/admin/v1/Configuration.ts';
import type { ConfigurationResponse as _qjournal_raft_admin_v1_ConfigurationResponse, ConfigurationResponse__Output as _qjournal_raft_admin_v1_ConfigurationResponse__Output } from './qjournal/raft/admin/v1/ConfigurationResponse.ts';
import type { NodeStatus as _qjournal_raft_admin_v1_NodeStatus, NodeStatus__Output as _qjournal_raft_admin_v1_NodeStatus__Output } from './qjournal/raft/admin/v1/NodeStatus.ts';
import type { Peer as _qjournal_raft_admin_v1_Peer, Peer__Output as _qjournal_raft_admin_v1_Peer__Output } from './qjournal/raft/admin/v1/Peer.ts';
import type { PeerProgress as _qjournal_raft_admin_v1_PeerProgress, PeerProgress__Output as _qjournal_raft_admin_v1_PeerProgress__Output } from './qjournal/raft/admin/v1/PeerProgress.ts';
import type { RaftAdminClient as _qjournal_raft_admin_v1_RaftAdminClient, RaftAdminDefinition as _qjournal_raft_admin_v1_RaftAdminDefinition } from './qjournal/raft/admin/v1/RaftAdmin.ts';
import type { RemovePeerRequest as _qjournal_raft_admin_v1_RemovePeerRequest, RemovePeerRequest__Output as _qjournal_raft_admin_v1_RemovePeerRequest__Output } from './qjournal/raft/admin/v1/RemovePeerRequest.ts';
import type { ResetPeerRequest as _qjournal_raft_admin_v1_ResetPeerRequest, ResetPeerRequest__Output as _qjournal_raft_admin_v1_ResetPeerRequest__Output } from './qjournal/raft/admin/v1/ResetPeerRequest.ts';
import type { SnapshotRequest as _qjournal_raft_admin_v1_SnapshotRequest, SnapshotRequest__Output as _qjournal_raft_admin_v1_SnapshotRequest__Output } from './qjournal/raft/admin/v1/SnapshotRequest.ts';
import type { SnapshotResponse as _qjournal_raft_admin_v1_SnapshotResponse, SnapshotResponse__Output as _qjournal_raft_admin_v1_SnapshotResponse__Output } from './qjournal/raft/admin/v1/SnapshotResponse.ts';
import type { SnapshotResult as _qjournal_raft_admin_v1_SnapshotResult, SnapshotResult__Output as _qjournal_raft_admin_v1_SnapshotResult__Output } from './qjournal/raft/admin/v1/SnapshotResult.ts';
import type { StatusRequest as _qjournal_raft_admin_v1_StatusRequest, StatusRequest__Output as _qjournal_raft_admin_v1_StatusRequest__Output } from './qjournal/raft/admin/v1/StatusRequest.ts';
import type { StatusResponse as _qjournal_raft_admin_v1_StatusResponse, StatusResponse__Output as _qjournal_raft_admin_v1_StatusResponse__Output } from './qjournal/raft/admin/v1/StatusResponse.ts';
import type { TransferLeaderRequest as _qjournal_raft_admin_v1_TransferLeaderRequest, TransferLeaderRequest__Output as _qjournal_raft_admin_v1_TransferLeaderRequest__Output } from './qjournal/raft/admin/v1/TransferLeaderRequest.ts';
import type { TransferLeaderResponse as _qjournal_raft_admin_v1_TransferLeaderResponse, TransferLeaderResponse__Output as _qjournal_raft_admin_v1_TransferLeaderResponse__Output } from './qjournal/raft/admin/v1/TransferLeaderResponse.ts';
import type { TransferLeaderResult as _qjournal_raft_admin_v1_TransferLeaderResult, TransferLeaderResult__Output as _qjournal_raft_admin_v1_TransferLeaderResult__Output } from './qjournal/raft/admin/v1/TransferLeaderResult.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  qjournal: {
    raft: {
      admin: {
        v1: {
          AddPeerRequest: MessageTypeDefinition<_qjournal_raft_admin_v1_AddPeerRequest, _qjournal_raft_admin_v1_AddPeerRequest__Output>
          AdminError: MessageTypeDefinition<_qjournal_raft_admin_v1_AdminError, _qjournal_raft_admin_v1_AdminError__Output>
          AdminErrorCode: EnumTypeDefinition
          ChangePeersRequest: MessageTypeDefinition<_qjournal_raft_admin_v1_ChangePeersRequest, _qjournal_raft_admin_v1_ChangePeersRequest__Output>
          Configuration: MessageTypeDefinition<_qjournal_raft_admin_v1_Configuration, _qjournal_raft_admin_v1_Configuration__Output>
          ConfigurationResponse: MessageTypeDefinition<_qjournal_raft_admin_v1_ConfigurationResponse, _qjournal_raft_admin_v1_ConfigurationResponse__Output>
          NodeStatus: MessageTypeDefinition<_qjournal_raft_admin_v1_NodeStatus, _qjournal_raft_admin_v1_NodeStatus__Output>
          Peer: MessageTypeDefinition<_qjournal_raft_admin_v1_Peer, _qjournal_raft_admin_v1_Peer__Output>
          PeerProgress: MessageTypeDefinition<_qjournal_raft_admin_v1_PeerProgress, _qjournal_raft_admin_v1_PeerProgress__Output>
          RaftAdmin: SubtypeConstructor<typeof grpc.Client, _qjournal_raft_admin_v1_RaftAdminClient> & { service: _qjournal_raft_admin_v1_RaftAdminDefinition }
          RemovePeerRequest: MessageTypeDefinition<_qjournal_raft_admin_v1_RemovePeerRequest, _qjournal_raft_admin_v1_RemovePeerRequest__Output>
          ResetPeerRequest: MessageTypeDefinition<_qjournal_raft_admin_v1_ResetPeerRequest, _qjournal_raft_admin_v1_ResetPeerRequest__Output>
          SnapshotRequest: MessageTypeDefinition<_qjournal_raft_admin_v1_SnapshotRequest, _qjournal_raft_admin_v1_SnapshotRequest__Output>
          SnapshotResponse: MessageTypeDefinition<_qjournal_raft_admin_v1_SnapshotResponse, _qjournal_raft_admin_v1_SnapshotResponse__Output>
          SnapshotResult: MessageTypeDefinition<_qjournal_raft_admin_v1_SnapshotResult, _qjournal_raft_admin_v1_SnapshotResult__Output>
          StatusRequest: MessageTypeDefinition<_qjournal_raft_admin_v1_StatusRequest, _qjournal_raft_admin_v1_StatusRequest__Output>
          StatusResponse: MessageTypeDefinition<_qjournal_raft_admin_v1_StatusResponse, _qjournal_raft_admin_v1_StatusResponse__Output>
          TransferLeaderRequest: MessageTypeDefinition<_qjournal_raft_admin_v1_TransferLeaderRequest, _qjournal_raft_admin_v1_TransferLeaderRequest__Output>
          TransferLeaderResponse: MessageTypeDefinition<_qjournal_raft_admin_v1_TransferLeaderResponse, _qjournal_raft_admin_v1_TransferLeaderResponse__Output>
          TransferLeaderResult: MessageTypeDefinition<_qjournal_raft_admin_v1_TransferLeaderResult, _qjournal_raft_admin_v1_TransferLeaderResult__Output>
        }
      }
    }
  }
}

