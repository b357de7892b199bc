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

/** {@link frameRecords}, with the headroom in front: such records serialize in place. */
export function frameRecordsForRequest(firstTxId: number, records: readonly Uint8Array[]): Buffer {
  const whole = Buffer.allocUnsafe(JOURNAL_REQUEST_HEADROOM_BYTES + framedBytes(records));
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
