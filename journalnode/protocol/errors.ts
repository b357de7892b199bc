/**
 * Typed errors of the QJournal protocol and their wire form (`JournalError` in journal.proto).
 *
 * The JournalNode's state machine answers a rejected command with a plain
 * {@link JournalErrorWire} (cheap: no stack trace on the hot path); clients turn it into one of
 * the classes below with {@link journalErrorFromWire}, once, at the boundary. `retryable` is a
 * property of the code: only NOT_LEADER and UNAVAILABLE are worth retrying as they are.
 */
import type { JournalError as JournalErrorInput } from './generated/qjournal/v1/JournalError.ts';

/** Every error code of the protocol (the enum `JournalErrorCode` without its zero value). */
export const journalErrorCodes = [
  'EPOCH_FENCED',
  'OUT_OF_ORDER',
  'NOT_FORMATTED',
  'ALREADY_FORMATTED',
  'SEGMENT_NOT_OPEN',
  'SEGMENT_ALREADY_OPEN',
  'NAMESPACE_MISMATCH',
  'INVALID_ARGUMENT',
  'NOT_LEADER',
  'LEASE_HELD',
  'LEASE_EXPIRED',
  'EPOCH_NOT_PROMISED',
  'SEGMENT_MISMATCH',
  'CORRUPT_RECORDS',
  'EDITS_UNAVAILABLE',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

/** One error code. */
export type JournalErrorCode = (typeof journalErrorCodes)[number];

const retryableCodes: ReadonlySet<JournalErrorCode> = new Set<JournalErrorCode>(['NOT_LEADER', 'UNAVAILABLE']);
const knownCodes: ReadonlySet<string> = new Set<string>(journalErrorCodes);

/** True when a request that failed with `code` may succeed if sent again unchanged. */
export function isRetryableCode(code: JournalErrorCode): boolean {
  return retryableCodes.has(code);
}

/**
 * The wire form of an error, field for field the proto message `JournalError` as loaded with
 * `longs: Number, enums: String, defaults: true`. Numbers are 0 and strings '' when unused.
 */
export interface JournalErrorWire {
  readonly code: JournalErrorCode;
  readonly message: string;
  /** EPOCH_FENCED, EPOCH_NOT_PROMISED: the promised epoch. */
  readonly promisedEpoch: number;
  /** OUT_OF_ORDER: next txid; SEGMENT_MISMATCH: the segment's last txid; EDITS_UNAVAILABLE: first available txid. */
  readonly expectedTxId: number;
  /** NOT_LEADER: host:port of the leader, '' when unknown. */
  readonly leaderHint: string;
  readonly retryable: boolean;
}

// Compile-time check that the wire form can be handed to grpc-js as the generated message type.
const _wireFitsProto: (w: JournalErrorWire) => JournalErrorInput = (w) => w;
void _wireFitsProto;

/** Optional fields of a wire error. */
export interface JournalErrorFields {
  readonly promisedEpoch?: number;
  readonly expectedTxId?: number;
  readonly leaderHint?: string;
}

/** Build a wire error (a plain object: no stack trace is captured). */
export function journalErrorWire(code: JournalErrorCode, message: string, fields: JournalErrorFields = {}): JournalErrorWire {
  return {
    code,
    message,
    promisedEpoch: fields.promisedEpoch ?? 0,
    expectedTxId: fields.expectedTxId ?? 0,
    leaderHint: fields.leaderHint ?? '',
    retryable: isRetryableCode(code),
  };
}

/** Base of every protocol error: a `code` from the wire and whether a retry may succeed. */
export class JournalError extends Error {
  override readonly name: string = 'JournalError';
  readonly code: JournalErrorCode;
  readonly retryable: boolean;

  constructor(code: JournalErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.retryable = isRetryableCode(code);
  }

  /** The wire form of this error. */
  toWire(): JournalErrorWire {
    return journalErrorWire(this.code, this.message, this.wireFields());
  }

  /** Fields beyond code and message that subclasses put on the wire. */
  protected wireFields(): JournalErrorFields {
    return {};
  }
}

/** The request's epoch is below the promised epoch: the writer is fenced and must stop. */
export class EpochFencedError extends JournalError {
  override readonly name = 'EpochFencedError';
  readonly promisedEpoch: number;
  constructor(fields: { promisedEpoch: number }, message?: string, options?: ErrorOptions) {
    super('EPOCH_FENCED', message ?? `fenced: epoch ${fields.promisedEpoch} is promised`, options);
    this.promisedEpoch = fields.promisedEpoch;
  }
  protected override wireFields(): JournalErrorFields {
    return { promisedEpoch: this.promisedEpoch };
  }
}

/** The request's epoch is above the promised epoch: NewEpoch was not called. */
export class EpochNotPromisedError extends JournalError {
  override readonly name = 'EpochNotPromisedError';
  readonly promisedEpoch: number;
  constructor(fields: { promisedEpoch: number }, message?: string, options?: ErrorOptions) {
    super('EPOCH_NOT_PROMISED', message ?? `epoch not promised: epoch ${fields.promisedEpoch} is promised`, options);
    this.promisedEpoch = fields.promisedEpoch;
  }
  protected override wireFields(): JournalErrorFields {
    return { promisedEpoch: this.promisedEpoch };
  }
}

/** A batch that does not start at the next txid and is not an exact retry. */
export class OutOfOrderError extends JournalError {
  override readonly name = 'OutOfOrderError';
  readonly expectedTxId: number;
  constructor(fields: { expectedTxId: number }, message?: string, options?: ErrorOptions) {
    super('OUT_OF_ORDER', message ?? `out of order: expected txid ${fields.expectedTxId}`, options);
    this.expectedTxId = fields.expectedTxId;
  }
  protected override wireFields(): JournalErrorFields {
    return { expectedTxId: this.expectedTxId };
  }
}

/** Finalize at a txid that is not the open segment's last txid. */
export class SegmentMismatchError extends JournalError {
  override readonly name = 'SegmentMismatchError';
  /** The segment's actual last txid. */
  readonly expectedTxId: number;
  constructor(fields: { expectedTxId: number }, message?: string, options?: ErrorOptions) {
    super('SEGMENT_MISMATCH', message ?? `segment mismatch: the segment ends at txid ${fields.expectedTxId}`, options);
    this.expectedTxId = fields.expectedTxId;
  }
  protected override wireFields(): JournalErrorFields {
    return { expectedTxId: this.expectedTxId };
  }
}

/** Edits requested below the first retained txid. */
export class EditsUnavailableError extends JournalError {
  override readonly name = 'EditsUnavailableError';
  /** The first txid still available, 0 when none is. */
  readonly firstAvailableTxId: number;
  constructor(fields: { firstAvailableTxId: number }, message?: string, options?: ErrorOptions) {
    super('EDITS_UNAVAILABLE', message ?? `edits unavailable: the first available txid is ${fields.firstAvailableTxId}`, options);
    this.firstAvailableTxId = fields.firstAvailableTxId;
  }
  protected override wireFields(): JournalErrorFields {
    return { expectedTxId: this.firstAvailableTxId };
  }
}

/** This JournalNode is not the Raft leader; retry at `leaderHint` ('' when unknown). */
export class NotLeaderError extends JournalError {
  override readonly name = 'NotLeaderError';
  readonly leaderHint: string;
  constructor(fields: { leaderHint: string }, message?: string, options?: ErrorOptions) {
    super('NOT_LEADER', message ?? `not the leader${fields.leaderHint === '' ? '' : `; try ${fields.leaderHint}`}`, options);
    this.leaderHint = fields.leaderHint;
  }
  protected override wireFields(): JournalErrorFields {
    return { leaderHint: this.leaderHint };
  }
}

/**
 * Framed records failed validation. `offset` is the byte offset of the bad record in the
 * buffer (or file) it was read from, when known; `filePath` names the file, when any.
 */
export class CorruptRecordsError extends JournalError {
  override readonly name = 'CorruptRecordsError';
  readonly offset: number | undefined;
  readonly filePath: string | undefined;
  constructor(fields: { offset?: number; filePath?: string }, message: string, options?: ErrorOptions) {
    super('CORRUPT_RECORDS', message, options);
    this.offset = fields.offset;
    this.filePath = fields.filePath;
  }
}

/** The journal id was never formatted. */
export class NotFormattedError extends JournalError {
  override readonly name = 'NotFormattedError';
  constructor(message = 'journal not formatted', options?: ErrorOptions) {
    super('NOT_FORMATTED', message, options);
  }
}

/** Format of an existing journal without `force`. */
export class AlreadyFormattedError extends JournalError {
  override readonly name = 'AlreadyFormattedError';
  constructor(message = 'journal already formatted', options?: ErrorOptions) {
    super('ALREADY_FORMATTED', message, options);
  }
}

/** No segment open for this epoch, or none at the given txid. */
export class SegmentNotOpenError extends JournalError {
  override readonly name = 'SegmentNotOpenError';
  constructor(message = 'no segment open', options?: ErrorOptions) {
    super('SEGMENT_NOT_OPEN', message, options);
  }
}

/** StartSegment while a segment is open. */
export class SegmentAlreadyOpenError extends JournalError {
  override readonly name = 'SegmentAlreadyOpenError';
  constructor(message = 'a segment is already open', options?: ErrorOptions) {
    super('SEGMENT_ALREADY_OPEN', message, options);
  }
}

/** NewEpoch with a namespace different from the formatted one. */
export class NamespaceMismatchError extends JournalError {
  override readonly name = 'NamespaceMismatchError';
  constructor(message = 'namespace mismatch', options?: ErrorOptions) {
    super('NAMESPACE_MISMATCH', message, options);
  }
}

/** A malformed request. */
export class InvalidArgumentError extends JournalError {
  override readonly name = 'InvalidArgumentError';
  constructor(message: string, options?: ErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** AcquireLease while another candidate holds a live lease. */
export class LeaseHeldError extends JournalError {
  override readonly name = 'LeaseHeldError';
  constructor(message = 'lease held by another candidate', options?: ErrorOptions) {
    super('LEASE_HELD', message, options);
  }
}

/** The (candidate, token) named no longer holds the lease: leadership is lost. */
export class LeaseExpiredError extends JournalError {
  override readonly name = 'LeaseExpiredError';
  constructor(message = 'lease expired', options?: ErrorOptions) {
    super('LEASE_EXPIRED', message, options);
  }
}

/** The service cannot answer now. Retryable. */
export class UnavailableError extends JournalError {
  override readonly name = 'UnavailableError';
  constructor(message = 'unavailable', options?: ErrorOptions) {
    super('UNAVAILABLE', message, options);
  }
}

/** A bug or an I/O failure on the server. */
export class InternalError extends JournalError {
  override readonly name = 'InternalError';
  constructor(message = 'internal error', options?: ErrorOptions) {
    super('INTERNAL', message, options);
  }
}

/** The loose shape of a wire error as any loader may produce it. */
export interface JournalErrorLike {
  readonly code?: string | number | null;
  readonly message?: string | null;
  readonly promisedEpoch?: number | string | null;
  readonly expectedTxId?: number | string | null;
  readonly leaderHint?: string | null;
}

function toSafeNumber(value: number | string | null | undefined): number {
  const n = typeof value === 'string' ? Number(value) : (value ?? 0);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/**
 * Turn a wire error into its typed class. Unknown codes (a newer server) become
 * {@link InternalError} with the code in the message.
 */
export function journalErrorFromWire(wire: JournalErrorLike): JournalError {
  const message = wire.message ?? '';
  const code = typeof wire.code === 'string' && knownCodes.has(wire.code) ? (wire.code as JournalErrorCode) : undefined;
  const promisedEpoch = toSafeNumber(wire.promisedEpoch);
  const expectedTxId = toSafeNumber(wire.expectedTxId);
  switch (code) {
    case 'EPOCH_FENCED':
      return new EpochFencedError({ promisedEpoch }, message);
    case 'EPOCH_NOT_PROMISED':
      return new EpochNotPromisedError({ promisedEpoch }, message);
    case 'OUT_OF_ORDER':
      return new OutOfOrderError({ expectedTxId }, message);
    case 'SEGMENT_MISMATCH':
      return new SegmentMismatchError({ expectedTxId }, message);
    case 'EDITS_UNAVAILABLE':
      return new EditsUnavailableError({ firstAvailableTxId: expectedTxId }, message);
    case 'NOT_LEADER':
      return new NotLeaderError({ leaderHint: wire.leaderHint ?? '' }, message);
    case 'CORRUPT_RECORDS':
      return new CorruptRecordsError({}, message);
    case 'NOT_FORMATTED':
      return new NotFormattedError(message);
    case 'ALREADY_FORMATTED':
      return new AlreadyFormattedError(message);
    case 'SEGMENT_NOT_OPEN':
      return new SegmentNotOpenError(message);
    case 'SEGMENT_ALREADY_OPEN':
      return new SegmentAlreadyOpenError(message);
    case 'NAMESPACE_MISMATCH':
      return new NamespaceMismatchError(message);
    case 'INVALID_ARGUMENT':
      return new InvalidArgumentError(message);
    case 'LEASE_HELD':
      return new LeaseHeldError(message);
    case 'LEASE_EXPIRED':
      return new LeaseExpiredError(message);
    case 'UNAVAILABLE':
      return new UnavailableError(message);
    case 'INTERNAL':
      return new InternalError(message);
    case undefined:
      return new InternalError(`unknown error code ${String(wire.code)}: ${message}`);
  }
}

/** The wire form of any thrown value: a JournalError keeps its code, anything else is INTERNAL. */
export function journalErrorToWire(error: unknown): JournalErrorWire {
  if (error instanceof JournalError) return error.toWire();
  const message = error instanceof Error ? error.message : String(error);
  return journalErrorWire('INTERNAL', message);
}
