/**
 * Dropping durable file pages from the page cache: `posix_fadvise(POSIX_FADV_DONTNEED)`, which
 * Node does not expose, called through the `koffi` FFI on a thread-pool thread.
 *
 * Why: a log written once and read back only after a restart (the WAL), or rarely (a segment's
 * older part), gains nothing from staying cached, and leaving it there is what makes writing it
 * dear. Every write then lands in a page the kernel must first take from free memory, and on
 * the virtual machines this project runs on, free memory is handed back to the host (the
 * balloon's free-page reporting) and faulted in again on first touch. Measured here, 1 MiB
 * writes with an fdatasync every 4 MiB: 2.6-3.4 ms of kernel CPU per MiB when the file's pages
 * stay cached, 0.39-0.42 ms when each synced range is dropped (its pages are reused by the next
 * writes), about 56 µs to drop each MiB.
 *
 * Only clean pages are dropped (the kernel starts writeback of dirty ones and leaves them), and
 * dropping never changes a file's content: it is advice, so a failure is counted, not thrown.
 * Callers drop page-aligned ranges that end before the file's last partial page, which the next
 * append would otherwise read back from disk.
 */
import { createRequire } from 'node:module';
import type Koffi from 'koffi';

/** Page size the callers align to. A larger real page only costs a read-back, never data. */
export const PAGE_BYTES = 4096;

/** Drop no range shorter than this (a call costs a thread-pool round trip). */
export const PAGE_CACHE_DROP_BYTES_MIN = 1024 * 1024;

const POSIX_FADV_DONTNEED = 4; // Linux, every architecture Node supports

/** sync_file_range flags: wait for writeback already under way, start it, wait for it (Linux). */
const SYNC_FILE_RANGE_WAIT_WRITE_WAIT = 1 | 2 | 4;

type AsyncCall = {
  async: (fd: number, offset: number, length: number, flags: number, callback: (error: unknown, result: number) => void) => void;
};
type Calls = { fadvise: AsyncCall; syncFileRange: AsyncCall };

function loadCalls(): Calls | string {
  if (process.platform !== 'linux') return `not on Linux (${process.platform})`;
  try {
    // Loaded here, not imported: a platform without koffi's native part runs without the advice.
    const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
    // dlopen(NULL): the symbols of the running process, libc's among them (glibc or musl).
    const self = koffi.load(null);
    return {
      fadvise: self.func('int posix_fadvise(int fd, int64_t offset, int64_t len, int advice)') as unknown as AsyncCall,
      syncFileRange: self.func('int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags)') as unknown as AsyncCall,
    };
  } catch (error) {
    return `koffi or posix_fadvise unavailable: ${String(error)}`;
  }
}

const calls = loadCalls();

/** Why pages are not dropped on this platform, or undefined when they are. */
export const pageCacheDropUnavailable: string | undefined = typeof calls === 'string' ? calls : undefined;

/**
 * Calls in flight at most, drops and write-backs together (koffi refuses async calls past its
 * own limit of 64); past it a drop is skipped and a write-back left to the caller's fallback.
 */
export const PAGE_CACHE_DROPS_IN_FLIGHT_MAX = 16;

/** Counts since the process started (for /metrics and tests). `skipped`: drops not made, too many in flight. */
export const pageCacheDropStats = { calls: 0, bytes: 0, failures: 0, skipped: 0 };

let inFlight = 0;

/** `offset` rounded down to a page boundary. */
export function alignDownToPage(offset: number): number {
  return offset - (offset % PAGE_BYTES);
}

/** `offset` rounded up to a page boundary. */
export function alignUpToPage(offset: number): number {
  return alignDownToPage(offset + PAGE_BYTES - 1);
}

function checkRange(what: string, fd: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(fd) || fd < 0 || !Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length <= 0) {
    throw new RangeError(`${what}: bad fd ${fd}, offset ${offset} or length ${length}`);
  }
}

/**
 * One call through koffi's thread pool: resolves with its result (0, or an errno or -1), or
 * undefined when it was not made (unavailable here, too many in flight, refused by koffi).
 */
function callAsync(pick: (c: Calls) => AsyncCall, fd: number, offset: number, length: number, flags: number): Promise<number | undefined> {
  if (typeof calls === 'string' || inFlight >= PAGE_CACHE_DROPS_IN_FLIGHT_MAX) return Promise.resolve(undefined);
  inFlight += 1;
  return new Promise((resolve) => {
    const done = (result: number | undefined): void => {
      inFlight -= 1;
      resolve(result);
    };
    try {
      pick(calls).async(fd, offset, length, flags, (error, result) => done(error !== null && error !== undefined ? -1 : result));
    } catch {
      done(undefined);
    }
  });
}

/**
 * Advise the kernel to drop the cached pages of `fd` in `offset .. offset + length`. Resolves
 * (never rejects) with 0 or the errno; with 0 at once where unavailable, and when
 * {@link PAGE_CACHE_DROPS_IN_FLIGHT_MAX} calls are in flight (the pages stay cached, which only
 * costs memory). The caller keeps `fd` open until it resolved: a closed number may name another
 * file by then.
 */
export function dropCachedPages(fd: number, offset: number, length: number): Promise<number> {
  checkRange('dropCachedPages', fd, offset, length);
  if (typeof calls === 'string') return Promise.resolve(0);
  return callAsync((c) => c.fadvise, fd, offset, length, POSIX_FADV_DONTNEED).then((result) => {
    if (result === undefined) {
      pageCacheDropStats.skipped += 1;
      return 0;
    }
    pageCacheDropStats.calls += 1;
    pageCacheDropStats.bytes += length;
    if (result !== 0) pageCacheDropStats.failures += 1;
    return result;
  });
}

/**
 * Write `offset .. offset + length` of `fd` back to the device and wait for it, without the
 * device cache flush of an fsync (`sync_file_range`, Linux): the bytes are NOT durable after
 * it, only no longer dirty. For write-behind on files whose durability comes from elsewhere.
 * Resolves with 0, or -1 on failure (an I/O error); never rejects; resolves undefined when the
 * call was not made (see `callAsync`): the caller then falls back to an fdatasync.
 */
export function writeBackRange(fd: number, offset: number, length: number): Promise<number | undefined> {
  checkRange('writeBackRange', fd, offset, length);
  return callAsync((c) => c.syncFileRange, fd, offset, length, SYNC_FILE_RANGE_WAIT_WRITE_WAIT);
}
