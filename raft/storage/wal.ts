/**
 * The segmented write-ahead log of the Raft runtime.
 *
 * Files: `wal-<sequence>-<firstIndex>.wal` (both 16 decimal digits, zero padded) in one
 * directory. `sequence` orders the segments (a truncating append may start a segment at an
 * index lower than the previous segment's); `firstIndex` is the index of the segment's first
 * record. Records are described in `wal-record.ts`; their CRCs are salted with the file's
 * sequence. Segments of the first format, `wal-<sequence>-<firstIndex>.log` (unsalted, salt 0),
 * are still read.
 *
 * Reuse: compaction does not delete a `.wal` segment but renames it `free-<sequence>.wal`
 * (at most `recycleFilesMax` of them; the rest are deleted), and the next segment to start is
 * such a file renamed, overwritten from its first byte. An fdatasync after writing into blocks
 * the file already has changes no file-system metadata, so it is one data write and a cache
 * flush; after an append that extends a file it also commits the file system's journal, which
 * on ext4 (data=ordered) first writes out every other file's dirty data, the segment files of
 * the journal state machine included. Measured on this project's 2-core VM with three
 * fdatasync-ing writers and three writers that do not sync: 1.9-2.2 GB/s and 1,180-1,310
 * fdatasyncs per second when the syncing writers overwrite, against 0.9-1.2 GB/s and 94-210
 * when they append (and no better with `fallocate`, whose unwritten extents must be converted
 * at the first write). A reused file holds records of its previous life past the new records'
 * end; their salt is another one, so a scan stops there (reads them as a torn tail). Before a
 * reused segment stops being the last one (a roll, `close`), it is truncated to its records, so
 * that only the last segment can ever end in such bytes.
 *
 * A write over a reused file is padded with zeros to the end of its last page. A write that
 * covers a page only in part makes the kernel read that page from the disk first when it is not
 * cached, and a reused file's pages were dropped in its previous life: one synchronous 4 KiB
 * read per batch, on the event loop (writes of a few kilobytes are synchronous). Measured in
 * the bench's tail-lag run (10,000 edits/s): 700-1,100 disk reads/s in a run that only writes,
 * and 11-12% of every JournalNode's main thread in the WAL's `writev`, against about 0 reads/s
 * and 2% with the padding; the run's tail lag, acknowledgement latency and throughput rows
 * showed no difference beyond the noise on this VM's disk, whose reads take a fraction of a
 * millisecond (on a disk with seek times, each read would cost milliseconds per batch).
 * The zeros cost no disk bytes (the page is written whole anyway) and read as a torn tail
 * like the old records; the next batch writes over them in a page now cached.
 *
 * Writing: appends are encoded at call time and queued (an entry payload of at least
 * {@link ZERO_COPY_PAYLOAD_BYTES_MIN} is not copied: its own buffer is handed to `writev`
 * between the records around it); one flush loop writes every queued
 * batch with ONE `writev` on the current segment, then one `fdatasync`, then resolves the
 * appends it covered (group commit: appends that arrive while an fsync runs go into the next
 * write). There is never more than one write in flight on a descriptor. A segment rolls at a
 * batch boundary when the batch would push it past `segmentBytesMax` (the new file is created,
 * fsynced, and the directory fsynced before the batch is written into it).
 *
 * Reading back (`readEntries`): the WAL keeps where each
 * live entry's record lies (segment, offset, length: wal-positions.ts), from its writes and from
 * the replay at open, so that the runtime can drop applied entries from memory and still send
 * them to a follower that is behind (raft/node.ts `evictEntries`, raft/read-ahead.ts). A run of
 * records back to back is one read; every record read is checked (CRC, index) before it is
 * returned.
 *
 * Failure: a write or fsync error is fatal (fsyncgate): the WAL stops, the failing appends and
 * every later call reject with the same {@link FatalStorageError}. Nothing is retried.
 *
 * Recovery (`openWal`): replays every segment in order ("the later write of an index wins").
 * A damaged tail of the LAST segment (a torn write) is truncated at the last valid record and
 * reported; a bad record followed by a valid one, a bad record in any other segment, or a gap
 * in the indexes throws {@link WalCorruptError}.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { WalPositions } from './wal-positions.ts';
import type { Entry } from '../core/types.ts';
import { FatalStorageError, WalClosedError, WalCorruptError } from './errors.ts';
import { ensureDirectory, nodeFileSystem, type FileHandle, type FileSystem } from './fs.ts';
import { alignDownToPage, alignUpToPage, PAGE_BYTES, PAGE_CACHE_DROP_BYTES_MIN } from './page-cache.ts';
import { crc32c } from '@node-rs/crc32';
import { crc32cCombine, crc32cCombineShifted, crc32cShift, entryDataCrc32c } from '../crc32c.ts';
import {
  ENTRY_BYTES_MAX,
  walRecordSalt,
  RECORD_FIXED_LENGTH,
  RECORD_HEADER_BYTES,
  RECORD_TYPE_CONF_CHANGE,
  RECORD_TYPE_NORMAL,
  encodeEntries,
  encodeReset,
  decodeRecord,
  findValidRecordAfter,
  scanSegment,
} from './wal-record.ts';

/** Structured log sink: a message and fields (pino-compatible in spirit). */
export type StorageLog = (msg: string, fields?: object) => void;

