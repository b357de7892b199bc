/**
 * The Raft log as the protocol sees it (etcd-io/raft's log.go): durable entries in Storage,
 * followed by the unstable tail. Tracks the commit, applying and applied indexes.
 *
 * Invariants: `applied <= applying <= committed <= lastIndex()`; `committed` never decreases;
 * the log is contiguous with non-decreasing terms (asserted on every append and storage read).
 */
import { assert } from './assert.ts';
import { Unstable } from './unstable.ts';
import { StorageCompactedError, StorageUnavailableError, type Entry, type Snapshot, type Storage } from './types.ts';

/** The size of an entry as counted by every byte limit: its data. */
export function entryBytes(entry: Entry): number {
  return entry.data.length;
}

/** Sum of {@link entryBytes}. */
export function entriesBytes(entries: readonly Entry[]): number {
  let total = 0;
  for (const entry of entries) total += entry.data.length;
  return total;
}

/** Asserts `entries` are contiguous with non-decreasing terms; `what` names their origin. */
export function assertContiguous(entries: readonly Entry[], what: string): void {
  for (let i = 1; i < entries.length; i++) {
    const previous = entries[i - 1]!;
    const entry = entries[i]!;
    assert(entry.index === previous.index + 1, () => `${what}: index ${entry.index} follows ${previous.index}`);
    assert(entry.term >= previous.term, () => `${what}: term ${entry.term} at ${entry.index} after term ${previous.term}`);
  }
}

/** The largest prefix of `entries` within `bytesMax` (always at least one entry); `bytesOf` sizes an entry. */
export function limitBytes(entries: Entry[], bytesMax: number, bytesOf: (entry: Entry) => number = entryBytes): Entry[] {
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    total += bytesOf(entries[i]!);
    if (total > bytesMax && i > 0) return entries.slice(0, i);
  }
  return entries;
}

/** Storage plus the unstable tail, with commit/applying/applied indexes; see the file comment. */
export class RaftLog {
  readonly unstable: Unstable;
  /** Highest index known committed. */
  committed: number;
  /** Highest index handed out for applying (in a Ready). */
  applying: number;
  /** Highest index the caller reported applied. */
  applied: number;

