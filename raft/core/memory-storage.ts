/**
 * An in-memory {@link Storage} (etcd-io/raft's MemoryStorage). The runtime and the simulator
 * keep it in step with what they persisted: after writing a Ready, call `applySnapshot`,
 * `append` and `setHardState` in that order, then `advance`.
 *
 * Layout: `#entries[0]` is a dummy entry at the snapshot's (index, term); real entries follow.
 *
 * Eviction (optional): a runtime whose entries are durable elsewhere (its WAL) may drop the data
 * of entries it no longer needs in memory (`evict`) and hand in an {@link EntryReader} that reads
 * them back; `entries` then reads evicted runs through it (and answers with fewer entries, or
 * StorageUnavailableError, when the reader has only part of them at hand), and every other call
 * works from what is kept of each entry (index, term, type, data length). The runtime
 * (raft/node.ts) evicts what it has applied and its followers hold: the data would otherwise
 * stay in memory until a snapshot compacts the log (hundreds of megabytes), and the garbage
 * collector of a Node.js process starts a full collection each time 64 MiB more of such
 * buffers is alive.
 */
import { assert } from './assert.ts';
import { assertContiguous, limitBytes } from './log.ts';
import {
  EMPTY_BYTES,
  EMPTY_CONF_STATE,
  StorageCompactedError,
  StorageUnavailableError,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
  type Storage,
} from './types.ts';

/** A snapshot older than (or as old as) the one already held. */
export class SnapshotOutOfDateError extends Error {
  override readonly name = 'SnapshotOutOfDateError';
  constructor(
    readonly index: number,
    readonly heldIndex: number,
  ) {
    super(`raft storage: snapshot at ${index} is not newer than the held one at ${heldIndex}`);
  }
}

const EMPTY_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };

/**
 * Reads entries back, with their data, from where the runtime made them durable: a non-empty
 * prefix of `[lo, hi)` (all of it, or as much as it has at hand), or throws
 * {@link StorageUnavailableError} when it has none of it at hand now (a read it started will
 * have them later: the runtime then asks the core to send again). Any other error is a storage
 * failure.
 */
export type EntryReader = (lo: number, hi: number) => Entry[];

/** What is kept of an entry whose data was evicted. */
interface EvictedEntry extends Entry {
  readonly evictedBytes: number;
}

/** The data of every evicted entry (compared by identity; no real entry holds it). */
const EVICTED_DATA = new Uint8Array(0);

function isEvicted(e: Entry): e is EvictedEntry {
  return e.data === EVICTED_DATA;
}

/** Data bytes of an entry, held or evicted. */
function storedBytes(e: Entry): number {
  return isEvicted(e) ? e.evictedBytes : e.data.length;
}

/** The snapshot every initial member of a new group starts from: index 1, term 1, `confState`. */
export function bootstrapSnapshot(confState: ConfState, data: Uint8Array = EMPTY_BYTES): Snapshot {
  return { meta: { index: 1, term: 1, confState }, data };
}

/** The in-memory Storage; see the file comment for the order of writes. */
export class MemoryStorage implements Storage {
  #hardState: HardState = EMPTY_HARD_STATE;
  #snapshot: Snapshot = { meta: { index: 0, term: 0, confState: EMPTY_CONF_STATE }, data: EMPTY_BYTES };
  #entries: Entry[] = [{ index: 0, term: 0, type: 'normal', data: EMPTY_BYTES }];
  #confState: ConfState = EMPTY_CONF_STATE;
  #reader: EntryReader | null = null;
  /** No entry above this index is evicted. */
  #evictedThrough = 0;
  /** Data bytes held in memory by the entries (evicted ones excluded). */
  #heldBytes = 0;

  /**
   * A storage for a new member of a new group: holds {@link bootstrapSnapshot}(`confState`) and
   * hard state (term 1, commit 1). Members that join later start from `new MemoryStorage()` and
   * receive a snapshot from the leader.
   */
  static bootstrap(confState: ConfState, data: Uint8Array = EMPTY_BYTES): MemoryStorage {
    const storage = new MemoryStorage();
    storage.applySnapshot(bootstrapSnapshot(confState, data));
    storage.setHardState({ term: 1, vote: '', commit: 1 });
    return storage;
  }

