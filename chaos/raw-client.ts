/**
 * A bare QJournal client: one gRPC client per address, raw requests and raw answers, no
 * routing, no retries and none of libqjm's client-side protections. The chaos run uses it where
 * libqjm would (rightly) refuse: a zombie master writing with a stale epoch on purpose, and the
 * checker reading the journal from each JournalNode separately rather than from the leader.
 */
import * as grpc from '@grpc/grpc-js';
import { loadJournalProtocol } from '../journalnode/protocol/load.ts';
import { grpcMessageBytesMax } from '../journalnode/protocol/limits.ts';
import type { QJournalClient } from '../journalnode/protocol/generated/qjournal/v1/QJournal.ts';
import type { GetJournalStateResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/GetJournalStateResponse.ts';
import type { JournalRequest } from '../journalnode/protocol/generated/qjournal/v1/JournalRequest.ts';
import type { JournalResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/JournalResponse.ts';
import type { GetEditLogManifestResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/GetEditLogManifestResponse.ts';
import type { GetJournaledEditsResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/GetJournaledEditsResponse.ts';

/** A gRPC failure of a raw call (no answer at all). */
export class RawCallError extends Error {
  override readonly name = 'RawCallError';
  constructor(
    readonly address: string,
    readonly code: grpc.status,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${address}: ${grpc.status[code] ?? code}: ${message}`, options);
  }
}

type Callback<R> = (error: grpc.ServiceError | null, response?: R) => void;

/** Raw QJournal calls to explicit addresses. Close when done. */
export class RawJournalClient {
  private readonly clients = new Map<string, QJournalClient>();

  /** `callTimeoutMs`: the deadline of every call. */
  constructor(private readonly callTimeoutMs = 5_000) {}

  private client(address: string): QJournalClient {
    let client = this.clients.get(address);
    if (client === undefined) {
      const QJournal = loadJournalProtocol().qjournal.v1.QJournal;
      client = new QJournal(address, grpc.credentials.createInsecure(), {
        'grpc.max_send_message_length': grpcMessageBytesMax,
        'grpc.max_receive_message_length': grpcMessageBytesMax,
        'grpc.initial_reconnect_backoff_ms': 50,
        'grpc.max_reconnect_backoff_ms': 500,
      });
      this.clients.set(address, client);
    }
    return client;
  }

  private call<Q, R>(address: string, method: string, request: Q): Promise<R> {
    const client = this.client(address) as unknown as Record<string, (q: Q, o: grpc.CallOptions, cb: Callback<R>) => void>;
    return new Promise((resolve, reject) => {
      client[method]!.call(client, request, { deadline: Date.now() + this.callTimeoutMs }, (error, response) => {
        if (error !== null) reject(new RawCallError(address, error.code, error.details, { cause: error }));
        else if (response === undefined) reject(new RawCallError(address, grpc.status.INTERNAL, 'empty response'));
        else resolve(response);
      });
    });
  }

  getJournalState(address: string, journalId: string): Promise<GetJournalStateResponse__Output> {
    return this.call(address, 'getJournalState', { journalId });
  }

  journal(address: string, request: JournalRequest): Promise<JournalResponse__Output> {
    return this.call(address, 'journal', request);
  }

  getEditLogManifest(address: string, journalId: string, sinceTxId: number): Promise<GetEditLogManifestResponse__Output> {
    return this.call(address, 'getEditLogManifest', { journalId, sinceTxId });
  }

  getJournaledEdits(address: string, journalId: string, fromTxId: number, maxCount: number, maxBytes: number): Promise<GetJournaledEditsResponse__Output> {
    return this.call(address, 'getJournaledEdits', { journalId, fromTxId, maxCount, maxBytes });
  }

  /** Close every client. */
  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
