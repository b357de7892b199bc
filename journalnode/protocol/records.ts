/**
 * Framing of edit records, the same bytes on the wire (Journal, GetJournaledEdits) and in
 * segment files:
 *
 * ```
 * length u32 LE | crc32c u32 LE | txid u64 LE | data (length bytes)
 * ```
 * `length` counts `data` only (0 .. {@link recordBytesMax}); the CRC-32C covers the 8 txid
 * bytes followed by `data`. Records of one stream have consecutive txids.
 *
 * Parsed records are views into the buffer they were parsed from (no copy): keep the buffer
 * unchanged while they are in use.
 */
import { crc32c } from '@node-rs/crc32';
import { crc32cUpdate } from '../../raft/crc32c.ts';
import { framingHolds } from './record-crcs.ts';
import { CorruptRecordsError, InvalidArgumentError } from './errors.ts';
import { batchBytesMax, batchRecordsMax, recordBytesMax, recordHeaderBytes } from './limits.ts';

/** One edit: its txid and its opaque bytes. */
export interface EditRecord {
  readonly txid: number;
  readonly data: Uint8Array;
}

const twoPow32 = 0x1_0000_0000;
/** Largest high word of a txid that keeps it a safe integer (2^53 - 1). */
const txIdHighMax = 0x1f_ffff;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Write `txid` (a safe integer) as u64 LE at `offset`. */
export function writeTxId(buf: Buffer, txid: number, offset: number): void {
  buf.writeUInt32LE(txid % twoPow32, offset);
  buf.writeUInt32LE(Math.floor(txid / twoPow32), offset + 4);
}

/** Read a u64 LE txid at `offset`; returns -1 when it is not a safe integer. */
export function readTxId(buf: Buffer, offset: number): number {
  const high = buf.readUInt32LE(offset + 4);
  if (high > txIdHighMax) return -1;
  return high * twoPow32 + buf.readUInt32LE(offset);
}

/** Bytes that `records` take once framed. */
export function framedBytes(records: readonly Uint8Array[]): number {
  let total = 0;
  for (const record of records) total += recordHeaderBytes + record.byteLength;
  return total;
}

/**
 * Frame `records` with txids `firstTxId`, `firstTxId + 1`, ... into one buffer.
 * Asserts (throws InvalidArgumentError) on a bad txid, a record above recordBytesMax, or
 * no records at all.
 */
export function frameRecords(firstTxId: number, records: readonly Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafe(framedBytes(records));
  frameRecordsInto(out, 0, firstTxId, records);
  return out;
}

/**
 * Frame `records` into `out` from `offset` (it must have `framedBytes(records)` bytes there),
 * with the checks of {@link frameRecords}.
 */
export function frameRecordsInto(out: Buffer, offset: number, firstTxId: number, records: readonly Uint8Array[]): void {
  checkFrameable(firstTxId, records);
  let at = offset;
  let txid = firstTxId;
  for (const record of records) {
    if (record.byteLength > recordBytesMax) {
      throw new InvalidArgumentError(`record of txid ${txid} has ${record.byteLength} bytes, above ${recordBytesMax}`);
    }
    out.writeUInt32LE(record.byteLength, at);
    writeTxId(out, txid, at + 8);
    out.set(record, at + recordHeaderBytes);
    // The txid's 8 bytes by table, then the data natively from the caller's record: one native
    // call and no view over `out` per record (a view costs half as much as a 1 KiB CRC).
    out.writeUInt32LE(crc32c(record, crc32cUpdate(0, out, at + 8, at + recordHeaderBytes)), at + 4);
    at += recordHeaderBytes + record.byteLength;
    txid += 1;
  }
}

function checkFrameable(firstTxId: number, records: readonly Uint8Array[]): void {
  if (!Number.isSafeInteger(firstTxId) || firstTxId < 1) throw new InvalidArgumentError(`invalid first txid ${firstTxId}`);
  if (records.length === 0) throw new InvalidArgumentError('no records to frame');
  if (records.length - 1 > Number.MAX_SAFE_INTEGER - firstTxId) throw new InvalidArgumentError('txids above 2^53 - 1');
}

