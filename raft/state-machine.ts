/**
 * The interface between the Raft runtime (`node.ts`) and an application state machine.
 * The runtime calls these one at a time, never concurrently, in log order.
 */
import type { SnapshotMeta } from './core/types.ts';
import type { SnapshotPrefixes } from './storage/snapshot-store.ts';

export type { SnapshotFilePrefix, SnapshotPrefixes } from './storage/snapshot-store.ts';

/** A committed application entry handed to the state machine. */
export interface AppliedEntry {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

/**
 * The second half of a snapshot: finishes the files in the snapshot's directory from what
 * `snapshot` captured. The runtime calls it once, while later entries are applied (so it must
 * read nothing that an apply may change), and publishes the snapshot when it resolves. A
 * rejection abandons the snapshot. It may resolve with the files of the snapshot that are the
 * prefix of a longer, append-only file (see {@link SnapshotPrefixes}).
 */
export type SnapshotCompletion = () => Promise<SnapshotPrefixes | void>;

export interface StateMachine {
  /**
   * Apply committed entries in order. Must be deterministic: every replica applying the same
   * entries from the same snapshot ends in the same state (byte-identical files). Returns one
   * result per entry, handed to the proposer of that entry (if it is waiting on this node).
   * A rejected command is a result, not an exception; a thrown error is fatal to the node.
   */
  apply(entries: readonly AppliedEntry[]): Promise<unknown[]>;
  /**
   * Write the state as of the last applied entry as a set of files into the empty directory
   * `dir` (fsync is the caller's). Called between applies, and applies wait for it: a state
   * machine with large state should only capture here (hard links, open handles, lengths, its
   * metadata in memory) and return a {@link SnapshotCompletion} that writes the rest.
   */
  snapshot(dir: string): Promise<SnapshotCompletion | void>;
  /** Replace the whole state by the snapshot in `dir`, taken at `meta.index`. */
  restore(dir: string, meta: SnapshotMeta): Promise<void>;
}
