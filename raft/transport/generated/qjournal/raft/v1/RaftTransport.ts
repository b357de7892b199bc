// Original file: raft/transport/raft.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { InstallSnapshotResult as _qjournal_raft_v1_InstallSnapshotResult, InstallSnapshotResult__Output as _qjournal_raft_v1_InstallSnapshotResult__Output } from '../../../qjournal/raft/v1/InstallSnapshotResult.ts';
import type { SnapshotChunk as _qjournal_raft_v1_SnapshotChunk, SnapshotChunk__Output as _qjournal_raft_v1_SnapshotChunk__Output } from '../../../qjournal/raft/v1/SnapshotChunk.ts';
import type { SnapshotOffsetsRequest as _qjournal_raft_v1_SnapshotOffsetsRequest, SnapshotOffsetsRequest__Output as _qjournal_raft_v1_SnapshotOffsetsRequest__Output } from '../../../qjournal/raft/v1/SnapshotOffsetsRequest.ts';
import type { SnapshotOffsetsResponse as _qjournal_raft_v1_SnapshotOffsetsResponse, SnapshotOffsetsResponse__Output as _qjournal_raft_v1_SnapshotOffsetsResponse__Output } from '../../../qjournal/raft/v1/SnapshotOffsetsResponse.ts';

export interface RaftTransportClient extends grpc.Client {
  /**
   * Header first, then file chunks; the receiver publishes the file set, then steps the MSG_SNAP.
   */
  InstallSnapshot(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_v1_InstallSnapshotResult__Output>): grpc.ClientWritableStream<_qjournal_raft_v1_SnapshotChunk>;
  InstallSnapshot(metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_v1_InstallSnapshotResult__Output>): grpc.ClientWritableStream<_qjournal_raft_v1_SnapshotChunk>;
  InstallSnapshot(options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_v1_InstallSnapshotResult__Output>): grpc.ClientWritableStream<_qjournal_raft_v1_SnapshotChunk>;
  InstallSnapshot(callback: grpc.requestCallback<_qjournal_raft_v1_InstallSnapshotResult__Output>): grpc.ClientWritableStream<_qjournal_raft_v1_SnapshotChunk>;
  /**
   * Header first, then file chunks; the receiver publishes the file set, then steps the MSG_SNAP.
   */
  installSnapshot(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_v1_InstallSnapshotResult__Output>): grpc.ClientWritableStream<_qjournal_raft_v1_SnapshotChunk>;
  installSnapshot(metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_v1_InstallSnapshotResult__Output>): grpc.ClientWritableStream<_qjournal_raft_v1_SnapshotChunk>;
  installSnapshot(options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_v1_InstallSnapshotResult__Output>): grpc.ClientWritableStream<_qjournal_raft_v1_SnapshotChunk>;
  installSnapshot(callback: grpc.requestCallback<_qjournal_raft_v1_InstallSnapshotResult__Output>): grpc.ClientWritableStream<_qjournal_raft_v1_SnapshotChunk>;
  
  /**
   * How much of a snapshot's file set the receiver already holds (resumption).
   */
  SnapshotOffsets(argument: _qjournal_raft_v1_SnapshotOffsetsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_v1_SnapshotOffsetsResponse__Output>): grpc.ClientUnaryCall;
  SnapshotOffsets(argument: _qjournal_raft_v1_SnapshotOffsetsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_v1_SnapshotOffsetsResponse__Output>): grpc.ClientUnaryCall;
  SnapshotOffsets(argument: _qjournal_raft_v1_SnapshotOffsetsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_v1_SnapshotOffsetsResponse__Output>): grpc.ClientUnaryCall;
  SnapshotOffsets(argument: _qjournal_raft_v1_SnapshotOffsetsRequest, callback: grpc.requestCallback<_qjournal_raft_v1_SnapshotOffsetsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * How much of a snapshot's file set the receiver already holds (resumption).
   */
  snapshotOffsets(argument: _qjournal_raft_v1_SnapshotOffsetsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_v1_SnapshotOffsetsResponse__Output>): grpc.ClientUnaryCall;
  snapshotOffsets(argument: _qjournal_raft_v1_SnapshotOffsetsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_raft_v1_SnapshotOffsetsResponse__Output>): grpc.ClientUnaryCall;
  snapshotOffsets(argument: _qjournal_raft_v1_SnapshotOffsetsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_raft_v1_SnapshotOffsetsResponse__Output>): grpc.ClientUnaryCall;
  snapshotOffsets(argument: _qjournal_raft_v1_SnapshotOffsetsRequest, callback: grpc.requestCallback<_qjournal_raft_v1_SnapshotOffsetsResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface RaftTransportHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Header first, then file chunks; the receiver publishes the file set, then steps the MSG_SNAP.
   */
  InstallSnapshot: grpc.handleClientStreamingCall<_qjournal_raft_v1_SnapshotChunk__Output, _qjournal_raft_v1_InstallSnapshotResult>;
  
  /**
   * How much of a snapshot's file set the receiver already holds (resumption).
   */
  SnapshotOffsets: grpc.handleUnaryCall<_qjournal_raft_v1_SnapshotOffsetsRequest__Output, _qjournal_raft_v1_SnapshotOffsetsResponse>;
  
}

export interface RaftTransportDefinition extends grpc.ServiceDefinition {
  InstallSnapshot: MethodDefinition<_qjournal_raft_v1_SnapshotChunk, _qjournal_raft_v1_InstallSnapshotResult, _qjournal_raft_v1_SnapshotChunk__Output, _qjournal_raft_v1_InstallSnapshotResult__Output>
  SnapshotOffsets: MethodDefinition<_qjournal_raft_v1_SnapshotOffsetsRequest, _qjournal_raft_v1_SnapshotOffsetsResponse, _qjournal_raft_v1_SnapshotOffsetsRequest__Output, _qjournal_raft_v1_SnapshotOffsetsResponse__Output>
}
