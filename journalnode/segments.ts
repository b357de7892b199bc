/**
 * Segment files of a journal, readable with no Raft state.
 *
 * Layout: `<dataDir>/journals/<journalId>/current/` holds
 * - `edits_inprogress_<first>`: the open segment (at most one, the last);
 * - `edits_<first>-<last>`: finalized segments;
 * with txids zero-padded to 19 digits, as HDFS names them.
 *
 * Format: a segment file is the framed records and nothing else (no header): record after
 * record, `length u32 | crc32c u32 | txid u64 | data` (see protocol/records.ts), txids
 * consecutive from `<first>`. An empty segment is an empty file. The file name carries the
 * format: a future incompatible format would use another name prefix. Without a header, a
 * range of a segment file is exactly what GetJournaledEdits ships.
 */
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { CorruptRecordsError } from './protocol/errors.ts';
import type { EditRecord } from './protocol/records.ts';
import { parseRecordsPrefix } from './protocol/records.ts';
import { recordBytesMax, recordHeaderBytes } from './protocol/limits.ts';

/** Digits of a txid in a segment file name. */
export const txIdDigits = 19;

/** Bytes read per call when streaming a segment file. */
export const segmentReadChunkBytes = 1024 * 1024;

/** Bytes a syncing copy (`copyFilePrefix`) writes between two fdatasyncs. */
const copySyncBytes = 8 * 1024 * 1024;

const inProgressPrefix = 'edits_inprogress_';
const inProgressRe = /^edits_inprogress_(\d{19})$/;
const finalizedRe = /^edits_(\d{19})-(\d{19})$/;

/** The directory of one journal: `<dataDir>/journals/<journalId>`. */
export function journalDir(dataDir: string, journalId: string): string {
  return join(dataDir, 'journals', journalId);
}

/** The segment directory of one journal: `<dataDir>/journals/<journalId>/current`. */
export function journalCurrentDir(dataDir: string, journalId: string): string {
  return join(journalDir(dataDir, journalId), 'current');
}

function padTxId(txid: number): string {
  if (!Number.isSafeInteger(txid) || txid < 0) throw new RangeError(`invalid txid ${txid}`);
  return String(txid).padStart(txIdDigits, '0');
}

/** `edits_inprogress_<first>`. */
export function inProgressFileName(firstTxId: number): string {
  return inProgressPrefix + padTxId(firstTxId);
}

/** `edits_<first>-<last>`. */
export function finalizedFileName(firstTxId: number, lastTxId: number): string {
  return `edits_${padTxId(firstTxId)}-${padTxId(lastTxId)}`;
}

/** What a segment file name says. `lastTxId` is known only for finalized segments. */
export interface SegmentName {
  readonly firstTxId: number;
  readonly lastTxId: number | undefined;
  readonly inProgress: boolean;
}

/** Parse a segment file name; undefined for any other name. */
export function parseSegmentFileName(name: string): SegmentName | undefined {
  const open = inProgressRe.exec(name);
  if (open !== null) {
    const firstTxId = Number(open[1]);
    return Number.isSafeInteger(firstTxId) ? { firstTxId, lastTxId: undefined, inProgress: true } : undefined;
  }
  const done = finalizedRe.exec(name);
  if (done !== null) {
    const firstTxId = Number(done[1]);
    const lastTxId = Number(done[2]);
    if (!Number.isSafeInteger(firstTxId) || !Number.isSafeInteger(lastTxId) || lastTxId < firstTxId) return undefined;
    return { firstTxId, lastTxId, inProgress: false };
  }
  return undefined;
}

/** A segment file found in a directory. */
export interface SegmentFile extends SegmentName {
  readonly fileName: string;
  readonly path: string;
  readonly sizeBytes: number;
}

/**
 * The segment files of `dir`, ascending by first txid (a finalized segment before an
 * in-progress one with the same first txid). Other files are ignored. A missing directory
 * has no segments.
 */
export async function listSegments(dir: string): Promise<SegmentFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const found: SegmentFile[] = [];
  for (const fileName of names) {
    const name = parseSegmentFileName(fileName);
    if (name === undefined) continue;
    const path = join(dir, fileName);
    const { size } = await stat(path);
    found.push({ ...name, fileName, path, sizeBytes: size });
  }
  found.sort((a, b) => a.firstTxId - b.firstTxId || Number(a.inProgress) - Number(b.inProgress));
  return found;
}

