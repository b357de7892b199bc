/** Loads admin.proto once (uint64 as numbers, enums as strings, defaults, oneofs). */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType } from './generated/admin.ts';

/** Absolute path of admin.proto. */
export const ADMIN_PROTO_PATH = fileURLToPath(new URL('./admin.proto', import.meta.url));

let loaded: ProtoGrpcType | undefined;

/** The loaded `qjournal.raft.admin.v1` package. */
export function loadAdminProtocol(): ProtoGrpcType['qjournal']['raft']['admin']['v1'] {
  if (loaded === undefined) {
    const definition = protoLoader.loadSync(ADMIN_PROTO_PATH, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return loaded.qjournal.raft.admin.v1;
}
