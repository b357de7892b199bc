/**
 * An in-memory {@link Storage} (etcd-io/raft's MemoryStorage). The runtime and the simulator
 * keep it in step with what they persisted: after writing a Ready, call `applySnapshot`,
 * `append` and `setHardState` in that order, then `advance`.
 *
 * Layout: `#entries[0]` is a dummy entry at the snapshot's (index, term); real entries follow.
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
    return limitBytes(this.#entries.slice(lo - offset, hi - offset), bytesMax);
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
    this.#entries.length = from - this.#offset();
    for (const e of kept) this.#entries.push(e);
  }
}
