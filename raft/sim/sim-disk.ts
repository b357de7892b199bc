/**
 * A node's simulated disk: a MemoryStorage holding only what was persisted (the snapshot, the
 * log, the hard state). It survives crashes; everything else of a node does not.
 *
 * Writes are ordered, as in one append-only file: a Ready's persist step is one group-committed
 * write, synced when the Ready says `mustSync`; any sync (or the application's snapshot, which
 * is always synced) makes every earlier write durable. A crash loses what was written since the
 * last sync: only a commit-only hard state can be in that state (`mustSync` is true whenever
 * entries, a snapshot, the term or the vote change), so a crash may take a node's commit index
 * back, which Raft must tolerate (the index is learned again).
 */
import { MemoryStorage } from '../core/index.ts';
import type { ConfState, Entry, HardState, Snapshot, Storage } from '../core/types.ts';

export class SimDisk {
  /** The storage the core reads. Written only through this class. */
  readonly storage: MemoryStorage;
  private hard: HardState;
  /** The hard state as of the last sync: what survives a crash. */
  private syncedHard: HardState;

  /**
   * A disk that starts with `snapshot` (bootstrap of an initial member) or empty (a node added
   * later, which learns everything from its leader).
   */
  constructor(snapshot: Snapshot | null) {
    this.storage = new MemoryStorage();
    this.hard = { term: 0, vote: '', commit: 0 };
    if (snapshot !== null) {
      this.storage.applySnapshot(snapshot);
      this.hard = { term: snapshot.meta.term, vote: '', commit: snapshot.meta.index };
      this.storage.setHardState(this.hard);
    }
    this.syncedHard = this.hard;
  }

  /** The core's view of this disk. */
  get reader(): Storage {
    return this.storage;
  }

  get hardState(): HardState {
    return this.hard;
  }

  firstIndex(): number {
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.storage.lastIndex();
  }

  /** The term at `index`, or undefined when the index is compacted (below the snapshot) or beyond the log. */
  termAt(index: number): number | undefined {
    if (index < this.storage.firstIndex() - 1 || index > this.storage.lastIndex()) return undefined;
    return this.storage.term(index);
  }

  /** The persisted entry at `index`, or undefined when it is not in the log. */
  entryAt(index: number): Entry | undefined {
    if (index < this.storage.firstIndex() || index > this.storage.lastIndex()) return undefined;
    return this.storage.entries(index, index + 1, Number.MAX_SAFE_INTEGER)[0];
  }

  snapshot(): Snapshot {
    return this.storage.snapshot();
  }

  confState(): ConfState {
    return this.storage.initialState().confState;
  }

  /** Ready duty 2a: install a snapshot (replaces the log it covers). */
  persistSnapshot(snapshot: Snapshot): void {
    this.storage.applySnapshot(snapshot);
  }

  /** Ready duty 2b: append entries, truncating any suffix from `entries[0].index`. */
  persistEntries(entries: readonly Entry[]): void {
    if (entries.length > 0) this.storage.append(entries);
  }

  /** Ready duty 2c. Durable only once `sync` runs (in this Ready or a later one). */
  persistHardState(hardState: HardState): void {
    this.hard = hardState;
    this.storage.setHardState(hardState);
  }

  /** The commit index this disk keeps across a crash (the synced hard state's, or the snapshot's). */
  durableCommit(): number {
    return Math.max(this.syncedHard.commit, this.storage.snapshot().meta.index);
  }

  /** fsync: everything written so far survives a crash. */
  sync(): void {
    this.syncedHard = this.hard;
  }

  /** A crash: writes since the last sync are lost. Returns the hard state lost, if any. */
  loseUnsynced(): HardState | null {
    if (this.hard === this.syncedHard) return null;
    const lost = this.hard;
    this.hard = this.syncedHard;
    this.storage.setHardState(this.hard);
    return lost;
  }

  /**
   * The application's own snapshot at `index` (<= applied), then compaction of the log up to
   * `compactIndex` (<= index). Both are durable at once. A restart resumes from this snapshot
   * (the simulated application keeps nothing else), so the configuration a restart reads is
   * the snapshot's too.
   */
  snapshotAndCompact(index: number, confState: ConfState, data: Uint8Array, compactIndex: number): void {
    this.storage.createSnapshot(index, confState, data);
    this.storage.setConfState(confState);
    this.sync();
    if (compactIndex >= this.storage.firstIndex()) this.storage.compact(compactIndex);
  }
}