export interface WalOptions {
  fs?: FileSystem | undefined;
  /** A segment rolls once the next batch would pass this size (a single bigger batch still fits in one segment). Default 64 MiB. */
  segmentBytesMax?: number | undefined;
  /** At most this many bytes in one write + fsync; the rest waits for the next one. Default 16 MiB. */
  batchBytesMax?: number | undefined;
  /** Compacted segments kept for reuse as later segments (see the module comment). Default {@link WAL_RECYCLE_FILES_MAX}; 0 deletes them. */
  recycleFilesMax?: number | undefined;
  log?: StorageLog | undefined;
}

/**
 * Default most compacted segment files kept for reuse: 8 of 64 MiB, the WAL written between two
 * snapshots of a JournalNode at its default `--snapshot-bytes` (512 MiB).
 */
export const WAL_RECYCLE_FILES_MAX = 8;

/** What `openWal` truncated from the tail of the last segment. */
export interface WalRepair {
  readonly file: string;
  /** Where the file was truncated (bytes). */
  readonly offset: number;
  readonly bytesDropped: number;
}

/** Counters, monotonic, for metrics. */
export interface WalStats {
  /** fdatasync calls on segments (one per batch written). */
  fsyncs: number;
  /** Record bytes written. */
  bytesWritten: number;
  /** `append` calls accepted. */
  appends: number;
  /** Batches written (one writev each). */
  batches: number;
  /** Segments created. */
  segmentsCreated: number;
  /** Segments deleted by compaction (reused ones included). */
  segmentsDeleted: number;
  /** Segments started in a reused file (counted in `segmentsCreated` too). */
  segmentsReused: number;
  /** Entries read back by `readEntries` (data the runtime had evicted from memory). */
  entriesReadBack: number;
}

export interface Wal {
  /**
   * Append contiguous entries. `entries[0].index` must be in `[1, lastIndex + 1]`; if it is
   * `<= lastIndex` the suffix from there is discarded first (by the new records themselves).
   * Resolves once an fsync covering these entries (and every earlier append) completed.
   * Appends take effect in call order. Rejects with FatalStorageError once the WAL failed.
   * An empty `entries` is a barrier: it resolves once everything appended before is durable.
   * Large payloads are written from the entries' own buffers: they must not change until the
   * append resolves (Raft entries never change).
   * The queue of appends not yet written is bounded by the caller (the runtime's in-flight limits).
   */
  append(entries: readonly Entry[]): Promise<void>;
  /**
   * Discard the whole log: the next append must start at `nextIndex` (used after installing a
   * snapshot at `nextIndex - 1`). Written as a marker record, durable when resolved.
   */
  reset(nextIndex: number): Promise<void>;
  /**
   * Delete whole segments whose live entries all have index <= `index` (the segment holding
   * `index + 1` and the current segment are kept). Call once a snapshot covers `index`.
   */
  compact(index: number): Promise<void>;
  /** Index of the last appended entry (appended: accepted, maybe not yet durable); `firstIndex - 1` when empty. */
  readonly lastIndex: number;
  /** Index of the first entry still held (entries below were compacted or reset away). */
  readonly firstIndex: number;
  readonly stats: Readonly<WalStats>;
  /**
   * Read live entries back from the segment files, off the event loop: those from `lo`, before
   * `hi`, at most `bytesMax` of records (at least one; default: all). Only entries whose append
   * resolved may be read. Rejects with {@link WalCorruptError} when a record is not the one
   * written there, or a plain Error for an entry the WAL does not hold. The runtime reads the
   * entries it evicted from memory this way (raft/read-ahead.ts); entries compacted or
   * overwritten while the read runs may come back damaged (a rejection) or as they were: the
   * caller checks. Reads with node:fs directly, not through `WalOptions.fs`.
   */
  readEntries(lo: number, hi: number, bytesMax?: number): Promise<Entry[]>;
  /** True while the WAL knows where entry `index` lies (written or replayed, not compacted). */
  holds(index: number): boolean;
  /** Wait for queued appends, then close. Later appends reject with WalClosedError. */
  close(): Promise<void>;
}

