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
import type { JournalRequest } from './generated/qjournal/v1/JournalRequest.ts';
import { rememberingMessages, serializeJournalRequestInPlace } from './journal-request.ts';

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
    // Journal requests whose records were framed with headroom serialize around them, uncopied
    // (journal-request.ts); any other request goes through protobufjs.
    const service = definition['qjournal.v1.QJournal'] as Record<string, grpc.MethodDefinition<JournalRequest, unknown>>;
    for (const name of ['Journal', 'JournalStream']) {
      const method = service[name];
      if (method === undefined) throw new Error(`journal.proto: no method ${name}`);
      const protobufSerialize = method.requestSerialize;
      // A JournalNode remembers each request's message: its leader builds the Raft entry in it.
      service[name] = {
        ...method,
        requestSerialize: (request: JournalRequest) => serializeJournalRequestInPlace(request) ?? protobufSerialize(request),
        requestDeserialize: rememberingMessages(method.requestDeserialize),
      };
    }
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return loaded;
}
