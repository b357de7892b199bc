/**
 * The one writer of one segment file. Two `fs.write` calls in flight on one descriptor may land
 * in either order, so every append goes through this queue: appends are written in call order,
 * at explicit positions, many at a time in one `writev`.
 *
 * Durability is the caller's choice: `flush()` waits until the bytes are in the page cache,
 * `sync()` also fsyncs. The journal state machine does not fsync on apply (the Raft log is the
 * durable source of truth), only when it snapshots.
 *
 * Writes: while at most {@link syncWriteBytesMax} bytes are queued, appends wait for `flush()`,
 * which writes them all with one synchronous `writev` (a page-cache write of a few kilobytes
 * takes microseconds, while a thread-pool round trip costs two event-loop wake-ups on the apply,
 * and so the acknowledgement, path). Past that, the queue is written through the thread pool
 * from the append on, so the event loop is never held for long.
 *
 * Write-behind: every {@link writeBehindSyncBytes} written, the bytes since the last time are
 * written back in the background (one at a time, never awaited by appends), then dropped from
 * the page cache (raft/storage/page-cache.ts). Without it a busy node leaves the kernel hundreds
 * of megabytes of dirty segment pages, written back in one burst when they expire, and every
 * WAL fsync of that moment waits behind the burst. The write-back is `sync_file_range` (to the
 * device, without a cache flush: the segment's durability is the Raft WAL's until a snapshot
 * fsyncs it), an fdatasync where that is unavailable. Measured against an fdatasync, six
 * alternated `--only tail` runs at 10,000 edits/s: standby tail-lag p99 5.1-11.6 ms (mean 10.0)
 * against 7.6-20.9 (mean 13.9), write acknowledgement p99 35-60 ms against 40-354. A failed
 * write-back fails the writer like a failed write (nothing is retried).
 *
 * Every 1 MiB, not 8: the three nodes of a cluster apply the same edits at the same moment, so
 * their write-backs start together, and every WAL fdatasync issued then waits behind all of
 * them. At 10,000 edits/s (8 MiB every 0.8 s per node) the WAL fdatasyncs over 15 ms came in
 * such bursts on all three nodes at once, every 0.8 s. In three alternated pairs of `--only
 * tail` runs, 8 MiB against 1 MiB: 49/47/53 against 6/7/9 WAL fdatasyncs over 15 ms, write
 * acknowledgement p50 8.0-13.4 against 6.1-8.1 ms and p99 59-66 against
 * 46-51 ms, tail lag p99.9 24-52 against 17-19 ms; batches of 1,000 showed no difference beyond
 * the noise (100,800/121,200 against 121,000/97,900 edits/s).
 */
import { writevSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { crc32c } from '@node-rs/crc32';
import { crc32cCombine } from '../raft/crc32c.ts';
import { alignDownToPage, dropCachedPages, writeBackRange } from '../raft/storage/page-cache.ts';
import type { FileHandle } from 'node:fs/promises';

/** Most buffers in one writev call (Linux IOV_MAX is 1024). */
export const writevBuffersMax = 1024;

/** Queued bytes up to which `flush()` writes synchronously (see the module comment). */
export const syncWriteBytesMax = 64 * 1024;

/** Bytes written between two write-backs (see the module comment). */
export const writeBehindSyncBytes = 1024 * 1024;

/** Most queued bytes before `append` waits for the queue to drain (backpressure). */
export const writerQueueBytesMax = 64 * 1024 * 1024;

/** A write or close on a segment file failed; the writer is unusable afterwards. */
export class SegmentWriteError extends Error {
  override readonly name = 'SegmentWriteError';
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(`${path}: ${message}`, options);
    this.path = path;
  }
}

/** Appends to one file, in order, through one queue. */
export class SegmentWriter {
  readonly path: string;
  private readonly handle: FileHandle;
  /** Bytes accepted so far: written plus queued. Invariant: writtenBytes <= lengthBytes. */
  private acceptedBytes: number;
  /** Bytes already written (the next writev position). */
  private writtenBytes: number;
  private queue: Uint8Array[] = [];
  private queuedBytesCount = 0;
  private draining: Promise<void> | undefined;
  private failure: SegmentWriteError | undefined;
  private closed = false;
  /** `writtenBytes` when the last write-behind sync started. */
  private syncedBehindBytes = 0;
  /** Bytes from the start whose cached pages were dropped after a write-behind sync (page aligned). */
  private droppedBytes = 0;
  /** The write-behind fdatasync in flight, if any. */
  private syncingBehind: Promise<void> | undefined;
  private writeBehindSyncCount = 0;
  /** CRC-32C of the file's first `acceptedBytes` bytes (see {@link crc32c}). */
  private acceptedCrc: number;

