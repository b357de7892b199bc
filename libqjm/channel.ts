/**
 * One grpc-js client per JournalNode address, with the message limits of the protocol set
 * explicitly on both directions (grpc-js' default receive limit is 4 MiB, below a full batch)
 * and a deadline on every unary call. Responses are unwrapped here, once: a `success` result
 * is returned, an `error` result becomes its typed class (`journalErrorFromWire`), a gRPC
 * status becomes an {@link RpcError}.
 */
import { flowControlChannelOptions } from '../raft/transport/grpc-tuning.ts';
import * as grpc from '@grpc/grpc-js';
import { loadJournalProtocol } from '../journalnode/protocol/load.ts';
import { grpcMessageBytesMax } from '../journalnode/protocol/limits.ts';
import type { QJournalClient } from '../journalnode/protocol/generated/qjournal/v1/QJournal.ts';
import type { JournalError__Output } from '../journalnode/protocol/generated/qjournal/v1/JournalError.ts';
import type { FormatRequest } from '../journalnode/protocol/generated/qjournal/v1/FormatRequest.ts';
import type { FormatResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/FormatResponse.ts';
import type { GetJournalStateRequest } from '../journalnode/protocol/generated/qjournal/v1/GetJournalStateRequest.ts';
import type { GetJournalStateResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/GetJournalStateResponse.ts';
import type { NewEpochRequest } from '../journalnode/protocol/generated/qjournal/v1/NewEpochRequest.ts';
import type { NewEpochResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/NewEpochResponse.ts';
import type { StartSegmentRequest } from '../journalnode/protocol/generated/qjournal/v1/StartSegmentRequest.ts';
import type { StartSegmentResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/StartSegmentResponse.ts';
import type { JournalRequest } from '../journalnode/protocol/generated/qjournal/v1/JournalRequest.ts';
import type { JournalResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/JournalResponse.ts';
import type { FinalizeRequest } from '../journalnode/protocol/generated/qjournal/v1/FinalizeRequest.ts';
import type { FinalizeResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/FinalizeResponse.ts';
import type { PurgeRequest } from '../journalnode/protocol/generated/qjournal/v1/PurgeRequest.ts';
import type { PurgeResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/PurgeResponse.ts';
import type { GetEditLogManifestRequest } from '../journalnode/protocol/generated/qjournal/v1/GetEditLogManifestRequest.ts';
import type { GetEditLogManifestResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/GetEditLogManifestResponse.ts';
import type { GetJournaledEditsRequest } from '../journalnode/protocol/generated/qjournal/v1/GetJournaledEditsRequest.ts';
import type { GetJournaledEditsResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/GetJournaledEditsResponse.ts';
import type { AcquireLeaseRequest } from '../journalnode/protocol/generated/qjournal/v1/AcquireLeaseRequest.ts';
import type { RenewLeaseRequest } from '../journalnode/protocol/generated/qjournal/v1/RenewLeaseRequest.ts';
import type { ReleaseLeaseRequest } from '../journalnode/protocol/generated/qjournal/v1/ReleaseLeaseRequest.ts';
import type { GetLeaseRequest } from '../journalnode/protocol/generated/qjournal/v1/GetLeaseRequest.ts';
import type { LeaseResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/LeaseResponse.ts';
import { AbortedError, journalErrorFromWire, ProtocolError, rpcErrorFrom } from './errors.ts';

/** The unary methods of QJournal: request and response types. */
export interface UnaryMethods {
  format: [FormatRequest, FormatResponse__Output];
  getJournalState: [GetJournalStateRequest, GetJournalStateResponse__Output];
  newEpoch: [NewEpochRequest, NewEpochResponse__Output];
  startSegment: [StartSegmentRequest, StartSegmentResponse__Output];
  journal: [JournalRequest, JournalResponse__Output];
  finalize: [FinalizeRequest, FinalizeResponse__Output];
  purge: [PurgeRequest, PurgeResponse__Output];
  getEditLogManifest: [GetEditLogManifestRequest, GetEditLogManifestResponse__Output];
  getJournaledEdits: [GetJournaledEditsRequest, GetJournaledEditsResponse__Output];
  acquireLease: [AcquireLeaseRequest, LeaseResponse__Output];
  renewLease: [RenewLeaseRequest, LeaseResponse__Output];
  releaseLease: [ReleaseLeaseRequest, LeaseResponse__Output];
  getLease: [GetLeaseRequest, LeaseResponse__Output];
}

/** Name of a unary method. */
export type UnaryMethodName = keyof UnaryMethods;

/** The success type of a oneof response. */
export type SuccessOf<R> = R extends { success?: infer S } ? NonNullable<S> : never;

/** Options of a {@link NodeChannel}. */
export interface ChannelOptions {
  /** Ping an idle connection this often, in milliseconds, to detect a dead peer. Default 10 s. */
  readonly keepaliveTimeMs?: number;
  /** Wait this long for a ping answer before dropping the connection, in ms. Default 5 s. */
  readonly keepaliveTimeoutMs?: number;
  /** Largest delay between reconnection attempts, in milliseconds. Default 1 s. */
  readonly reconnectBackoffMaxMs?: number;
}

/** Channel options shared by every client: size limits from the protocol, keepalive, reconnect. */
export function grpcChannelOptions(options: ChannelOptions = {}): grpc.ChannelOptions {
  return {
    'grpc.max_send_message_length': grpcMessageBytesMax,
    'grpc.max_receive_message_length': grpcMessageBytesMax,
    'grpc.keepalive_time_ms': options.keepaliveTimeMs ?? 10_000,
    'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs ?? 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.initial_reconnect_backoff_ms': 50,
    'grpc.max_reconnect_backoff_ms': options.reconnectBackoffMaxMs ?? 1_000,
    // Reads (GetJournaledEdits answers of up to 8 MiB) are not held to HTTP/2's 64 KiB window.
    ...flowControlChannelOptions(),
  };
}

/**
 * Unwrap a oneof response: the `success` result, or throw the typed error of the `error` result.
 * A response with neither is a {@link ProtocolError}.
 */
export function unwrapResponse<R extends { success?: unknown; error?: JournalError__Output | null }>(response: R, address: string, what: string): SuccessOf<R> {
  if (response.error !== undefined && response.error !== null) throw journalErrorFromWire(response.error);
  if (response.success === undefined || response.success === null) throw new ProtocolError(`${address}: ${what}: response without a result`);
  return response.success as SuccessOf<R>;
}

type UnaryCallback<R> = (error: grpc.ServiceError | null, response?: R) => void;
type UnaryFunction<Q, R> = (request: Q, options: grpc.CallOptions, callback: UnaryCallback<R>) => grpc.ClientUnaryCall;

/** The connection to one JournalNode. */
export class NodeChannel {
  readonly address: string;
  private readonly client: QJournalClient;
  private closed = false;

  constructor(address: string, options: ChannelOptions = {}) {
    this.address = address;
    const QJournal = loadJournalProtocol().qjournal.v1.QJournal;
    this.client = new QJournal(address, grpc.credentials.createInsecure(), grpcChannelOptions(options));
  }

  /**
   * Call `method` with a deadline of `timeoutMs` milliseconds and return the response's
   * `success` result. Throws the typed protocol error of an `error` result, an RpcError for a
   * gRPC status, ProtocolError for an empty answer.
   */
  async call<M extends UnaryMethodName>(method: M, request: UnaryMethods[M][0], timeoutMs: number): Promise<SuccessOf<UnaryMethods[M][1]>> {
    const response = await this.raw(method, request, timeoutMs);
    return unwrapResponse(response as UnaryMethods[M][1], this.address, method);
  }

  /** Like {@link call} but returns the whole response (for the unary Journal call's sequence). */
  raw<M extends UnaryMethodName>(method: M, request: UnaryMethods[M][0], timeoutMs: number): Promise<UnaryMethods[M][1]> {
    if (this.closed) return Promise.reject(rpcErrorFrom(this.address, { code: grpc.status.CANCELLED, details: 'channel closed' }));
    const fn = (this.client as unknown as Record<M, UnaryFunction<UnaryMethods[M][0], UnaryMethods[M][1]>>)[method];
    return new Promise((resolve, reject) => {
      fn.call(this.client, request, { deadline: Date.now() + Math.max(1, timeoutMs) }, (error, response) => {
        if (error !== null) reject(rpcErrorFrom(this.address, error));
        else if (response === undefined) reject(new ProtocolError(`${this.address}: ${method}: empty response`));
        else resolve(response);
      });
    });
  }

  /**
   * Open a JournalStream (bidi). It has no deadline: the writer bounds every batch with its own
   * write timeout and cancels the stream when done. The caller must handle 'error'.
   */
  journalStream(): grpc.ClientDuplexStream<JournalRequest, JournalResponse__Output> {
    return this.client.journalStream();
  }

  /** Close the connection; calls in flight fail with CANCELLED. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }
}

/** The channels of one QuorumJournalManager: one per address, created on first use. */
export class ChannelPool {
  private readonly channels = new Map<string, NodeChannel>();
  private readonly options: ChannelOptions;
  private closed = false;

  constructor(options: ChannelOptions = {}) {
    this.options = options;
  }

  /** The channel to `address` (host:port), created if needed. */
  get(address: string): NodeChannel {
    if (this.closed) throw new AbortedError('the journal manager is closed');
    let channel = this.channels.get(address);
    if (channel === undefined) {
      channel = new NodeChannel(address, this.options);
      this.channels.set(address, channel);
    }
    return channel;
  }

  /** Close every channel. Idempotent. */
  close(): void {
    this.closed = true;
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
  }
}
