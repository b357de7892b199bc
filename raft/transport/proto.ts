/**
 * Loads raft.proto once with proto-loader (uint64 as JS numbers, enums as strings, defaults on,
 * oneof discriminators on) and exposes the typed service definition and message codecs.
 * The TypeScript types come from `generated/` (scripts/gen-proto.sh); the runtime codecs come
 * from the .proto file itself, which ships next to this module.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType } from './generated/raft.ts';
import type { RaftTransportClient, RaftTransportDefinition } from './generated/qjournal/raft/v1/RaftTransport.ts';

/** The proto-loader options this transport is built on (the same as scripts/gen-proto.sh). */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Absolute path of raft.proto. */
export const RAFT_PROTO_PATH = fileURLToPath(new URL('./raft.proto', import.meta.url));

const packageDefinition = protoLoader.loadSync(RAFT_PROTO_PATH, PROTO_LOADER_OPTIONS);
const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;

/** The loaded `qjournal.raft.v1` package: message codecs (`serialize`, `deserialize`) and the service. */
export const raftV1 = loaded.qjournal.raft.v1;

/** The `RaftTransport` service definition as loaded (method paths, codecs). */
export const raftTransportService: RaftTransportDefinition = raftV1.RaftTransport.service;

/** Hooks around every (de)serialization, used to count wire bytes and enforce size limits. */
export interface WireHooks {
  /** Called with each request serialized by a client (message name, encoded bytes). */
  onSerialized(method: keyof RaftTransportDefinition, bytes: number): void;
  /**
   * Called with each request received by the server before it is decoded; throwing rejects
   * the message (grpc-js answers the call with an error status).
   */
  onReceived(method: keyof RaftTransportDefinition, bytes: number): void;
}

const METHOD_NAMES = ['SnapshotOffsets', 'InstallSnapshot'] as const satisfies readonly (keyof RaftTransportDefinition)[];

/** The service definition with request codecs wrapped by `hooks` (one per transport instance). */
export function hookedServiceDefinition(hooks: WireHooks): RaftTransportDefinition {
  const out = { ...raftTransportService };
  for (const name of METHOD_NAMES) {
    const method = raftTransportService[name];
    const serialize = method.requestSerialize as (value: unknown) => Buffer;
    const deserialize = method.requestDeserialize as (bytes: Buffer) => unknown;
    (out as Record<string, unknown>)[name] = {
      ...method,
      requestSerialize: (value: unknown): Buffer => {
        const bytes = serialize(value);
        hooks.onSerialized(name, bytes.length);
        return bytes;
      },
      requestDeserialize: (bytes: Buffer): unknown => {
        hooks.onReceived(name, bytes.length);
        return deserialize(bytes);
      },
    };
  }
  return out;
}

/** A client constructor for `definition` (see hookedServiceDefinition). */
export function clientConstructorFor(
  definition: RaftTransportDefinition,
): new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => RaftTransportClient {
  return grpc.makeGenericClientConstructor(definition, 'RaftTransport') as unknown as new (
    address: string,
    credentials: grpc.ChannelCredentials,
    options?: grpc.ChannelOptions,
  ) => RaftTransportClient;
}