  get hardState(): HardState {
    return this.#hardState;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.#hardState, confState: this.#confState };
  }

  setHardState(hardState: HardState): void {
    this.#hardState = hardState;
  }

  /**
   * Records the configuration as of the applied index (call it after `applyConfChange`), so
   * that a restart with `config.applied` at that index starts from the right configuration.
   * A runtime that restarts from the snapshot index instead (re-applying every entry after it)
   * does not need it. Replaced by the snapshot's on `applySnapshot`.
   */
  setConfState(confState: ConfState): void {
    this.#confState = confState;
  }

  #offset(): number {
    return this.#entries[0]!.index;
  }

  firstIndex(): number {
    return this.#offset() + 1;
  }

  lastIndex(): number {
    return this.#offset() + this.#entries.length - 1;
  }

  term(index: number): number {
    const offset = this.#offset();
    if (index < offset) throw new StorageCompactedError(index);
    if (index - offset >= this.#entries.length) throw new StorageUnavailableError(index);
    return this.#entries[index - offset]!.term;
  }

  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    const offset = this.#offset();
    if (lo <= offset) throw new StorageCompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new StorageUnavailableError(hi - 1);
    assert(lo < hi, () => `memory storage: entries(${lo}, ${hi})`);
    const out = limitBytes(this.#entries.slice(lo - offset, hi - offset), bytesMax, storedBytes);
    if (lo > this.#evictedThrough) return out;
    for (let i = 0; i < out.length; ) {
      if (!isEvicted(out[i]!)) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < out.length && isEvicted(out[j]!)) j++;
      let read: Entry[];
      try {
        read = this.#reader!(out[i]!.index, out[j - 1]!.index + 1);
      } catch (error) {
        // Nothing at hand: the entries before the run, if any, are an answer.
        if (error instanceof StorageUnavailableError && i > 0) return out.slice(0, i);
        throw error;
      }
      assert(read.length > 0 && read.length <= j - i, () => `memory storage: read back ${read.length} entries for [${out[i]!.index}, ${out[j - 1]!.index + 1})`);
      for (let k = i; k < i + read.length; k++) {
        const kept = out[k] as EvictedEntry;
        const e = read[k - i]!;
        assert(
          e.index === kept.index && e.term === kept.term && e.type === kept.type && e.data.length === kept.evictedBytes,
          () => `memory storage: entry ${kept.index} read back as (index ${e.index}, term ${e.term}, ${e.data.length} bytes), kept (term ${kept.term}, ${kept.evictedBytes} bytes)`,
        );
        out[k] = e;
      }
      // A prefix read back: the answer ends there.
      if (read.length < j - i) return out.slice(0, i + read.length);
      i = j;
    }
    return out;
  }

  /** Reads evicted entries back (see the file comment). Required before the first `evict`. */
  setEntryReader(reader: EntryReader): void {
    this.#reader = reader;
  }

  /**
   * Drop the data of the normal entries up to `index` (capped at the last index) from memory;
   * `entries` reads them back through the {@link EntryReader}. Entries stay otherwise as they
   * were (`term`, sizes); configuration changes keep their data.
   */
  evict(index: number): void {
    assert(this.#reader !== null, () => 'memory storage: evict without an entry reader');
    const offset = this.#offset();
    const through = Math.min(index, this.lastIndex());
    for (let i = Math.max(this.#evictedThrough, offset) + 1; i <= through; i++) {
      const e = this.#entries[i - offset]!;
      if (e.type !== 'normal' || e.data.length === 0 || isEvicted(e)) continue;
      const kept: EvictedEntry = { index: e.index, term: e.term, type: e.type, data: EVICTED_DATA, evictedBytes: e.data.length };
      this.#entries[i - offset] = kept;
      this.#heldBytes -= e.data.length;
    }
    this.#evictedThrough = Math.max(this.#evictedThrough, through);
  }

  /** The highest index evicted so far (0: none); entries above it are all held in memory. */
  get evictedThrough(): number {
    return this.#evictedThrough;
  }

  /** Data bytes of the entries held in memory (evicted ones excluded). */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Data bytes of entry `index`, held or evicted (no read). */
  entryBytes(index: number): number {
    const offset = this.#offset();
    if (index <= offset) throw new StorageCompactedError(index);
    if (index - offset >= this.#entries.length) throw new StorageUnavailableError(index);
    return storedBytes(this.#entries[index - offset]!);
  }

  snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Replaces everything with `snapshot` (a follower installing it). Throws SnapshotOutOfDateError if not newer. */
  applySnapshot(snapshot: Snapshot): void {
    const heldIndex = this.#snapshot.meta.index;
    if (snapshot.meta.index <= heldIndex) throw new SnapshotOutOfDateError(snapshot.meta.index, heldIndex);
    this.#snapshot = snapshot;
    this.#confState = snapshot.meta.confState;
    this.#entries = [{ index: snapshot.meta.index, term: snapshot.meta.term, type: 'normal', data: EMPTY_BYTES }];
    this.#heldBytes = 0;
    this.#evictedThrough = snapshot.meta.index;
  }

  /**
   * Records a snapshot of the applied state at `index` (<= lastIndex) with `confState`, the
   * configuration as of `index`. Does not compact: call `compact` after. Does not change
   * `initialState().confState` either: a runtime that restarts from the snapshot index must also
   * call `setConfState(confState)` (once compacted, the entries that made that configuration
   * are gone, and a restart would start from an older one).
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    const heldIndex = this.#snapshot.meta.index;
    if (index <= heldIndex) throw new SnapshotOutOfDateError(index, heldIndex);
    assert(index <= this.lastIndex(), () => `memory storage: snapshot at ${index} beyond last index ${this.lastIndex()}`);
    this.#snapshot = { meta: { index, term: this.term(index), confState }, data };
    return this.#snapshot;
  }

  /** Discards entries before `index` (the entry at `index` becomes the dummy). */
  compact(index: number): void {
    const offset = this.#offset();
    if (index <= offset) throw new StorageCompactedError(index);
    assert(index <= this.lastIndex(), () => `memory storage: compact ${index} beyond last index ${this.lastIndex()}`);
    const dummy = this.#entries[index - offset]!;
    for (let i = 1; i <= index - offset; i++) if (!isEvicted(this.#entries[i]!)) this.#heldBytes -= this.#entries[i]!.data.length;
    this.#entries = [{ index: dummy.index, term: dummy.term, type: 'normal', data: EMPTY_BYTES }, ...this.#entries.slice(index - offset + 1)];
  }

  /**
   * Appends contiguous `entries`, truncating any stored suffix from `entries[0].index`.
   * Entries at or below the compacted prefix are skipped.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    assertContiguous(entries, 'memory storage append');
    const first = this.firstIndex();
    const last = entries.at(-1)!.index;
    if (last < first) return;
    const kept = entries[0]!.index < first ? entries.slice(first - entries[0]!.index) : [...entries];
    const from = kept[0]!.index;
    assert(from <= this.lastIndex() + 1, () => `memory storage: append at ${from} leaves a gap after ${this.lastIndex()}`);
    // Truncate a conflicting suffix in place, then append: O(appended), not O(log).
    const offset = this.#offset();
    for (let i = from - offset; i < this.#entries.length; i++) if (!isEvicted(this.#entries[i]!)) this.#heldBytes -= this.#entries[i]!.data.length;
    this.#entries.length = from - offset;
    this.#evictedThrough = Math.min(this.#evictedThrough, from - 1);
    for (const e of kept) {
      this.#entries.push(e);
      this.#heldBytes += e.data.length;
    }
  }
}