/**
 * Check the record starting at `offset` and return the offset after it. `expectedTxId` of 0
 * accepts any valid txid. Throws CorruptRecordsError naming `offset + baseOffset`.
 */
function checkRecordAt(buf: Buffer, offset: number, expectedTxId: number, baseOffset: number, checksum = true): number {
  const at = offset + baseOffset;
  const remaining = buf.byteLength - offset;
  if (remaining < recordHeaderBytes) {
    throw new CorruptRecordsError({ offset: at }, `truncated record header at offset ${at} (${remaining} bytes left)`);
  }
  const length = buf.readUInt32LE(offset);
  if (length > recordBytesMax) {
    throw new CorruptRecordsError({ offset: at }, `record length ${length} above ${recordBytesMax} at offset ${at}`);
  }
  if (remaining < recordHeaderBytes + length) {
    throw new CorruptRecordsError({ offset: at }, `truncated record at offset ${at}: ${length} data bytes announced, ${remaining - recordHeaderBytes} left`);
  }
  const txid = readTxId(buf, offset + 8);
  if (txid < 1) throw new CorruptRecordsError({ offset: at }, `invalid txid at offset ${at}`);
  if (expectedTxId !== 0 && txid !== expectedTxId) {
    throw new CorruptRecordsError({ offset: at }, `txid ${txid} at offset ${at}, expected ${expectedTxId}`);
  }
  if (!checksum) return offset + recordHeaderBytes + length;
  const stored = buf.readUInt32LE(offset + 4);
  const computed = crc32c(buf.subarray(offset + 8, offset + recordHeaderBytes + length));
  if (stored !== computed) {
    throw new CorruptRecordsError({ offset: at }, `checksum mismatch at offset ${at} (txid ${txid})`);
  }
  return offset + recordHeaderBytes + length;
}

/** Options of {@link parseRecords}. */
export interface ParseRecordsOptions {
  /** The txid the first record must have (0: any). */
  readonly firstTxId?: number;
  /** Added to offsets in error messages (the buffer's position in its file). */
  readonly baseOffset?: number;
}

/**
 * Parse every record of `buf`, which must end exactly after the last one. Txids must be
 * consecutive. Throws CorruptRecordsError (with the offset) on any damage; never anything else.
 */
export function parseRecords(bytes: Uint8Array, options: ParseRecordsOptions = {}): EditRecord[] {
  const result = parseRecordsPrefix(bytes, options);
  if (result.corruption !== undefined) throw result.corruption;
  return result.records;
}

/** What {@link parseRecordsPrefix} found. */
export interface ParsedPrefix {
  /** The valid records from the start. */
  readonly records: EditRecord[];
  /** Bytes covered by `records`. */
  readonly validBytes: number;
  /** Why parsing stopped before the end of the buffer, if it did. */
  readonly corruption: CorruptRecordsError | undefined;
  /**
   * True when parsing stopped only because the buffer ends inside a record (the bytes read
   * so far are valid): more bytes may complete it. False when the bytes are damaged.
   */
  readonly truncated: boolean;
}

/** True when the record at `offset` is cut short by the end of `buf` (length field sane). */
function isTruncatedAt(buf: Buffer, offset: number): boolean {
  const remaining = buf.byteLength - offset;
  if (remaining < recordHeaderBytes) return true;
  const length = buf.readUInt32LE(offset);
  return length <= recordBytesMax && remaining < recordHeaderBytes + length;
}

/**
 * Parse the longest valid prefix of `bytes` (consecutive txids): for an in-progress segment
 * whose tail may be torn by a crash.
 */
export function parseRecordsPrefix(bytes: Uint8Array, options: ParseRecordsOptions = {}): ParsedPrefix {
  const buf = asBuffer(bytes);
  const baseOffset = options.baseOffset ?? 0;
  const records: EditRecord[] = [];
  let expectedTxId = options.firstTxId ?? 0;
  let offset = 0;
  while (offset < buf.byteLength) {
    let next: number;
    try {
      next = checkRecordAt(buf, offset, expectedTxId, baseOffset);
    } catch (error) {
      if (error instanceof CorruptRecordsError) {
        return { records, validBytes: offset, corruption: error, truncated: isTruncatedAt(buf, offset) };
      }
      throw error;
    }
    const txid = readTxId(buf, offset + 8);
    records.push({ txid, data: buf.subarray(offset + recordHeaderBytes, next) });
    expectedTxId = txid + 1;
    offset = next;
  }
  return { records, validBytes: offset, corruption: undefined, truncated: false };
}

