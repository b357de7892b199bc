import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ConfState as _qjournal_raft_v1_ConfState, ConfState__Output as _qjournal_raft_v1_ConfState__Output } from './qjournal/raft/v1/ConfState.ts';
import type { Entry as _qjournal_raft_v1_Entry, Entry__Output as _qjournal_raft_v1_Entry__Output } from './qjournal/raft/v1/Entry.ts';
import type { FileChunk as _qjournal_raft_v1_FileChunk, FileChunk__Output as _qjournal_raft_v1_FileChunk__Output } from './qjournal/raft/v1/FileChunk.ts';
import type { FileOffset as _qjournal_raft_v1_FileOffset, FileOffset__Output as _qjournal_raft_v1_FileOffset__Output } from './qjournal/raft/v1/FileOffset.ts';
import type { InstallSnapshotResult as _qjournal_raft_v1_InstallSnapshotResult, InstallSnapshotResult__Output as _qjournal_raft_v1_InstallSnapshotResult__Output } from './qjournal/raft/v1/InstallSnapshotResult.ts';
import type { Message as _qjournal_raft_v1_Message, Message__Output as _qjournal_raft_v1_Message__Output } from './qjournal/raft/v1/Message.ts';
import type { RaftTransportClient as _qjournal_raft_v1_RaftTransportClient, RaftTransportDefinition as _qjournal_raft_v1_RaftTransportDefinition } from './qjournal/raft/v1/RaftTransport.ts';
import type { Snapshot as _qjournal_raft_v1_Snapshot, Snapshot__Output as _qjournal_raft_v1_Snapshot__Output } from './qjournal/raft/v1/Snapshot.ts';
import type { SnapshotChunk as _qjournal_raft_v1_SnapshotChunk, SnapshotChunk__Output as _qjournal_raft_v1_SnapshotChunk__Output } from './qjournal/raft/v1/SnapshotChunk.ts';
import type { SnapshotFile as _qjournal_raft_v1_SnapshotFile, SnapshotFile__Output as _qjournal_raft_v1_SnapshotFile__Output } from './qjournal/raft/v1/SnapshotFile.ts';
import type { SnapshotHeader as _qjournal_raft_v1_SnapshotHeader, SnapshotHeader__Output as _qjournal_raft_v1_SnapshotHeader__Output } from './qjournal/raft/v1/SnapshotHeader.ts';
import type { SnapshotMeta as _qjournal_raft_v1_SnapshotMeta, SnapshotMeta__Output as _qjournal_raft_v1_SnapshotMeta__Output } from './qjournal/raft/v1/SnapshotMeta.ts';
import type { SnapshotOffsetsRequest as _qjournal_raft_v1_SnapshotOffsetsRequest, SnapshotOffsetsRequest__Output as _qjournal_raft_v1_SnapshotOffsetsRequest__Output } from './qjournal/raft/v1/SnapshotOffsetsRequest.ts';
import type { SnapshotOffsetsResponse as _qjournal_raft_v1_SnapshotOffsetsResponse, SnapshotOffsetsResponse__Output as _qjournal_raft_v1_SnapshotOffsetsResponse__Output } from './qjournal/raft/v1/SnapshotOffsetsResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  qjournal: {
    raft: {
      v1: {
        ConfState: MessageTypeDefinition<_qjournal_raft_v1_ConfState, _qjournal_raft_v1_ConfState__Output>
        Entry: MessageTypeDefinition<_qjournal_raft_v1_Entry, _qjournal_raft_v1_Entry__Output>
        EntryType: EnumTypeDefinition
        FileChunk: MessageTypeDefinition<_qjournal_raft_v1_FileChunk, _qjournal_raft_v1_FileChunk__Output>
        FileOffset: MessageTypeDefinition<_qjournal_raft_v1_FileOffset, _qjournal_raft_v1_FileOffset__Output>
        InstallSnapshotResult: MessageTypeDefinition<_qjournal_raft_v1_InstallSnapshotResult, _qjournal_raft_v1_InstallSnapshotResult__Output>
        Message: MessageTypeDefinition<_qjournal_raft_v1_Message, _qjournal_raft_v1_Message__Output>
        MessageType: EnumTypeDefinition
        RaftTransport: SubtypeConstructor<typeof grpc.Client, _qjournal_raft_v1_RaftTransportClient> & { service: _qjournal_raft_v1_RaftTransportDefinition }
        Snapshot: MessageTypeDefinition<_qjournal_raft_v1_Snapshot, _qjournal_raft_v1_Snapshot__Output>
        SnapshotChunk: MessageTypeDefinition<_qjournal_raft_v1_SnapshotChunk, _qjournal_raft_v1_SnapshotChunk__Output>
        SnapshotFile: MessageTypeDefinition<_qjournal_raft_v1_SnapshotFile, _qjournal_raft_v1_SnapshotFile__Output>
        SnapshotHeader: MessageTypeDefinition<_qjournal_raft_v1_SnapshotHeader, _qjournal_raft_v1_SnapshotHeader__Output>
        SnapshotMeta: MessageTypeDefinition<_qjournal_raft_v1_SnapshotMeta, _qjournal_raft_v1_SnapshotMeta__Output>
        SnapshotOffsetsRequest: MessageTypeDefinition<_qjournal_raft_v1_SnapshotOffsetsRequest, _qjournal_raft_v1_SnapshotOffsetsRequest__Output>
        SnapshotOffsetsResponse: MessageTypeDefinition<_qjournal_raft_v1_SnapshotOffsetsResponse, _qjournal_raft_v1_SnapshotOffsetsResponse__Output>
      }
    }
  }
}

