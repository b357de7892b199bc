/**
 * Entries read back from the WAL off the event loop, for a leader whose follower is further
 * behind than the entries it keeps in memory (raft/node.ts `evictEntries`).
 *
 * The core asks its storage for entries synchronously, while it steps a message. Reading them
 * back from the WAL there (up to one 8 MiB message per read, several per step while the
 * follower's window refills) held the leader's event loop for every read: measured with a
 * follower back after 15 s down at 10,000 edits/s (46 MiB read back), write acknowledgement p50
 * 160-260 ms and p99 350-500 ms for the 3 s of its catch-up, against 4-6 ms and 10-30 ms around
 * it. Reading ahead as below, the same catch-up: p50 17-69 ms, p99 90-150 ms (three runs; with
 * every entry kept in memory instead, 16-19 ms and 66-81 ms).
 *
 * Here the reader answers from entries it has at hand. When it has none of those asked for, it
 * starts an asynchronous read of up to {@link READ_AHEAD_WINDOW_BYTES} from the first one and
 * throws StorageUnavailableError: the core sends that follower nothing now, and the runtime asks
 * it to send again once the read has ended (`retryAppends`). While it answers from a window, it
 * reads the next one ahead, so a follower catching up rarely waits.
 *
 * Limits: at most {@link READ_AHEAD_READS_MAX} reads in flight; at most
 * {@link READ_AHEAD_CACHE_BYTES_MAX} of entry data held (the oldest window goes first).
 *
 * Safety: an entry handed out must be the one the log holds at its index now. A window read
 * before a truncation (a node that stopped leading and took another leader's entries) may hold
 * older entries, so every entry is checked against the log's term at its index before it is
 * handed out (an index and a term name one entry: Raft's log matching); a window that does not
 * match is dropped. A read that fails is fatal (fail-stop), unless the WAL no longer holds the
 * entries asked for (a compaction ran meanwhile and may have reused the file): then it is
 * dropped, and the core, which no longer asks for them, sends a snapshot.
 */
import { StorageUnavailableError, entriesBytes, type Entry } from './core/index.ts';

/** Bytes of entries one read fetches at most: one Raft message's worth. */
export const READ_AHEAD_WINDOW_BYTES = 8 * 1024 * 1024;

/** Entry data held at most (read and not yet pushed out by newer windows). */
export const READ_AHEAD_CACHE_BYTES_MAX = 32 * 1024 * 1024;

/** Reads in flight at most. */
export const READ_AHEAD_READS_MAX = 2;

/** Where the entries are read from (the WAL). */
export interface ReadAheadSource {
  /** Entries from `lo`, before `hi`, at most `bytesMax` of records (at least one). */
  readEntries(lo: number, hi: number, bytesMax: number): Promise<Entry[]>;
  /** True while entry `index` can be read. */
  holds(index: number): boolean;
}

export interface ReadAheadOptions {
  readonly source: ReadAheadSource;
  /** The term of entry `index` in the log now, undefined when the log does not hold it. */
  termOf(index: number): number | undefined;
  /** The last index worth reading back (entries above it are in memory). */
  readableThrough(): number;
  /** A read ended with entries: the core may now send what it could not. */
  onReadable(): void;
  /** A read failed while its entries were still in the WAL: a storage failure (what was thrown). */
  onFailure(error: unknown): void;
  readonly windowBytes?: number;
  readonly cacheBytesMax?: number;
}

interface Window {
  readonly lo: number;
  readonly entries: readonly Entry[];
  readonly bytes: number;
}

export class EntryReadAhead {
  private readonly options: ReadAheadOptions;
  private readonly windowBytes: number;
  private readonly cacheBytesMax: number;
  /** Oldest first. */
  private windows: Window[] = [];
  private held = 0;
  /** First indexes of the reads in flight. */
  private readonly reading = new Set<number>();
  /** Bumped by `clear`: reads started before it are dropped when they end. */
  private generation = 0;
  /** Answers that found nothing at hand (the core was told to wait). */
  misses = 0;

  constructor(options: ReadAheadOptions) {
    this.options = options;
    this.windowBytes = options.windowBytes ?? READ_AHEAD_WINDOW_BYTES;
    this.cacheBytesMax = options.cacheBytesMax ?? READ_AHEAD_CACHE_BYTES_MAX;
    if (!(this.windowBytes > 0) || !(this.cacheBytesMax >= this.windowBytes)) {
      throw new RangeError(`read-ahead: window ${this.windowBytes} bytes, cache ${this.cacheBytesMax} bytes`);
    }
  }

  /** Entry data held now. */
  get heldBytes(): number {
    return this.held;
  }

  /** Reads in flight now. */
  get readsInFlight(): number {
    return this.reading.size;
  }

  /**
   * The storage's entry reader (MemoryStorage `setEntryReader`): a prefix of `[lo, hi)` from
   * what is at hand, or StorageUnavailableError with a read of it started.
   */
  read(lo: number, hi: number): Entry[] {
    for (let w = this.windows.length - 1; w >= 0; w--) {
      const window = this.windows[w]!;
      const end = window.lo + window.entries.length;
      if (lo < window.lo || lo >= end) continue;
      const upTo = Math.min(hi, end);
      const out = window.entries.slice(lo - window.lo, upTo - window.lo);
      if (!out.every((e) => this.options.termOf(e.index) === e.term)) {
        this.drop(w);
        break;
      }
      // Half of this window handed out: the next one is read meanwhile.
      if (end - upTo < window.entries.length / 2) this.start(end);
      return out;
    }
    this.misses += 1;
    this.start(lo);
    throw new StorageUnavailableError(lo);
  }

  /** Drop every window and forget the reads in flight (a node that stopped leading). */
  clear(): void {
    this.generation += 1;
    this.windows = [];
    this.held = 0;
    this.reading.clear();
  }

  private drop(w: number): void {
    this.held -= this.windows[w]!.bytes;
    this.windows.splice(w, 1);
  }

  private start(lo: number): void {
    const through = this.options.readableThrough();
    if (lo > through || this.reading.has(lo) || this.reading.size >= READ_AHEAD_READS_MAX) return;
    if (this.windows.some((window) => lo >= window.lo && lo < window.lo + window.entries.length)) return;
    const generation = this.generation;
    this.reading.add(lo);
    this.options.source.readEntries(lo, through + 1, this.windowBytes).then(
      (entries) => {
        if (generation !== this.generation) return;
        this.reading.delete(lo);
        if (entries.length === 0) return;
        const bytes = entriesBytes(entries);
        this.windows.push({ lo, entries, bytes });
        this.held += bytes;
        while (this.held > this.cacheBytesMax && this.windows.length > 1) this.drop(0);
        this.options.onReadable();
      },
      (error: unknown) => {
        if (generation !== this.generation) return;
        this.reading.delete(lo);
        if (!this.options.source.holds(lo)) return; // compacted meanwhile (see the module comment)
        this.options.onFailure(error);
      },
    );
  }
}
