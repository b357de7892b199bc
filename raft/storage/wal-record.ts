/**
 * The WAL record format: encoding a batch of entries into one buffer, and scanning a segment.
 * Pure functions (no I/O), fuzzed by the tests.
 *
 * Record layout, little endian, {@link RECORD_HEADER_BYTES} = 25 bytes of header:
 *
 * | offset | size | field   | meaning                                                        |
 * |--------|------|---------|----------------------------------------------------------------|
 * | 0      | u32  | length  | bytes after the crc field: 17 + payload bytes                  |
 * | 4      | u32  | crc32c  | CRC-32C (Castagnoli) of bytes [8, 8 + length): type..payload,  |
 * |        |      |         | continued from the file's salt (see below)                     |
 * | 8      | u8   | type    | 1 entry normal, 2 entry confChange, 3 reset marker             |
 * | 9      | u64  | term    | safe integer (high word < 2^21); >= 1 for entries, 0 for reset |
 * | 17     | u64  | index   | safe integer >= 1                                              |
 * | 25     | ...  | payload | the entry's data (empty for a reset marker)                    |
 *
 * Meaning of a sequence of records (replay): an entry record with index `i` appends at `i`,
 * discarding every entry with index >= `i` first ("the later write of an index wins", exactly
 * as `Wal.append` truncates a suffix); a reset marker with index `m` discards the whole log,
 * the next entry being `m` (used after installing a snapshot at `m - 1`). An entry whose index
 * is past the last index + 1 is a gap, hence corruption.
 *
 * Salt: the CRC of every record starts from a 32-bit salt instead of 0 (a continued CRC-32C,
 * `crc32c(body, salt)`). A WAL file named `*.wal` uses {@link walRecordSalt} of its sequence
 * number; files of the first format (`*.log`) use 0. The WAL reuses the files of compacted
 * segments (wal.ts): a reused file still holds its previous records after the point where the
 * new ones end, and those were sealed with another salt, so they read as damage, never as
 * entries of the new log. Two different salts never give one body the same CRC (the CRC of a
 * body continued from a state is a bijection of that state).
 */
import { crc32c } from '@node-rs/crc32';
import type { Entry, EntryType } from '../core/types.ts';

export const RECORD_HEADER_BYTES = 25;
/** `length` of a record with an empty payload: type + term + index. */
export const RECORD_FIXED_LENGTH = 17;

export const RECORD_TYPE_NORMAL = 1;
export const RECORD_TYPE_CONF_CHANGE = 2;
export const RECORD_TYPE_RESET = 3;

/** Largest entry payload the WAL accepts and decodes (a bigger `length` field is damage). */
export const ENTRY_BYTES_MAX = 64 * 1024 * 1024;

const TWO_POW_32 = 0x1_0000_0000;
/** Safe integers have a high word below 2^21. */
const HIGH_WORD_LIMIT = 0x20_0000;

function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value % TWO_POW_32, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_POW_32), offset + 4);
}

/** Returns -1 when the value is not a safe integer. */
function readU64(buf: Buffer, offset: number): number {
  const high = buf.readUInt32LE(offset + 4);
  if (high >= HIGH_WORD_LIMIT) return -1;
  return high * TWO_POW_32 + buf.readUInt32LE(offset);
}

/**
 * The record salt of the WAL file with this sequence number: the sequence itself, unique per
 * directory and never 0 (the first format's salt). Sequences stay below 2^32 (a file per
 * 64 MiB written: 256 EiB).
 */
export function walRecordSalt(sequence: number): number {
  if (!Number.isSafeInteger(sequence) || sequence < 1 || sequence >= TWO_POW_32) throw new RangeError(`wal: sequence ${sequence} out of range`);
  return sequence;
}

function recordType(type: EntryType): number {
  return type === 'normal' ? RECORD_TYPE_NORMAL : RECORD_TYPE_CONF_CHANGE;
}

/** Bytes the records of `entries` take. */
export function encodedBytes(entries: readonly Entry[]): number {
  let total = 0;
  for (const e of entries) total += RECORD_HEADER_BYTES + e.data.length;
  return total;
}

/**
 * Encode entries (already validated by the caller) into one buffer of back-to-back records.
 * One allocation per batch; the crc is computed in place.
 */
export function encodeEntries(entries: readonly Entry[], salt = 0): Buffer {
  const buf = Buffer.allocUnsafe(encodedBytes(entries));
  let o = 0;
  for (const e of entries) {
    const length = RECORD_FIXED_LENGTH + e.data.length;
    buf.writeUInt32LE(length, o);
    buf[o + 8] = recordType(e.type);
    writeU64(buf, o + 9, e.term);
    writeU64(buf, o + 17, e.index);
    buf.set(e.data, o + RECORD_HEADER_BYTES);
    buf.writeUInt32LE(crc32c(buf.subarray(o + 8, o + 8 + length), salt), o + 4);
    o += 8 + length;
  }
  return buf;
}

