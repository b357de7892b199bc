/**
 * A JournalRequest serialized around its records, without copying them.
 *
 * protobufjs copies the `records` bytes into a new message buffer, and grpc-js copies that
 * message once more to put its 5-byte prefix in front: two copies and two allocations of a
 * whole batch per send, in the process of the master that writes. Every 64 MiB of such buffers
 * starts a full garbage collection there (V8 counts external memory), and a master's heap is
 * large. {@link frameRecordsForRequest} frames the records after {@link
 * JOURNAL_REQUEST_HEADROOM_BYTES} free bytes, and {@link serializeJournalRequestInPlace}
 * writes the other fields into that room: the message is a view over the framed bytes. grpc-js's
 * own copy remains.
 *
 * On the JournalNode's side the same layout saves the leader its copy of the batch: the
 * `headroom` field and the fields before it leave room in front of the records for the Raft
 * entry's header, which the leader writes there ({@link roomBeforeRecords}; journal-commands.ts),
 * so the entry is the received message itself. Measured at batches of 1,000 (three alternated
 * 15 s runs): 11.0-12.0 against 12.0-12.8 µs of server CPU per edit, 106,400-116,900 against
 * 102,500-110,700 edits/s.
 *
 * The message is ordinary protobuf: fields 1-5, 7 and 8 (`headroom`, {@link REQUEST_SPARE_BYTES}
 * zero bytes) first, then `records` (field 6); readers accept fields in any order. Anything else (records framed elsewhere, a number that is not a
 * safe unsigned integer) returns undefined, and the caller serializes with protobufjs.
 */
import { framedBytes, frameRecordsInto } from './records.ts';
import type { JournalRequest } from './generated/qjournal/v1/JournalRequest.ts';

/**
 * Bytes of the `headroom` field's value an in-place request carries right before its records:
 * with the fields before it (at least 16 bytes besides the journal id), room for the Raft
 * entry's header (27 bytes besides the journal id) in front of the records, see
 * {@link roomBeforeRecords}.
 */
export const REQUEST_SPARE_BYTES = 16;

/**
 * Free bytes framed records are preceded by. The largest header: sequence, epoch and first
 * txid (1 + 10 bytes each), a 64-byte journal id (1 + 1 + 64), count and crc32c (1 + 5 each),
 * the headroom field (1 + 1 + {@link REQUEST_SPARE_BYTES}), the records' tag and length
 * (1 + 4) = 134.
 */
export const JOURNAL_REQUEST_HEADROOM_BYTES = 160;

/** Framed records that have the headroom in front of them (their own allocation's). */
const withHeadroom = new WeakSet<Uint8Array>();

/**
 * {@link frameRecords}, with the headroom in front: such records serialize in place. `reuse`,
 * when given, may return memory to frame into (at least the bytes asked, all of it the caller's:
 * see {@link FramingBufferPool}); otherwise, or when it returns undefined, a new buffer is made.
 */
export function frameRecordsForRequest(firstTxId: number, records: readonly Uint8Array[], reuse?: (bytes: number) => Buffer | undefined): Buffer {
  const bytes = JOURNAL_REQUEST_HEADROOM_BYTES + framedBytes(records);
  const whole = reuse?.(bytes) ?? Buffer.allocUnsafe(bytes);
  if (whole.byteLength !== bytes) throw new RangeError(`framing buffer of ${whole.byteLength} bytes for ${bytes}`);
  frameRecordsInto(whole, JOURNAL_REQUEST_HEADROOM_BYTES, firstTxId, records);
  const framed = whole.subarray(JOURNAL_REQUEST_HEADROOM_BYTES);
  withHeadroom.add(framed);
  return framed;
}

/** A scratch buffer for the header (the event loop is single-threaded). */
const header = Buffer.allocUnsafe(JOURNAL_REQUEST_HEADROOM_BYTES);

