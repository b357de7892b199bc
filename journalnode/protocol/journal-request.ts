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
 * The message is ordinary protobuf: fields 1-5 and 7 first, then `records` (field 6); readers
 * accept fields in any order. Anything else (records framed elsewhere, a number that is not a
 * safe unsigned integer) returns undefined, and the caller serializes with protobufjs.
 */
import { framedBytes, frameRecordsInto } from './records.ts';
import type { JournalRequest } from './generated/qjournal/v1/JournalRequest.ts';

/**
 * Free bytes framed records are preceded by. The largest header: sequence, epoch and first
 * txid (1 + 10 bytes each), a 64-byte journal id (1 + 1 + 64), count and crc32c (1 + 5 each),
 * the records' tag and length (1 + 4) = 116.
 */
export const JOURNAL_REQUEST_HEADROOM_BYTES = 128;

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