export interface OpenedWal {
  wal: Wal;
  /** The live entries, in index order (data are views into the segment buffers read at open). */
  entries: Entry[];
  repair: WalRepair | null;
}

/** Default `segmentBytesMax`. */
export const WAL_SEGMENT_BYTES_DEFAULT = 64 * 1024 * 1024;
const DEFAULT_SEGMENT_BYTES_MAX = WAL_SEGMENT_BYTES_DEFAULT;
const DEFAULT_BATCH_BYTES_MAX = 16 * 1024 * 1024;
const SEGMENT_NAME = /^wal-(\d{16})-(\d{16})\.(log|wal)$/;
const FREE_NAME = /^free-(\d{16})\.wal$/;

/** The file name of a segment (salted records: `walRecordSalt(sequence)`). */
export function segmentFileName(sequence: number, firstIndex: number): string {
  return `wal-${String(sequence).padStart(16, '0')}-${String(firstIndex).padStart(16, '0')}.wal`;
}

/** The file name of a segment of the first format (unsalted records). */
export function legacySegmentFileName(sequence: number, firstIndex: number): string {
  return `wal-${String(sequence).padStart(16, '0')}-${String(firstIndex).padStart(16, '0')}.log`;
}

/** The file name of a compacted segment kept for reuse. */
export function freeFileName(sequence: number): string {
  return `free-${String(sequence).padStart(16, '0')}.wal`;
}

/** One read of {@link Wal.readEntries}: records `lo` .. `hi - 1`, back to back at `start` .. `end`. */
interface ReadRun {
  readonly segment: Segment;
  readonly start: number;
  readonly end: number;
  readonly lo: number;
  readonly hi: number;
}

interface Segment {
  readonly path: string;
  readonly sequence: number;
  /** Index of the first record (from the file name). */
  readonly firstIndex: number;
  /** Lowest record index in the segment (an entry or a reset marker). */
  lowestIndex: number;
  bytes: number;
  /** CRC salt of its records: `walRecordSalt(sequence)`, 0 for the first format. */
  readonly salt: number;
  /** The file may hold bytes past `bytes` (a reused file): truncate before it stops being the last. */
  longerThanRecords: boolean;
}