/** Append a varint at `at`; returns the new offset, or -1 when `value` is not a safe unsigned integer. */
function putVarint(value: number, at: number): number {
  if (!Number.isSafeInteger(value) || value < 0) return -1;
  let v = value;
  let o = at;
  while (v >= 0x80) {
    header[o++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  header[o++] = v;
  return o;
}

function putUintField(field: number, value: unknown, at: number): number {
  if (at < 0 || value === undefined) return at;
  if (typeof value !== 'number') return -1;
  header[at] = field << 3; // wire type 0: varint
  return putVarint(value, at + 1);
}

/**
 * The request's message as a view over its records' allocation, or undefined when the records
 * were not framed by {@link frameRecordsForRequest} or a field cannot be written here.
 */
export function serializeJournalRequestInPlace(request: JournalRequest): Buffer | undefined {
  const records = request.records;
  if (!(records instanceof Uint8Array) || !withHeadroom.has(records)) return undefined;
  const id = request.journalId ?? '';
  if (typeof id !== 'string' || id.length > 64) return undefined;
  let o = putUintField(1, request.sequence, 0);
  if (o >= 0 && id.length > 0) {
    header[o] = (2 << 3) | 2;
    const n = header.write(id, o + 2, 'utf8');
    if (n !== id.length) return undefined; // not ASCII: protobufjs handles it
    header[o + 1] = n;
    o += 2 + n;
  }
  o = putUintField(3, request.epoch, o);
  o = putUintField(4, request.firstTxId, o);
  o = putUintField(5, request.count, o);
  o = putUintField(7, request.crc32c, o);
  if (o < 0) return undefined;
  header[o] = (8 << 3) | 2;
  header[o + 1] = REQUEST_SPARE_BYTES;
  header.fill(0, o + 2, o + 2 + REQUEST_SPARE_BYTES);
  o += 2 + REQUEST_SPARE_BYTES;
  header[o] = (6 << 3) | 2;
  o = putVarint(records.byteLength, o + 1);
  if (o < 0 || o > JOURNAL_REQUEST_HEADROOM_BYTES) return undefined;
  const message = Buffer.from(records.buffer, records.byteOffset - o, o + records.byteLength);
  header.copy(message, 0, 0, o);
  return message;
}

/**
 * Framing memory a writer reuses once a batch is acknowledged, so that a master sending large
 * batches does not allocate (and V8 count, towards its next full collection) a new batch-sized
 * buffer for each: only grpc-js's own copy of each message remains.
 *
 * Only whole allocations of at least {@link FramingBufferPool.minBytes} are kept (smaller
 * buffers may share Node's allocation pool with other data). The pool holds at most
 * `buffersMax` of them; when full, a returned buffer replaces the smallest one kept, if larger.
 *
 * Giving a buffer back promises that nothing reads it any more. For a writer's batch that holds
 * once the JournalNode acknowledged it: the batch has left the writer's queue, and grpc-js let
 * go of the message when it was sent (a message is copied behind grpc-js's 5-byte prefix and the
 * streaming call commits to one attempt long before an answer). Should that ever not hold, a
 * resent message would carry other bytes than its CRCs: the JournalNode refuses it as corrupt,
 * or takes it as a duplicate of a batch it holds.
 */
export class FramingBufferPool {
  /** Smallest allocation kept, bytes. */
  static readonly minBytes = 64 * 1024;
  private readonly free: ArrayBuffer[] = [];
  private reusedCount = 0;
  /** {@link take}, bound: the `reuse` argument of {@link frameRecordsForRequest}. */
  readonly reuse = (bytes: number): Buffer | undefined => this.take(bytes);

  constructor(readonly buffersMax: number) {
    if (!Number.isInteger(buffersMax) || buffersMax < 0) throw new RangeError(`framing pool of ${buffersMax} buffers`);
  }

  /** A buffer of exactly `bytes` over a kept allocation large enough, or undefined. */
  take(bytes: number): Buffer | undefined {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i]!.byteLength;
      if (size >= bytes && (best < 0 || size < this.free[best]!.byteLength)) best = i;
    }
    if (best < 0) return undefined;
    const [buffer] = this.free.splice(best, 1);
    this.reusedCount += 1;
    return Buffer.from(buffer!, 0, bytes);
  }

  /** Give back the allocation under `framed` (records from {@link frameRecordsForRequest}). */
  give(framed: Uint8Array): void {
    const buffer = framed.buffer;
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < FramingBufferPool.minBytes || this.buffersMax === 0) return;
    if (framed.byteOffset !== JOURNAL_REQUEST_HEADROOM_BYTES) return; // not at the start of its own allocation
    if (this.free.includes(buffer)) throw new Error('framing buffer given back twice');
    if (this.free.length < this.buffersMax) {
      this.free.push(buffer);
      return;
    }
    let smallest = 0;
    for (let i = 1; i < this.free.length; i++) if (this.free[i]!.byteLength < this.free[smallest]!.byteLength) smallest = i;
    if (this.free[smallest]!.byteLength < buffer.byteLength) this.free[smallest] = buffer;
  }

  /** Allocations kept now. */
  get size(): number {
    return this.free.length;
  }

  /** Buffers handed out by {@link take} so far. */
  get reused(): number {
    return this.reusedCount;
  }
}

/**
 * The gRPC message each received request's records were decoded from (the server's side):
 * protobufjs decodes `bytes` as views into the message it is given, which grpc-js hands over
 * and forgets.
 */
const messageOfRecords = new WeakMap<Uint8Array, Buffer>();

/**
 * Records whose message is at least this large are candidates for {@link roomBeforeRecords}:
 * a smaller message may be a view into a larger read buffer, which an entry made of it would
 * keep alive in the Raft log.
 */
export const IN_PLACE_MESSAGE_BYTES_MIN = 64 * 1024;

/** Bytes an allocation may hold besides its message (grpc-js's 5-byte prefix) for {@link roomBeforeRecords}. */
const MESSAGE_ALLOCATION_SLACK_BYTES = 64;

/** A requestDeserialize that remembers each request's message for {@link roomBeforeRecords}. */
export function rememberingMessages<T extends { records?: unknown }>(deserialize: (message: Buffer) => T): (message: Buffer) => T {
  return (message) => {
    const request = deserialize(message);
    const records = request.records;
    if (records instanceof Uint8Array && message.byteLength >= IN_PLACE_MESSAGE_BYTES_MIN) messageOfRecords.set(records, message);
    return request;
  };
}

/**
 * Bytes right before `records` that may be overwritten (0 when none): only for records decoded
 * by a {@link rememberingMessages} deserializer, lying inside their message, whose allocation is
 * the message (and grpc-js's prefix) alone, so an entry made of it holds no other memory. The bytes are the request's
 * own fields before its records, decoded already.
 */
export function roomBeforeRecords(records: Uint8Array): number {
  const message = messageOfRecords.get(records);
  if (message === undefined || message.buffer !== records.buffer) return 0;
  if (message.buffer.byteLength - message.byteLength > MESSAGE_ALLOCATION_SLACK_BYTES) return 0;
  const start = records.byteOffset - message.byteOffset;
  if (start < 0 || start + records.byteLength > message.byteLength) return 0;
  return start;
}
