/**
 * The tail of the log not yet known to be durable (etcd-io/raft's log_unstable.go): an optional
 * incoming snapshot, then entries from `offset`. Entries from `offsetInProgress` have not been
 * handed to the runtime yet; those before it are being persisted (in an outstanding Ready).
 *
 * Invariants: `offset <= offsetInProgress <= offset + entries.length`; entries are contiguous
 * from `offset`; with a snapshot, `offset === snapshot.meta.index + 1`.
 */
import { assert } from './assert.ts';
import type { Entry, Snapshot } from './types.ts';

/** The not-yet-durable tail of the log; see the file comment. */
export class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  offset: number;
  snapshotInProgress = false;
  offsetInProgress: number;

  /** @param offset the first index not in storage: storage.lastIndex() + 1. */
  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** The first log index, when a snapshot is pending. */
  maybeFirstIndex(): number | null {
    return this.snapshot === null ? null : this.snapshot.meta.index + 1;
  }

  /** The last log index, when anything is pending. */
  maybeLastIndex(): number | null {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? null : this.snapshot.meta.index;
  }

  /** The term at `index`, when it is known here. */
  maybeTerm(index: number): number | null {
    if (index < this.offset) {
      return this.snapshot !== null && this.snapshot.meta.index === index ? this.snapshot.meta.term : null;
    }
    const last = this.maybeLastIndex();
    if (last === null || index > last) return null;
    return this.entries[index - this.offset]!.term;
  }

  /** Entries not yet handed out. */
  nextEntries(): Entry[] {
    return this.entries.slice(this.offsetInProgress - this.offset);
  }

  /** The snapshot, if pending and not yet handed out. */
  nextSnapshot(): Snapshot | null {
    return this.snapshot !== null && !this.snapshotInProgress ? this.snapshot : null;
  }

  /** Marks everything pending as handed out (in a Ready). */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.entries.at(-1)!.index + 1;
    if (this.snapshot !== null) this.snapshotInProgress = true;
  }

  /**
   * Entries up to `index` (at `term`) are durable: drop them. Ignored (returns false) when the
   * entry at `index` was replaced meanwhile or is not here.
   */
  stableTo(index: number, term: number): boolean {
    if (index < this.offset || this.maybeTerm(index) !== term) return false;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
    return true;
  }

  /** The snapshot at `index` is durable. */
  stableSnapTo(index: number): void {
    if (this.snapshot !== null && this.snapshot.meta.index === index) {
      this.snapshot = null;
      this.snapshotInProgress = false;
    }
  }

  /** Replaces everything with `snapshot`. */
  restore(snapshot: Snapshot): void {
    this.offset = snapshot.meta.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snapshot;
    this.snapshotInProgress = false;
  }

  /** Appends `entries` (contiguous), truncating whatever pending entries they replace. */
  truncateAndAppend(entries: readonly Entry[]): void {
    const from = entries[0]!.index;
    if (from === this.offset + this.entries.length) {
      this.entries.push(...entries);
    } else if (from <= this.offset) {
      // Replaces everything pending, and possibly stored entries: those are rewritten.
      this.entries = [...entries];
      this.offset = from;
      this.offsetInProgress = this.offset;
    } else {
      this.entries = [...this.entries.slice(0, from - this.offset), ...entries];
      this.offsetInProgress = Math.min(this.offsetInProgress, from);
    }
  }

  /** Pending entries in [lo, hi). */
  slice(lo: number, hi: number): Entry[] {
    assert(lo <= hi && lo >= this.offset && hi <= this.offset + this.entries.length, () => `unstable: slice [${lo}, ${hi}) out of [${this.offset}, ${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
