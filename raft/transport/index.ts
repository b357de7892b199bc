/**
 * The peer transport of the Raft runtime: the public surface of raft/transport.
 * Wire contract: raft.proto (package qjournal.raft.v1) and peer-link.ts (the message links).
 */
export {
  GrpcRaftTransport,
  raftTransportChannelOptions,
  DEFAULT_MESSAGE_BYTES_MAX,
  DEFAULT_SEND_QUEUE_BYTES_MAX,
  DEFAULT_SNAPSHOT_CHUNK_BYTES,
  DEFAULT_RECONNECT_BACKOFF_MS,
  DEFAULT_ACK_TIMEOUT_MS,
  type GrpcRaftTransportOptions,
  type TransportHandlers,
} from './grpc-transport.ts';
export type { SnapshotSinkLike, SnapshotReceiveLike } from './snapshot-receiver.ts';
export type { SnapshotSource } from './snapshot-sender.ts';
export type { SnapshotFileInfo } from './codec.ts';
export { encodeMessage, decodeMessage, messageBytesUpperBound } from './codec.ts';
export type { TransportStats } from './stats.ts';
export { WireFormatError, SnapshotTransferError } from './errors.ts';
export { RAFT_PROTO_PATH } from './proto.ts';
export { flowControlChannelOptions, tuneGrpcServer, http2WindowBytes } from './grpc-tuning.ts';
export { SharedPort, FIRST_BYTE_TIMEOUT_MS, type PeerLinkHandler } from './shared-port.ts';
