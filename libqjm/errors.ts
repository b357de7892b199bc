/**
 * Errors of libqjm. Two families:
 *
 * - Protocol errors, re-exported from the wire contract (`journalnode/protocol/errors.ts`): a
 *   JournalNode rejected a request with a typed `JournalError` (EPOCH_FENCED, NOT_LEADER, ...).
 *   They are built once, at the boundary, by {@link journalErrorFromWire}.
 * - Client errors, below: what the client itself concludes (a write timed out, no node answered,
 *   recovery failed, the writer is closed).
 *
 * Every class has `name`, `cause` (standard `Error.cause`) and `retryable`: true when the same
 * request may succeed if sent again later unchanged (NOT_LEADER, UNAVAILABLE, no quorum, an
 * unreachable node). A fenced writer (`EpochFencedError`) is never retryable: it must stop.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';

export {
  AlreadyFormattedError,
  CorruptRecordsError,
  EditsUnavailableError,
  EpochFencedError,
  EpochNotPromisedError,
  InternalError,
  InvalidArgumentError,
  JournalError,
  LeaseExpiredError,
  LeaseHeldError,
  NamespaceMismatchError,
  NotFormattedError,
  NotLeaderError,
  OutOfOrderError,
  SegmentAlreadyOpenError,
  SegmentMismatchError,
  SegmentNotOpenError,
  UnavailableError,
  isRetryableCode,
  journalErrorCodes,
  journalErrorFromWire,
} from '../journalnode/protocol/errors.ts';
export type { JournalErrorCode, JournalErrorLike, JournalErrorWire } from '../journalnode/protocol/errors.ts';

/** Base of the errors libqjm raises itself (not answers of a JournalNode). */
export class QjmClientError extends Error {
  override readonly name: string = 'QjmClientError';
  /** True when the same request may succeed if sent again later. */
  readonly retryable: boolean;

  constructor(message: string, retryable: boolean, options?: ErrorOptions) {
    super(message, options);
    this.retryable = retryable;
  }
}

/**
 * A call on a writer that is closed: `close()`/`abort()` was called, or an earlier failure
 * (a write timeout, a protocol error) ended it. `cause` holds that failure, when there was one.
 * A fenced writer rejects with `EpochFencedError` instead.
 */
export class WriterClosedError extends QjmClientError {
  override readonly name = 'WriterClosedError';
  constructor(message = 'the journal writer is closed', options?: ErrorOptions) {
    super(message, false, options);
  }
}

/**
 * A batch was not acknowledged within `writeTimeoutMs`. Its edits may or may not be committed:
 * the writer is failed and closed, and the next writer learns the truth by recovery.
 */
export class WriteTimeoutError extends QjmClientError {
  override readonly name = 'WriteTimeoutError';
  /** First txid of the batch that timed out. */
  readonly firstTxId: number;
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;
  constructor(fields: { firstTxId: number; timeoutMs: number }, options?: ErrorOptions) {
    super(`write of txid ${fields.firstTxId} not acknowledged within ${fields.timeoutMs} ms`, false, options);
    this.firstTxId = fields.firstTxId;
    this.timeoutMs = fields.timeoutMs;
  }
}

/**
 * No JournalNode could serve a request before its deadline: every node was unreachable, none
 * knew a leader, or the group has no quorum. Retryable. `cause` is the last error seen.
 */
export class NoQuorumError extends QjmClientError {
  override readonly name = 'NoQuorumError';
  /** The nodes tried, in the order tried (with repeats). */
  readonly triedAddresses: readonly string[];
  constructor(message: string, fields: { triedAddresses: readonly string[] }, options?: ErrorOptions) {
    super(message, true, options);
    this.triedAddresses = fields.triedAddresses;
  }
}

/**
 * A transport failure talking to one node (gRPC status other than OK): the node is down,
 * unreachable, overloaded or the deadline passed. Translated once from grpc-js' ServiceError.
 * Retryable for UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED and ABORTED; not for
 * RESOURCE_EXHAUSTED (a message above the size limit), UNIMPLEMENTED, INTERNAL or UNKNOWN.
 */