interface PendingAppend {
  /** The encoded records, back to back (none for a barrier). */
  readonly buffers: readonly Uint8Array[];
  readonly bytes: number;
  /** Index of the first record (or the reset's next index); 0 for a barrier. */
  readonly firstIndex: number;
  /** Bytes of each entry's record, in order (null for a reset marker or a barrier). */
  readonly recordBytes: readonly number[] | null;
  /** The buffer holding every record header, and where each record starts in it. */
  readonly headers: Buffer | null;
  readonly recordStarts: readonly number[];
  /** The salt the records' CRCs were sealed with (changed by `reseal` when they land in another file). */
  salt: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Entry payloads of at least this many bytes are written from the entry's own buffer instead of
 * being copied into the batch's buffer: one copy and one large allocation less per entry.
 */
export const ZERO_COPY_PAYLOAD_BYTES_MIN = 64 * 1024;

const TWO_POW_32 = 0x1_0000_0000;

/** Zeros that pad a write over a reused file to a page boundary (never written to). */
const ZERO_PAGE = new Uint8Array(PAGE_BYTES);

/**
 * Encode `entries` (validated by the caller) as the records of wal-record.ts, as buffers to
 * write back to back: one buffer holds every header and small payload; payloads of at least
 * {@link ZERO_COPY_PAYLOAD_BYTES_MIN} are referenced, not copied (the CRC covers them through
 * a continued CRC-32C). Without a large payload this is exactly `encodeEntries`.
 */
export function encodeEntriesForWrite(entries: readonly Entry[], salt = 0): EncodedRecords {
  let ownBytes = 0;
  let large = false;
  const recordStarts: number[] = [];
  for (const e of entries) {
    recordStarts.push(ownBytes);
    ownBytes += RECORD_HEADER_BYTES;
    if (e.data.length >= ZERO_COPY_PAYLOAD_BYTES_MIN) large = true;
    else ownBytes += e.data.length;
  }
  if (!large) {
    const buffer = encodeEntries(entries, salt);
    return { buffers: [buffer], bytes: buffer.length, headers: buffer, recordStarts };
  }
  const buf = Buffer.allocUnsafe(ownBytes);
  const buffers: Uint8Array[] = [];
  let o = 0;
  let pieceStart = 0;
  let bytes = 0;
  for (const e of entries) {
    const length = RECORD_FIXED_LENGTH + e.data.length;
    buf.writeUInt32LE(length, o);
    buf[o + 8] = e.type === 'normal' ? RECORD_TYPE_NORMAL : RECORD_TYPE_CONF_CHANGE;
    buf.writeUInt32LE(e.term % TWO_POW_32, o + 9);
    buf.writeUInt32LE(Math.floor(e.term / TWO_POW_32), o + 13);
    buf.writeUInt32LE(e.index % TWO_POW_32, o + 17);
    buf.writeUInt32LE(Math.floor(e.index / TWO_POW_32), o + 21);
    if (e.data.length >= ZERO_COPY_PAYLOAD_BYTES_MIN) {
      // The data's CRC is usually known already (a follower checked it on the link; a leader
      // computed it for its links, or does now and they reuse it): combine, no pass over the data.
      const headerCrc = crc32c(buf.subarray(o + 8, o + RECORD_HEADER_BYTES), salt);
      buf.writeUInt32LE(crc32cCombine(headerCrc, entryDataCrc32c(e.data), e.data.length), o + 4);
      o += RECORD_HEADER_BYTES;
      buffers.push(buf.subarray(pieceStart, o), e.data);
      pieceStart = o;
    } else {
      buf.set(e.data, o + RECORD_HEADER_BYTES);
      buf.writeUInt32LE(crc32c(buf.subarray(o + 8, o + 8 + length), salt), o + 4);
      o += 8 + length;
    }
    bytes += 8 + length;
  }
  if (o > pieceStart) buffers.push(buf.subarray(pieceStart, o));
  return { buffers, bytes, headers: buf, recordStarts };
}

/** Records encoded for one write: `buffers` back to back; every header is in `headers`, at `recordStarts`. */
export interface EncodedRecords {
  buffers: Uint8Array[];
  bytes: number;
  headers: Buffer;
  recordStarts: number[];
}

/**
 * Re-seal encoded records for another salt, in place: a CRC continued from salt `b` is the one
 * from salt `a` XOR the shift of `a ^ b` over the record's body (CRC-32C is linear in its initial
 * state), so no byte of a payload is read again. Used for the appends of a batch that starts a
 * new segment (encoded at `append` time with the salt of the segment then current).
 */
export function resealRecords(headers: Buffer, recordStarts: readonly number[], fromSalt: number, toSalt: number): void {
  const delta = (fromSalt ^ toSalt) >>> 0;
  if (delta === 0) return;
  for (const start of recordStarts) {
    const bodyBytes = headers.readUInt32LE(start);
    const stored = headers.readUInt32LE(start + 4);
    headers.writeUInt32LE((stored ^ crc32cCombineShifted(delta, 0, crc32cShift(bodyBytes))) >>> 0, start + 4);
  }
}

function assertSafeIndex(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`wal: ${what} must be a safe integer >= 1, got ${value}`);
}

/**
 * Open (or create) the WAL in `dir` and recover its entries. See the module comment for the
 * repair rule. Throws WalCorruptError when the damage is not a torn tail.
 */