/** Options of {@link streamSegmentRecords}. */
export interface StreamSegmentOptions {
  /** Byte offset of a record start to read from (default 0). */
  readonly startOffset?: number;
  /** The txid of the record at `startOffset` (checked; 0: any). */
  readonly firstTxId?: number;
  /**
   * When true, a damaged or truncated tail ends the stream (reported through `onTornTail`)
   * instead of throwing: the tail of an in-progress segment torn by a crash.
   */
  readonly tolerateTornTail?: boolean;
  readonly onTornTail?: (error: CorruptRecordsError) => void;
}

/**
 * Stream the records of a segment file in chunks of {@link segmentReadChunkBytes} (memory
 * bounded by a chunk plus one record). Throws CorruptRecordsError naming the file and the
 * offset on damage (unless tolerated at the tail). Records are views into fresh chunk buffers.
 */
export async function* streamSegmentRecords(path: string, options: StreamSegmentOptions = {}): AsyncGenerator<EditRecord> {
  const handle = await open(path, 'r');
  try {
    const end = (await handle.stat()).size;
    let position = options.startOffset ?? 0;
    let carry: Buffer = Buffer.alloc(0);
    let expectedTxId = options.firstTxId ?? 0;
    const fail = (error: CorruptRecordsError): CorruptRecordsError =>
      new CorruptRecordsError({ ...(error.offset === undefined ? {} : { offset: error.offset }), filePath: path }, `${path}: ${error.message}`);
    while (position < end || carry.byteLength > 0) {
      const atEnd = position >= end;
      let buf = carry;
      if (!atEnd) {
        const want = Math.min(segmentReadChunkBytes, end - position);
        const chunk = Buffer.allocUnsafe(want);
        const { bytesRead } = await handle.read(chunk, 0, want, position);
        if (bytesRead === 0) break;
        buf = carry.byteLength === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
        position += bytesRead;
      }
      const base = position - buf.byteLength;
      const parsed = parseRecordsPrefix(buf, { firstTxId: expectedTxId, baseOffset: base });
      for (const record of parsed.records) yield record;
      const last = parsed.records.at(-1);
      if (last !== undefined) expectedTxId = last.txid + 1;
      carry = buf.subarray(parsed.validBytes);
      if (parsed.corruption === undefined) continue;
      if (parsed.truncated && position < end) {
        if (carry.byteLength > recordHeaderBytes + recordBytesMax) throw fail(parsed.corruption);
        continue;
      }
      const error = fail(parsed.corruption);
      if (options.tolerateTornTail !== true) throw error;
      options.onTornTail?.(error);
      return;
    }
  } finally {
    await handle.close();
  }
}

/** The content of one segment file. */
export interface SegmentContent extends SegmentName {
  readonly records: EditRecord[];
  /** Bytes of valid records (the file length unless the tail is torn). */
  readonly validBytes: number;
  /** Why the in-progress tail was cut, if it was. */
  readonly tornTail: CorruptRecordsError | undefined;
}

/**
 * Read a whole segment file (named as in this module) into memory. A finalized segment must
 * hold exactly its named txids; an in-progress one may end in a torn tail (reported, not
 * thrown). Throws CorruptRecordsError on damage, RangeError for a name that is not a segment.
 */
export async function readSegmentFile(path: string): Promise<SegmentContent> {
  const fileName = path.split(/[\\/]/).at(-1) ?? path;
  const name = parseSegmentFileName(fileName);
  if (name === undefined) throw new RangeError(`not a segment file name: ${fileName}`);
  const records: EditRecord[] = [];
  let tornTail: CorruptRecordsError | undefined;
  let validBytes = 0;
  for await (const record of streamSegmentRecords(path, {
    firstTxId: name.firstTxId,
    tolerateTornTail: name.inProgress,
    onTornTail: (error) => {
      tornTail = error;
    },
  })) {
    records.push(record);
    validBytes += recordHeaderBytes + record.data.byteLength;
  }
  if (!name.inProgress) {
    const lastTxId = records.at(-1)?.txid ?? name.firstTxId - 1;
    if (lastTxId !== name.lastTxId) {
      throw new CorruptRecordsError({ offset: validBytes, filePath: path }, `${path}: holds txids up to ${lastTxId}, its name says ${name.lastTxId}`);
    }
  }
  return { ...name, records, validBytes, tornTail };
}

/** A gap or overlap between the segments of a journal directory. */
export class JournalDirectoryError extends Error {
  override readonly name = 'JournalDirectoryError';
  readonly dir: string;
  constructor(dir: string, message: string, options?: ErrorOptions) {
    super(`${dir}: ${message}`, options);
    this.dir = dir;
  }
}