/**
 * Check a batch as a Journal request carries it: exactly `count` records with txids
 * `firstTxId .. firstTxId + count - 1`, nothing after the last record, the batch within the
 * limits and, unless `checksums` is false, every record's CRC valid. Throws
 * InvalidArgumentError for bad counts or sizes and CorruptRecordsError for damaged bytes.
 *
 * `checksums: false` checks the framing only (lengths, txids, count): for bytes whose record
 * CRCs were checked already and that a batch checksum ties to the checked bytes.
 */
export function validateFramed(bytes: Uint8Array, firstTxId: number, count: number, checksums = true): void {
  checkBatchShape(bytes.byteLength, firstTxId, count);
  const buf = asBuffer(bytes);
  // Framing only: one tight walk over the headers (record-crcs.ts); any anomaly is named by the
  // walk below.
  if (!checksums && framingHolds(buf, firstTxId, count)) return;
  let offset = 0;
  for (let i = 0; i < count; i += 1) {
    if (offset >= buf.byteLength) {
      throw new CorruptRecordsError({ offset }, `batch ends after ${i} records, ${count} announced`);
    }
    offset = checkRecordAt(buf, offset, firstTxId + i, 0, checksums);
  }
  if (offset !== buf.byteLength) {
    throw new CorruptRecordsError({ offset }, `${buf.byteLength - offset} bytes after the last of ${count} records`);
  }
}

/**
 * Check the numbers of a batch against the limits (no bytes read). Throws InvalidArgumentError.
 */
export function checkBatchShape(byteLength: number, firstTxId: number, count: number): void {
  if (!Number.isSafeInteger(firstTxId) || firstTxId < 1) throw new InvalidArgumentError(`invalid first txid ${firstTxId}`);
  if (!Number.isSafeInteger(count) || count < 1 || count > batchRecordsMax) {
    throw new InvalidArgumentError(`invalid record count ${count} (1 .. ${batchRecordsMax})`);
  }
  if (count - 1 > Number.MAX_SAFE_INTEGER - firstTxId) throw new InvalidArgumentError('txids above 2^53 - 1');
  if (byteLength > batchBytesMax) throw new InvalidArgumentError(`batch of ${byteLength} bytes above ${batchBytesMax}`);
  if (byteLength < count * recordHeaderBytes) {
    throw new InvalidArgumentError(`batch of ${byteLength} bytes too small for ${count} records`);
  }
}

/** Position of one record found by {@link scanRecordHeaders}. */
export interface RecordPosition {
  readonly txid: number;
  /** Offset of the record's header in the scanned buffer. */
  readonly offset: number;
  /** Framed size (header + data). */
  readonly bytes: number;
}

/**
 * Walk the record headers of `bytes` from `offset` without checking CRCs (for data already
 * validated when it was written), calling `visit` for each whole record; stops at a partial
 * record at the end, or at a record for which `visit` returns false (that record is not
 * passed over). Returns the offset where it stopped.
 * Throws CorruptRecordsError on an impossible length or txid.
 */
export function scanRecordHeaders(bytes: Uint8Array, offset: number, visit: (position: RecordPosition) => boolean, baseOffset = 0): number {
  const buf = asBuffer(bytes);
  let at = offset;
  while (buf.byteLength - at >= recordHeaderBytes) {
    const length = buf.readUInt32LE(at);
    if (length > recordBytesMax) {
      throw new CorruptRecordsError({ offset: at + baseOffset }, `record length ${length} above ${recordBytesMax} at offset ${at + baseOffset}`);
    }
    const bytesOfRecord = recordHeaderBytes + length;
    if (buf.byteLength - at < bytesOfRecord) break;
    const txid = readTxId(buf, at + 8);
    if (txid < 1) throw new CorruptRecordsError({ offset: at + baseOffset }, `invalid txid at offset ${at + baseOffset}`);
    if (!visit({ txid, offset: at, bytes: bytesOfRecord })) break;
    at += bytesOfRecord;
  }
  return at;
}