export async function openWal(dir: string, options: WalOptions = {}): Promise<OpenedWal> {
  const fs = options.fs ?? nodeFileSystem;
  const segmentBytesMax = options.segmentBytesMax ?? DEFAULT_SEGMENT_BYTES_MAX;
  const batchBytesMax = options.batchBytesMax ?? DEFAULT_BATCH_BYTES_MAX;
  const recycleFilesMax = options.recycleFilesMax ?? WAL_RECYCLE_FILES_MAX;
  const log: StorageLog = options.log ?? (() => {});
  if (!(segmentBytesMax > 0) || !(batchBytesMax > 0)) throw new Error('wal: segmentBytesMax and batchBytesMax must be > 0');
  if (!Number.isSafeInteger(recycleFilesMax) || recycleFilesMax < 0) throw new Error('wal: recycleFilesMax must be an integer >= 0');

  await ensureDirectory(fs, dir);

  const segments: Segment[] = [];
  const free: { path: string; sequence: number }[] = [];
  for (const name of await fs.readdir(dir)) {
    const m = SEGMENT_NAME.exec(name);
    if (m !== null) {
      const sequence = Number(m[1]);
      const salted = m[3] === 'wal';
      const salt = salted ? walRecordSalt(sequence) : 0;
      segments.push({ path: join(dir, name), sequence, firstIndex: Number(m[2]), lowestIndex: Number(m[2]), bytes: 0, salt, longerThanRecords: false });
      continue;
    }
    const f = FREE_NAME.exec(name);
    if (f !== null) free.push({ path: join(dir, name), sequence: Number(f[1]) });
  }
  segments.sort((a, b) => a.sequence - b.sequence);
  free.sort((a, b) => a.sequence - b.sequence);
  // Sequences only grow, past those of the free files too: a reused file's old records were
  // sealed with the salts of sequences below the one it is reused as.
  let highestSequence = 0;
  for (const s of segments) highestSequence = Math.max(highestSequence, s.sequence);
  for (const f of free) highestSequence = Math.max(highestSequence, f.sequence);
  const nextSequence = highestSequence + 1;
  if (free.length > recycleFilesMax) {
    for (const f of free.splice(0, free.length - recycleFilesMax)) await fs.unlink(f.path);
    await fs.fsyncDir(dir);
  }

  // Replay. `first` is the index of entries[0] (null until the first record).
  const entries: Entry[] = [];
  const positions = new WalPositions();
  let first: number | null = null;
  let repair: WalRepair | null = null;
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s]!;
    const isLast = s === segments.length - 1;
    const buf = await fs.readFile(segment.path);
    const scan = scanSegment(buf, segment.salt);
    if (scan.bad !== null) {
      if (!isLast) throw new WalCorruptError(segment.path, scan.bad.offset, `${scan.bad.reason} (not the last segment)`);
      const later = findValidRecordAfter(buf, scan.bad.offset, segment.salt);
      if (later >= 0) throw new WalCorruptError(segment.path, scan.bad.offset, `${scan.bad.reason}, followed by a valid record at offset ${later}`);
    }
    for (const r of scan.records) {
      if (r.offset === 0 && r.index !== segment.firstIndex) {
        throw new WalCorruptError(segment.path, 0, `first record has index ${r.index}, the file name says ${segment.firstIndex}`);
      }
      segment.lowestIndex = Math.min(segment.lowestIndex, r.index);
      if (r.entry === null) {
        entries.length = 0;
        first = r.index;
        positions.reset(r.index);
        continue;
      }
      const recordBytes = 8 + buf.readUInt32LE(r.offset);
      if (first === null) {
        first = r.index;
        entries.push(r.entry);
        positions.put(r.index, segment.sequence, r.offset, recordBytes);
        continue;
      }
      const next = first + entries.length;
      if (r.index > next) throw new WalCorruptError(segment.path, r.offset, `index ${r.index} leaves a gap after ${next - 1}`);
      if (r.index < first) {
        entries.length = 0;
        first = r.index;
      } else {
        entries.length = r.index - first;
      }
      entries.push(r.entry);
      positions.put(r.index, segment.sequence, r.offset, recordBytes);
    }
    segment.bytes = scan.validBytes;
    if (scan.bad !== null) {
      const bytesDropped = buf.length - scan.validBytes;
      repair = { file: segment.path, offset: scan.validBytes, bytesDropped };
      log('wal: truncating a torn tail', { ...repair, reason: scan.bad.reason });
      const h = await fs.open(segment.path, 'r+');
      try {
        await h.truncate(scan.validBytes);
        await h.sync();
      } finally {
        await h.close();
      }
    }
  }
  // An empty last segment (never written, or all torn) is removed: the next batch creates a
  // segment named after its own first index.
  const last = segments[segments.length - 1];
  if (last !== undefined && last.bytes === 0) {
    await fs.unlink(last.path);
    await fs.fsyncDir(dir);
    segments.pop();
  }
  const firstIndex = first ?? 1;
  const current = segments[segments.length - 1];
  const handle = current === undefined ? null : await fs.open(current.path, 'r+');
  const wal = new SegmentedWal(
    fs,
    dir,
    { segmentBytesMax, batchBytesMax, recycleFilesMax, log },
    segments,
    free.map((f) => f.path),
    handle,
    nextSequence,
    firstIndex,
    firstIndex + entries.length - 1,
    positions,
  );
  return { wal, entries, repair };
}

