/**
 * Loading journal.proto for grpc-js, with the options the generated types assume
 * (`generated/` comes from `npx proto-loader-gen-types --longs=Number --enums=String
 * --defaults --oneofs --includeComments --importFileExtension=.ts --grpcLib=@grpc/grpc-js
 * --outDir=journalnode/protocol/generated journalnode/protocol/journal.proto`).
 *
 * uint64 fields arrive as JS numbers: values above 2^53 - 1 lose precision in the loader, so
 * every handler checks them with `Number.isSafeInteger` (see `isSafeUint` in limits.ts).
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/journal.ts';

/** Absolute path of journal.proto. */
export const journalProtoPath: string = fileURLToPath(new URL('./journal.proto', import.meta.url));

/** proto-loader options matching the generated types. */
export const journalProtoLoaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

let loaded: ProtoGrpcType | undefined;

/** The loaded `qjournal.v1` package (service definition and client constructor); loaded once. */
export function loadJournalProtocol(): ProtoGrpcType {
  if (loaded === undefined) {
    const definition = protoLoader.loadSync(journalProtoPath, journalProtoLoaderOptions);
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return loaded;
}