export class RpcError extends QjmClientError {
  override readonly name = 'RpcError';
  /** The node's address (host:port). */
  readonly address: string;
  /** The gRPC status code (`@grpc/grpc-js` `status`). */
  readonly grpcCode: number;
  constructor(fields: { address: string; grpcCode: number; retryable: boolean }, message: string, options?: ErrorOptions) {
    super(message, fields.retryable, options);
    this.address = fields.address;
    this.grpcCode = fields.grpcCode;
  }
}

const retryableGrpcCodes: ReadonlySet<number> = new Set<number>([
  grpcStatus.UNAVAILABLE,
  grpcStatus.DEADLINE_EXCEEDED,
  grpcStatus.CANCELLED,
  grpcStatus.ABORTED,
  // A JournalNode that is starting (replaying its log) has bound its port but not yet
  // registered QJournal: retried within the request's deadline like UNAVAILABLE.
  grpcStatus.UNIMPLEMENTED,
]);

/**
 * INTERNAL statuses grpc-js makes up itself when an HTTP/2 stream is reset (a frame or header
 * block the other side could not parse: on a network that damages bytes, or a dropped
 * connection) or an answer does not parse (damaged on the way): transport failures, retried
 * like UNAVAILABLE. Every call libqjm retries is one a JournalNode answers the same way when it
 * arrives twice. (Should a JournalNode keep sending unparsable answers, the call's deadline
 * ends the retries.)
 */
const transportResetPattern = /^(Received RST_STREAM with code \d+(?! \(Internal server error\))|Response message parsing error)/;

/** Translate a grpc-js ServiceError (or anything thrown by a call) into an {@link RpcError}. */
export function rpcErrorFrom(address: string, error: unknown): RpcError {
  const service = error as Partial<ServiceError>;
  const grpcCode = typeof service.code === 'number' ? service.code : grpcStatus.UNKNOWN;
  const details = typeof service.details === 'string' && service.details !== '' ? service.details : String((error as Error)?.message ?? error);
  const codeName = grpcStatus[grpcCode] ?? String(grpcCode);
  const retryable = retryableGrpcCodes.has(grpcCode) || (grpcCode === grpcStatus.INTERNAL && transportResetPattern.test(details));
  return new RpcError({ address, grpcCode, retryable }, `${address}: ${codeName}: ${details}`, { cause: error });
}

/**
 * The in-progress segment a previous writer left could not be recovered (finalized) after
 * NewEpoch. `cause` is the failure. Not retryable as is; a new `openForWrite` may succeed.
 */
export class RecoveryError extends QjmClientError {
  override readonly name = 'RecoveryError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, false, options);
  }
}

/**
 * A JournalNode answered something the protocol does not allow (a wrong sequence number, a
 * batch acknowledged at other txids, a record checksum mismatch on read). A bug on one side.
 */
export class ProtocolError extends QjmClientError {
  override readonly name = 'ProtocolError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, false, options);
  }
}

/**
 * `write()` was called while `waitingWritesMax` calls already wait for room in the queue: the
 * caller must await earlier writes (backpressure). Retryable once earlier writes complete.
 */
export class WriteQueueFullError extends QjmClientError {
  override readonly name = 'WriteQueueFullError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, true, options);
  }
}

/** The operation was aborted through its AbortSignal, or the manager was closed. */
export class AbortedError extends QjmClientError {
  override readonly name = 'AbortedError';
  constructor(message = 'aborted', options?: ErrorOptions) {
    super(message, false, options);
  }
}

/** An election failed for a reason other than losing the campaign (etcd unreachable, bad token). */
export class ElectionError extends QjmClientError {
  override readonly name: string = 'ElectionError';
  constructor(message: string, retryable: boolean, options?: ErrorOptions) {
    super(message, retryable, options);
  }
}

/** True when `error` is marked retryable (protocol or client error). */
export function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
}