class SegmentedWal implements Wal {
  readonly stats: WalStats = { fsyncs: 0, bytesWritten: 0, appends: 0, batches: 0, segmentsCreated: 0, segmentsDeleted: 0, segmentsReused: 0, entriesReadBack: 0 };
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;
  private failure: FatalStorageError | null = null;
  private closed = false;
  private last: number;
  private first: number;
  /** Lowest record index of the batch being written (not yet in a segment's `lowestIndex`). */
  private writingLowest = Number.MAX_SAFE_INTEGER;
  /** Bytes of the current segment whose cached pages were dropped (page aligned). */
  private droppedBytes = 0;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly limits: { segmentBytesMax: number; batchBytesMax: number; recycleFilesMax: number; log: StorageLog },
    /** Ordered by sequence; the last one is the current segment (when `handle` is not null). */
    private readonly segments: Segment[],
    /** Paths of compacted segment files kept for reuse, oldest first (at most `recycleFilesMax`). */
    private readonly free: string[],
    private handle: FileHandle | null,
    private nextSequence: number,
    firstIndex: number,
    lastIndex: number,
    /** Where each live entry lies (wal-positions.ts), for `readEntries`. */
    private readonly positions: WalPositions,
  ) {
    this.first = firstIndex;
    this.last = lastIndex;
  }

  get lastIndex(): number {
    return this.last;
  }

  get firstIndex(): number {
    return this.first;
  }

  /** Salt of the segment the next write goes to unless it rolls (the records are re-sealed if it does). */
  private get currentSalt(): number {
    const current = this.segments[this.segments.length - 1];
    return this.handle !== null && current !== undefined ? current.salt : walRecordSalt(this.nextSequence);
  }

  append(entries: readonly Entry[]): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new WalClosedError());
    if (entries.length === 0) return this.flushing === null ? Promise.resolve() : this.enqueue([], 0, 0);
    const start = entries[0]!.index;
    assertSafeIndex(start, 'entry index');
    if (start > this.last + 1) throw new Error(`wal: append at ${start} leaves a gap after ${this.last}`);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.index !== start + i) throw new Error(`wal: entries not contiguous at ${e.index} (expected ${start + i})`);
      assertSafeIndex(e.term, 'entry term');
      if (e.data.length > ENTRY_BYTES_MAX) throw new Error(`wal: entry ${e.index} has ${e.data.length} bytes, more than ${ENTRY_BYTES_MAX}`);
    }
    const salt = this.currentSalt;
    const { buffers, bytes, headers, recordStarts } = encodeEntriesForWrite(entries, salt);
    const recordBytes = entries.map((e) => RECORD_HEADER_BYTES + e.data.length);
    if (start < this.first) this.first = start;
    this.last = start + entries.length - 1;
    this.stats.appends++;
    return this.enqueue(buffers, bytes, start, headers, recordStarts, salt, recordBytes);
  }

  reset(nextIndex: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new WalClosedError());
    assertSafeIndex(nextIndex, 'reset index');
    this.first = nextIndex;
    this.last = nextIndex - 1;
    const salt = this.currentSalt;
    const marker = encodeReset(nextIndex, salt);
    return this.enqueue([marker], marker.length, nextIndex, marker, [0], salt);
  }

  private enqueue(
    buffers: readonly Uint8Array[],
    bytes: number,
    firstIndex: number,
    headers: Buffer | null = null,
    recordStarts: readonly number[] = [],
    salt = 0,
    recordBytes: readonly number[] | null = null,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ buffers, bytes, firstIndex, recordBytes, headers, recordStarts, salt, resolve, reject });
      if (this.flushing === null) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Let the appends of the current turn join the first batch.
    await Promise.resolve();
    while (this.queue.length > 0 && this.failure === null) {
      let bytes = 0;
      let count = 0;
      while (count < this.queue.length && (count === 0 || bytes + this.queue[count]!.bytes <= this.limits.batchBytesMax)) {
        bytes += this.queue[count]!.bytes;
        count++;
      }
      const batch = this.queue.splice(0, count);
      try {
        await this.writeBatch(batch, bytes);
      } catch (e) {
        this.fail(e, batch);
        break;
      }
      for (const p of batch) p.resolve();
    }
    this.flushing = null;
  }

  private async writeBatch(batch: PendingAppend[], bytes: number): Promise<void> {
    if (bytes === 0) return; // barriers only: everything before them is already durable
    const buffers: Uint8Array[] = [];
    let lowest = Number.MAX_SAFE_INTEGER;
    let firstRecord = 0;
    for (const p of batch) {
      if (p.bytes === 0) continue;
      if (firstRecord === 0) firstRecord = p.firstIndex;
      lowest = Math.min(lowest, p.firstIndex);
      for (const b of p.buffers) buffers.push(b);
    }
    this.writingLowest = lowest;
    let current = this.segments[this.segments.length - 1];
    if (this.handle === null || current === undefined || (current.bytes > 0 && current.bytes + bytes > this.limits.segmentBytesMax)) {
      current = await this.roll(firstRecord);
    }
    for (const p of batch) {
      if (p.bytes === 0 || p.salt === current.salt) continue;
      resealRecords(p.headers!, p.recordStarts, p.salt, current.salt);
      p.salt = current.salt;
    }
    const handle = this.handle!;
    current.lowestIndex = Math.min(current.lowestIndex, lowest);
    this.writingLowest = Number.MAX_SAFE_INTEGER;
    if (current.longerThanRecords) {
      // Over a reused file, whole pages only (see the module comment): zeros up to the page's end.
      const end = current.bytes + bytes;
      const pad = alignUpToPage(end) - end;
      if (pad > 0) buffers.push(ZERO_PAGE.subarray(0, pad));
    }
    await handle.writev(buffers, current.bytes);
    // Where each record landed, for `readEntries` (wal-positions.ts).
    let at = current.bytes;
    for (const p of batch) {
      if (p.bytes === 0) continue; // a barrier
      if (p.recordBytes === null) {
        this.positions.reset(p.firstIndex); // a reset marker
        at += p.bytes;
        continue;
      }
      for (let k = 0; k < p.recordBytes.length; k++) {
        this.positions.put(p.firstIndex + k, current.sequence, at, p.recordBytes[k]!);
        at += p.recordBytes[k]!;
      }
    }
    current.bytes += bytes;
    this.stats.bytesWritten += bytes;
    this.stats.batches++;
    await handle.datasync();
    this.stats.fsyncs++;
    // The synced bytes are read again only after a restart: their pages go back to the kernel
    // (page-cache.ts), all but the last partial one, which the next batch writes into.
    const cleanEnd = alignDownToPage(current.bytes);
    if (cleanEnd - this.droppedBytes >= PAGE_CACHE_DROP_BYTES_MIN) {
      handle.dropCachedPages(this.droppedBytes, cleanEnd - this.droppedBytes);
      this.droppedBytes = cleanEnd;
    }
  }

  /**
   * Start a new segment whose first record will be `firstIndex`, in a free file when there is
   * one. The previous one is durable already; a reused one is cut to its records first.
   */
  private async roll(firstIndex: number): Promise<Segment> {
    const previous = this.handle;
    const previousSegment = this.segments[this.segments.length - 1];
    if (previous !== null && previousSegment !== undefined) await this.cutToRecords(previous, previousSegment);
    const sequence = this.nextSequence++;
    const path = join(this.dir, segmentFileName(sequence, firstIndex));
    const reused = this.free.shift();
    let handle: FileHandle;
    if (reused !== undefined) {
      await this.fs.rename(reused, path);
      handle = await this.fs.open(path, 'r+');
    } else {
      handle = await this.fs.open(path, 'wx');
    }
    try {
      if (reused === undefined) await handle.sync();
      await this.fs.fsyncDir(this.dir);
    } catch (e) {
      await handle.close().catch(() => {});
      throw e;
    }
    this.handle = handle;
    this.droppedBytes = 0;
    const segment: Segment = { path, sequence, firstIndex, lowestIndex: firstIndex, bytes: 0, salt: walRecordSalt(sequence), longerThanRecords: reused !== undefined };
    this.segments.push(segment);
    this.stats.segmentsCreated++;
    if (reused !== undefined) this.stats.segmentsReused++;
    if (previous !== null) await previous.close();
    return segment;
  }

  /**
   * Truncate a reused segment's file to its records (durably: a full fsync, the size being
   * metadata), so it can stop being the last. Once per segment.
   */
  private async cutToRecords(handle: FileHandle, segment: Segment): Promise<void> {
    if (!segment.longerThanRecords) return;
    await handle.truncate(segment.bytes);
    await handle.sync();
    segment.longerThanRecords = false;
  }

  private fail(cause: unknown, batch: PendingAppend[]): void {
    const error = new FatalStorageError(`wal: write or fsync failed in ${this.dir}: ${String(cause)}`, { cause });
    this.failure = error;
    this.limits.log('wal: fatal storage error', { dir: this.dir, error: String(cause) });
    const rejected = batch.concat(this.queue);
    this.queue = [];
    for (const p of rejected) p.reject(error);
  }

  async readEntries(lo: number, hi: number, bytesMax = Number.POSITIVE_INFINITY): Promise<Entry[]> {
    const out: Entry[] = [];
    for (const run of this.planRead(lo, hi, bytesMax)) {
      const buf = Buffer.allocUnsafe(run.end - run.start);
      const handle = await open(run.segment.path, 'r');
      try {
        let done = 0;
        while (done < buf.length) {
          const { bytesRead } = await handle.read(buf, done, buf.length - done, run.start + done);
          if (bytesRead === 0) throw new WalCorruptError(run.segment.path, run.start + done, `end of file reading entries ${run.lo}..${run.hi - 1} back`);
          done += bytesRead;
        }
      } finally {
        await handle.close();
      }
      this.decodeRun(run, buf, out);
    }
    this.stats.entriesReadBack += out.length;
    return out;
  }

  /** True while the WAL knows where entry `index` lies (written or replayed, not compacted). */
  holds(index: number): boolean {
    return this.positions.has(index);
  }

  /**
   * The reads that fetch entries `lo` .. `hi - 1`: one per run of records back to back in one
   * segment, stopping once `bytesMax` of records are planned (at least one record).
   */
  private planRead(lo: number, hi: number, bytesMax: number): ReadRun[] {
    const positions = this.positions;
    const runs: ReadRun[] = [];
    let bytes = 0;
    let i = lo;
    while (i < hi && (i === lo || bytes + positions.length(i) <= bytesMax)) {
      if (!positions.has(i)) throw new Error(`wal: entry ${i} is not held (held: ${positions.first}..${positions.first + positions.size - 1})`);
      const sequence = positions.sequence(i);
      const start = positions.offset(i);
      bytes += positions.length(i);
      let end = start + positions.length(i);
      let j = i + 1;
      while (j < hi && positions.has(j) && positions.sequence(j) === sequence && positions.offset(j) === end && bytes + positions.length(j) <= bytesMax) {
        bytes += positions.length(j);
        end += positions.length(j);
        j++;
      }
      const segment = this.segments.find((s) => s.sequence === sequence);
      if (segment === undefined) throw new Error(`wal: entry ${i} lies in segment ${sequence}, which is gone`);
      runs.push({ segment, start, end, lo: i, hi: j });
      i = j;
    }
    return runs;
  }

  /**
   * Decode and check the records of `run` read into `buf`, appending their entries to `out`:
   * exactly the run's entries, back to back, filling `buf`.
   */
  private decodeRun(run: ReadRun, buf: Buffer, out: Entry[]): void {
    let o = 0;
    for (let k = run.lo; k < run.hi; k++) {
      const r = decodeRecord(buf, o, run.segment.salt);
      if ('reason' in r) throw new WalCorruptError(run.segment.path, run.start + o, `entry ${k} read back: ${r.reason}`);
      if (r.entry === null || r.index !== k) throw new WalCorruptError(run.segment.path, run.start + o, `entry ${k} read back as record ${r.index}`);
      out.push(r.entry);
      o += 8 + buf.readUInt32LE(o); // the record's length field, checked by decodeRecord
    }
    if (o !== buf.length) throw new WalCorruptError(run.segment.path, run.start + o, `entries ${run.lo}..${run.hi - 1} read back: ${buf.length - o} bytes left over`);
  }

  async compact(index: number): Promise<void> {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new WalClosedError();
    this.positions.dropBelow(index + 1);
    let count = 0;
    // Live entries of segment k all have index < segments[k + 1].firstIndex (that record
    // discarded everything from its index on), so segment k goes if that is <= index + 1.
    while (count + 1 < this.segments.length && this.segments[count + 1]!.firstIndex <= index + 1) count++;
    if (count === 0) return;
    const removed = this.segments.splice(0, count);
    let lowest = this.writingLowest;
    for (const s of this.segments) lowest = Math.min(lowest, s.lowestIndex);
    for (const p of this.queue) if (p.firstIndex > 0) lowest = Math.min(lowest, p.firstIndex);
    this.first = Math.min(Math.max(this.first, lowest), this.last + 1);
    try {
      for (const s of removed) {
        // Any segment's file can be reused (a first-format one too: its records' salt, 0, is
        // never a reused file's).
        if (this.free.length < this.limits.recycleFilesMax) {
          const target = join(this.dir, freeFileName(s.sequence));
          await this.fs.rename(s.path, target);
          this.free.push(target);
        } else {
          await this.fs.unlink(s.path);
        }
      }
      await this.fs.fsyncDir(this.dir);
    } catch (cause) {
      this.fail(cause, []);
      throw this.failure;
    }
    this.stats.segmentsDeleted += removed.length;
    this.limits.log('wal: compacted', { dir: this.dir, index, segmentsDeleted: removed.length, firstIndex: this.first });
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing !== null) await this.flushing;
    if (this.handle !== null) {
      const h = this.handle;
      this.handle = null;
      // A clean close leaves no bytes of a previous life after the records (no repair at the
      // next open). Best effort: those bytes are harmless, only reported.
      const current = this.segments[this.segments.length - 1];
      if (current !== undefined && this.failure === null) await this.cutToRecords(h, current).catch(() => {});
      await h.close().catch(() => {});
    }
  }
}