  private constructor(path: string, handle: FileHandle, lengthBytes: number, crc: number) {
    this.path = path;
    this.handle = handle;
    this.acceptedBytes = lengthBytes;
    this.writtenBytes = lengthBytes;
    this.acceptedCrc = crc;
  }

  /**
   * Create `path` as a new file (a file of that name is unlinked first, never truncated: a
   * snapshot may hold a hard link to it) and return its writer, positioned at 0.
   */
  static async create(path: string): Promise<SegmentWriter> {
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    const handle = await open(path, 'wx');
    return new SegmentWriter(path, handle, 0, 0);
  }

  /**
   * Open an existing file for appending at `lengthBytes`. Throws if the file is shorter;
   * a longer file is truncated to `lengthBytes` (bytes beyond the applied length are not state).
   */
  static async openAt(path: string, lengthBytes: number, crc: number): Promise<SegmentWriter> {
    const handle = await open(path, 'r+');
    try {
      const { size } = await handle.stat();
      if (size < lengthBytes) throw new SegmentWriteError(path, `file has ${size} bytes, expected at least ${lengthBytes}`);
      if (size > lengthBytes) await handle.truncate(lengthBytes);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new SegmentWriter(path, handle, lengthBytes, crc);
  }

  /**
   * CRC-32C of the file's first {@link lengthBytes} bytes, kept as bytes are appended (combined
   * with the CRC the caller knows, about 0.35 µs whatever the length; else by a pass over the
   * bytes, 0.45-0.65 µs for 1 KiB): a snapshot that links
   * the file declares its prefix with it instead of reading the file back.
   */
  get crc32c(): number {
    return this.acceptedCrc;
  }

  /** Bytes accepted so far (written plus queued): the file's length once flushed. */
  get lengthBytes(): number {
    return this.acceptedBytes;
  }

  /** Bytes waiting to be written. */
  get queuedBytes(): number {
    return this.queuedBytesCount;
  }

  /**
   * Queue `bytes` after everything appended before. Resolves at once unless the queue holds
   * more than {@link writerQueueBytesMax}, then once it drained. `bytes` must stay unchanged
   * until flushed. Write errors surface in `flush()`. `knownCrc`, when given, must be the
   * CRC-32C of `bytes` (the journal passes the batch CRC its proposer checked).
   */
  async append(bytes: Uint8Array, knownCrc?: number): Promise<void> {
    this.assertUsable();
    if (bytes.byteLength === 0) return;
    this.acceptedCrc = knownCrc !== undefined ? crc32cCombine(this.acceptedCrc, knownCrc, bytes.byteLength) : crc32c(bytes as Buffer, this.acceptedCrc);
    this.queue.push(bytes);
    this.queuedBytesCount += bytes.byteLength;
    this.acceptedBytes += bytes.byteLength;
    if (this.draining === undefined && this.queuedBytesCount <= syncWriteBytesMax) return;
    this.draining ??= this.drain();
    if (this.queuedBytesCount > writerQueueBytesMax) await this.flush();
  }

  /** Resolves once every byte appended before the call is written; rejects with the first write error. */
  async flush(): Promise<void> {
    if (this.draining === undefined && this.queue.length > 0) {
      if (this.queuedBytesCount <= syncWriteBytesMax) this.writeQueueNow();
      else this.draining = this.drain();
    }
    while (this.draining !== undefined) await this.draining;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Flush, then fsync the file. */
  async sync(): Promise<void> {
    await this.flush();
    await this.handle.sync();
  }

  /** Write-behind fdatasyncs started so far (for tests and metrics). */
  get writeBehindSyncs(): number {
    return this.writeBehindSyncCount;
  }

  /**
   * Resolves once the write-behind in flight, if any, has ended (it never rejects: a failure
   * surfaces in the next `flush()`). One starts only while none is in flight.
   */
  async writeBehindSettled(): Promise<void> {
    await this.syncingBehind;
  }

  /** Start a write-behind fdatasync when enough was written since the last one. */
  private syncBehind(): void {
    if (this.syncingBehind !== undefined || this.writtenBytes - this.syncedBehindBytes < writeBehindSyncBytes) return;
    const syncedAt = this.writtenBytes;
    this.syncedBehindBytes = syncedAt;
    this.writeBehindSyncCount += 1;
    this.syncingBehind = this.writeBehind(this.droppedBytes, syncedAt).then(
      async () => {
        // Synced pages go back to the kernel (raft/storage/page-cache.ts): readers of a
        // segment's older part (a backlog, a download, a snapshot transfer) read the disk.
        const cleanEnd = alignDownToPage(syncedAt);
        if (cleanEnd > this.droppedBytes) {
          await dropCachedPages(this.handle.fd, this.droppedBytes, cleanEnd - this.droppedBytes);
          this.droppedBytes = cleanEnd;
        }
        this.syncingBehind = undefined;
      },
      (error: unknown) => {
        this.syncingBehind = undefined;
        this.failure ??= new SegmentWriteError(this.path, 'write-behind fdatasync failed', { cause: error });
      },
    );
  }

  /**
   * Write `from .. to` back without a device cache flush (`writeBackRange`); an fdatasync when
   * that call is not made (unavailable, too many in flight). Rejects on an I/O error.
   */
  private async writeBehind(from: number, to: number): Promise<void> {
    const result = await writeBackRange(this.handle.fd, from, to - from);
    if (result === undefined) await this.handle.datasync();
    else if (result !== 0) throw new Error(`sync_file_range returned ${result}`);
  }

  /** Flush and close. The writer cannot be used afterwards. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      await this.syncingBehind;
      await this.handle.close();
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private assertUsable(): void {
    if (this.closed) throw new SegmentWriteError(this.path, 'append after close');
    if (this.failure !== undefined) throw this.failure;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && this.failure === undefined) {
        const buffers = this.queue.splice(0, writevBuffersMax);
        let bytes = 0;
        for (const b of buffers) bytes += b.byteLength;
        await this.writeFully(buffers, bytes);
        this.queuedBytesCount -= bytes;
        this.syncBehind();
      }
    } catch (error) {
      this.failure = error instanceof SegmentWriteError ? error : new SegmentWriteError(this.path, 'write failed', { cause: error });
      this.queue = [];
      this.queuedBytesCount = 0;
    } finally {
      this.draining = undefined;
    }
  }

  /**
   * Write the whole queue synchronously (nothing is in flight; at most syncWriteBytesMax bytes).
   * A failure is kept for `flush()`.
   */
  private writeQueueNow(): void {
    try {
      while (this.queue.length > 0) {
        let pending = this.queue.splice(0, writevBuffersMax);
        let left = 0;
        for (const b of pending) left += b.byteLength;
        while (left > 0) {
          const bytesWritten = writevSync(this.handle.fd, pending, this.writtenBytes);
          if (bytesWritten <= 0) throw new SegmentWriteError(this.path, 'writev wrote nothing');
          this.writtenBytes += bytesWritten;
          this.queuedBytesCount -= bytesWritten;
          left -= bytesWritten;
          if (left > 0) pending = dropPrefix(pending, bytesWritten);
        }
      }
      this.syncBehind();
    } catch (error) {
      this.failure = error instanceof SegmentWriteError ? error : new SegmentWriteError(this.path, 'write failed', { cause: error });
      this.queue = [];
      this.queuedBytesCount = 0;
    }
  }

  /** writev `buffers` at the write position, looping over short writes. */
  private async writeFully(buffers: Uint8Array[], bytes: number): Promise<void> {
    let pending = buffers;
    let left = bytes;
    while (left > 0) {
      const { bytesWritten } = await this.handle.writev(pending, this.writtenBytes);
      if (bytesWritten <= 0) throw new SegmentWriteError(this.path, 'writev wrote nothing');
      this.writtenBytes += bytesWritten;
      left -= bytesWritten;
      if (left > 0) pending = dropPrefix(pending, bytesWritten);
    }
  }
}

/** The buffers left after the first `count` bytes of `buffers`. */
function dropPrefix(buffers: Uint8Array[], count: number): Uint8Array[] {
  let skip = count;
  const rest: Uint8Array[] = [];
  for (const b of buffers) {
    if (skip >= b.byteLength) {
      skip -= b.byteLength;
      continue;
    }
    rest.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return rest;
}