  constructor(
    readonly storage: Storage,
    readonly committedEntriesBytesMax: number,
  ) {
    const firstIndex = storage.firstIndex();
    const lastIndex = storage.lastIndex();
    assert(firstIndex >= 1 && lastIndex >= firstIndex - 1, () => `storage: first index ${firstIndex}, last index ${lastIndex}`);
    this.unstable = new Unstable(lastIndex + 1);
    this.committed = firstIndex - 1;
    this.applying = firstIndex - 1;
    this.applied = firstIndex - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of the entry at `index`; the valid range is [firstIndex() - 1, lastIndex()]. Throws Storage errors outside. */
  term(index: number): number {
    const dummyIndex = this.firstIndex() - 1;
    if (index < dummyIndex) throw new StorageCompactedError(index);
    if (index > this.lastIndex()) throw new StorageUnavailableError(index);
    return this.unstable.maybeTerm(index) ?? this.storage.term(index);
  }

  /** Term at `index`, or 0 when it is compacted or beyond the log. */
  termOrZero(index: number): number {
    // Out of range is common (probes, rejected appends): answer it without building an error.
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return 0;
    try {
      return this.term(index);
    } catch (error) {
      if (error instanceof StorageCompactedError || error instanceof StorageUnavailableError) return 0;
      throw error;
    }
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  matchTerm(index: number, term: number): boolean {
    return this.termOrZero(index) === term;
  }

  /** Whether a log ending at (`lastIndex`, `lastTerm`) is at least as up to date as ours (§5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower append: if our log matches (`index`, `logTerm`), append `entries` (truncating the
   * first conflicting suffix), commit up to min(`commit`, last new index) and return the last
   * new index; otherwise return null.
   */
  maybeAppend(index: number, logTerm: number, commit: number, entries: readonly Entry[]): number | null {
    if (!this.matchTerm(index, logTerm)) return null;
    const lastNewIndex = index + entries.length;
    const conflictIndex = this.findConflict(entries);
    if (conflictIndex !== 0) {
      assert(conflictIndex > this.committed, () => `log: entry ${conflictIndex} conflicts with committed entry (committed ${this.committed})`);
      this.append(entries.slice(conflictIndex - (index + 1)));
    }
    this.commitTo(Math.min(commit, lastNewIndex));
    return lastNewIndex;
  }

  /** Appends contiguous `entries` after `entries[0].index - 1`, truncating anything after it. Returns the last index. */
  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    assertContiguous(entries, 'log append');
    const after = entries[0]!.index - 1;
    assert(after >= this.committed, () => `log: append after ${after} would truncate committed ${this.committed}`);
    assert(after <= this.lastIndex(), () => `log: append after ${after} leaves a gap after ${this.lastIndex()}`);
    const previousTerm = this.termOrZero(after);
    assert(entries[0]!.term >= previousTerm, () => `log: term ${entries[0]!.term} at ${after + 1} after term ${previousTerm}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** The index of the first entry of `entries` whose term differs from ours (or that we lack), 0 if none. */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    return 0;
  }

  /**
   * Fast backtracking: the largest index <= `index` whose term is <= `term`, with that term.
   * An unknown (compacted) term answers (index, 0): it may match.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let at = index; at > 0; at--) {
      let ourTerm: number;
      try {
        ourTerm = this.term(at);
      } catch (error) {
        if (error instanceof StorageCompactedError || error instanceof StorageUnavailableError) return { index: at, term: 0 };
        throw error;
      }
      if (ourTerm <= term) return { index: at, term: ourTerm };
    }
    return { index: 0, term: 0 };
  }

  /** Raises the commit index (never lowers it). */
  commitTo(commit: number): void {
    if (commit <= this.committed) return;
    assert(commit <= this.lastIndex(), () => `log: commit ${commit} beyond last index ${this.lastIndex()} (was the log lost?)`);
    this.committed = commit;
  }

  /** The caller applied everything up to `index`. */
  appliedTo(index: number): void {
    assert(index <= this.committed && index >= this.applied, () => `log: applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
    this.applying = Math.max(this.applying, index);
  }

  /** Entries up to `index` were handed out for applying. */
  acceptApplying(index: number): void {
    assert(index <= this.committed, () => `log: applying ${index} beyond commit ${this.committed}`);
    this.applying = index;
  }

  /** Entries up to `index` (at `term`) are durable. True when they still are in the log. */
  stableTo(index: number, term: number): boolean {
    return this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** The highest index such that the log up to it is durable (0 while a snapshot is pending). */
  persistedIndex(): number {
    if (this.unstable.snapshot !== null) return 0;
    return Math.min(this.unstable.offset - 1, this.lastIndex());
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== null;
  }

  /** Committed entries not yet handed out for applying (none while a snapshot is pending). */
  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    return this.slice(this.applying + 1, this.committed + 1, this.committedEntriesBytesMax);
  }

  hasNextCommittedEntries(): boolean {
    return !this.hasPendingSnapshot() && this.committed > this.applying;
  }

  /** Entries from `index` to the end, at most `bytesMax` (at least one). */
  entries(index: number, bytesMax: number): Entry[] {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, bytesMax);
  }

  /** Entries in [lo, hi), at most `bytesMax` (at least one). Throws StorageCompactedError below firstIndex(). */
  slice(lo: number, hi: number, bytesMax: number): Entry[] {
    assert(lo <= hi, () => `log: slice [${lo}, ${hi})`);
    if (lo === hi) return [];
    if (lo < this.firstIndex()) throw new StorageCompactedError(lo);
    assert(hi <= this.lastIndex() + 1, () => `log: slice [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    let result: Entry[] = [];
    const offset = this.unstable.offset;
    if (lo < offset) {
      const storedHi = Math.min(hi, offset);
      result = this.storage.entries(lo, storedHi, bytesMax);
      assert(result.length > 0 && result[0]!.index === lo && result.length <= storedHi - lo, () => `storage: entries(${lo}, ${storedHi}) returned ${result.length} entries from ${result[0]?.index}`);
      assertContiguous(result, 'storage entries');
      // Storage stopped at the byte limit: do not read on.
      if (result.length < storedHi - lo) return result;
    }
    if (hi > offset) {
      const pending = this.unstable.slice(Math.max(lo, offset), hi);
      result = result.length === 0 ? pending : [...result, ...pending];
    }
    return limitBytes(result, bytesMax);
  }

  /** Replaces the log by `snapshot` (a follower installing it). */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.meta.index;
    this.unstable.restore(snapshot);
  }

  /** The latest snapshot: the pending one, or the storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }
}