/** Encode a reset marker: the log restarts empty, the next entry being `nextIndex`. */
export function encodeReset(nextIndex: number, salt = 0): Buffer {
  const buf = Buffer.alloc(RECORD_HEADER_BYTES);
  buf.writeUInt32LE(RECORD_FIXED_LENGTH, 0);
  buf[8] = RECORD_TYPE_RESET;
  writeU64(buf, 9, 0);
  writeU64(buf, 17, nextIndex);
  buf.writeUInt32LE(crc32c(buf.subarray(8, RECORD_HEADER_BYTES), salt), 4);
  return buf;
}

/** A decoded record: an entry, or a reset marker (`entry === null`, `index` = the next index). */
export interface DecodedRecord {
  readonly offset: number;
  readonly index: number;
  readonly entry: Entry | null;
}

/** Why a record could not be decoded. */
export interface BadRecord {
  readonly offset: number;
  readonly reason: string;
}

/** Result of {@link scanSegment}: the valid prefix, and the first bad record if any. */
export interface SegmentScan {
  readonly records: DecodedRecord[];
  /** Bytes of valid records from the start: where a repair truncates. */
  readonly validBytes: number;
  readonly bad: BadRecord | null;
}

/**
 * Decode the record at `offset`; returns the record, or the reason it is bad. Entry data are
 * views into `buf` (no copy).
 */
export function decodeRecord(buf: Buffer, offset: number, salt = 0): DecodedRecord | BadRecord {
  const remaining = buf.length - offset;
  if (remaining < RECORD_HEADER_BYTES) return { offset, reason: `truncated header (${remaining} bytes)` };
  const length = buf.readUInt32LE(offset);
  if (length < RECORD_FIXED_LENGTH || length > RECORD_FIXED_LENGTH + ENTRY_BYTES_MAX) return { offset, reason: `bad length ${length}` };
  if (8 + length > remaining) return { offset, reason: `truncated record (length ${length}, ${remaining - 8} bytes left)` };
  const body = buf.subarray(offset + 8, offset + 8 + length);
  const stored = buf.readUInt32LE(offset + 4);
  if (crc32c(body, salt) !== stored) return { offset, reason: 'crc32c mismatch' };
  const type = buf[offset + 8];
  const term = readU64(buf, offset + 9);
  const index = readU64(buf, offset + 17);
  if (index < 1) return { offset, reason: `bad index` };
  if (type === RECORD_TYPE_RESET) {
    if (length !== RECORD_FIXED_LENGTH || term !== 0) return { offset, reason: 'bad reset marker' };
    return { offset, index, entry: null };
  }
  if (type !== RECORD_TYPE_NORMAL && type !== RECORD_TYPE_CONF_CHANGE) return { offset, reason: `bad type ${String(type)}` };
  if (term < 1) return { offset, reason: 'bad term' };
  const entry: Entry = {
    term,
    index,
    type: type === RECORD_TYPE_NORMAL ? 'normal' : 'confChange',
    data: buf.subarray(offset + RECORD_HEADER_BYTES, offset + 8 + length),
  };
  return { offset, index, entry };
}

function isBad(r: DecodedRecord | BadRecord): r is BadRecord {
  return 'reason' in r;
}

/** Decode records from the start of `buf` up to the end or the first bad record. */
export function scanSegment(buf: Buffer, salt = 0): SegmentScan {
  const records: DecodedRecord[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const r = decodeRecord(buf, offset, salt);
    if (isBad(r)) return { records, validBytes: offset, bad: r };
    records.push(r);
    offset += 8 + buf.readUInt32LE(offset);
  }
  return { records, validBytes: offset, bad: null };
}

/**
 * After a bad record at `from`: the offset of the first valid record anywhere after it, or
 * -1. A torn write leaves only a prefix of a batch, so nothing valid can follow a tear; a
 * valid record after a bad one means damage in the middle. Cost: one u32 read per byte, and a
 * crc only where the length field is plausible.
 */
export function findValidRecordAfter(buf: Buffer, from: number, salt = 0): number {
  for (let o = from + 1; o + RECORD_HEADER_BYTES <= buf.length; o++) {
    const length = buf.readUInt32LE(o);
    if (length < RECORD_FIXED_LENGTH || o + 8 + length > buf.length) continue;
    // What a valid record needs besides its CRC, checked first: in random bytes (a payload,
    // a reused file's old records) a plausible length alone is frequent, and each one would
    // cost a CRC over up to the rest of the buffer.
    const type = buf[o + 8]!;
    if (type < RECORD_TYPE_NORMAL || type > RECORD_TYPE_RESET) continue;
    if (buf.readUInt32LE(o + 13) >= HIGH_WORD_LIMIT || buf.readUInt32LE(o + 21) >= HIGH_WORD_LIMIT) continue;
    if (!isBad(decodeRecord(buf, o, salt))) return o;
  }
  return -1;
}