/** Options of {@link catJournalDir}. */
export interface CatJournalOptions {
  /** Called when the in-progress segment ends in a torn tail (after a crash). */
  readonly onTornTail?: (error: CorruptRecordsError) => void;
}

/**
 * Yield every edit with txid >= `fromTxId` from a bare segment directory (a `current/`),
 * across segments, in txid order: the `qjm cat` of a directory. Starts at the first txid held
 * when `fromTxId` is below it. Throws JournalDirectoryError on a gap between segments and
 * CorruptRecordsError on damaged records (a torn tail of the in-progress segment only ends it).
 */
export async function* catJournalDir(dir: string, fromTxId = 1, options: CatJournalOptions = {}): AsyncGenerator<EditRecord> {
  const segments = dedupeSegments(await listSegments(dir));
  let expectedTxId: number | undefined;
  for (const segment of segments) {
    if (segment.lastTxId !== undefined && segment.lastTxId < fromTxId) continue;
    if (expectedTxId !== undefined && segment.firstTxId !== expectedTxId) {
      throw new JournalDirectoryError(dir, `gap: ${segment.fileName} starts at txid ${segment.firstTxId}, expected ${expectedTxId}`);
    }
    let next = segment.firstTxId;
    for await (const record of streamSegmentRecords(segment.path, {
      firstTxId: segment.firstTxId,
      tolerateTornTail: segment.inProgress,
      ...(options.onTornTail === undefined ? {} : { onTornTail: options.onTornTail }),
    })) {
      next = record.txid + 1;
      if (record.txid >= fromTxId) yield record;
    }
    if (segment.lastTxId !== undefined && next !== segment.lastTxId + 1) {
      throw new CorruptRecordsError({ filePath: segment.path }, `${segment.path}: holds txids up to ${next - 1}, its name says ${segment.lastTxId}`);
    }
    expectedTxId = next;
  }
}

/** Keep one segment per first txid (finalized over in-progress, as after a crash mid-rename). */
function dedupeSegments(segments: SegmentFile[]): SegmentFile[] {
  const out: SegmentFile[] = [];
  for (const segment of segments) {
    const previous = out.at(-1);
    if (previous !== undefined && previous.firstTxId === segment.firstTxId) continue;
    out.push(segment);
  }
  return out;
}

/**
 * Read `length` bytes of `path` at `offset`. Throws if the file holds fewer (a short file is
 * not what the caller's state says it is).
 */
export async function readFileRange(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) throw new RangeError(`${path}: ${length} bytes expected at offset ${offset}, ${done} read`);
      done += bytesRead;
    }
    return out;
  } finally {
    await handle.close();
  }
}

/** fsync a file by path. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a directory (its entries: created, renamed, deleted files). */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Copy the first `length` bytes of `source` (a path, or a handle open for reading, named
 * `sourceName` in errors) into a new file `target` (which must not exist), in chunks, and
 * fsync it when `sync`. Throws if `source` is shorter. A handle given is not closed.
 * Resolves with the CRC-32C of the bytes copied.
 */
export async function copyFilePrefix(source: string | FileHandle, target: string, length: number, sync: boolean, sourceName = String(source)): Promise<number> {
  const input = typeof source === 'string' ? await open(source, 'r') : source;
  try {
    const output = await open(target, 'wx');
    try {
      const chunk = Buffer.allocUnsafe(Math.min(segmentReadChunkBytes, Math.max(length, 1)));
      let done = 0;
      let synced = 0;
      let crc = 0;
      while (done < length) {
        const want = Math.min(chunk.byteLength, length - done);
        const { bytesRead } = await input.read(chunk, 0, want, done);
        if (bytesRead === 0) throw new RangeError(`${sourceName}: ${length} bytes expected, ${done} read`);
        crc = crc32c(chunk.subarray(0, bytesRead), crc);
        let written = 0;
        while (written < bytesRead) {
          const { bytesWritten } = await output.write(chunk, written, bytesRead - written, done + written);
          written += bytesWritten;
        }
        done += bytesRead;
        // Write behind: a long copy never leaves a burst of dirty pages.
        if (sync && done - synced >= copySyncBytes) {
          await output.datasync();
          synced = done;
        }
      }
      if (sync) await output.sync();
      return crc;
    } finally {
      await output.close();
    }
  } finally {
    if (typeof source === 'string') await input.close();
  }
}
