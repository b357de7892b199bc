/**
 * A follower's replication progress as the leader sees it (etcd-io/raft's tracker/progress.go).
 *
 * States:
 * - `probe`: the leader does not know where the follower's log matches; it sends at most one
 *   MsgApp and waits (paused) for an answer or a heartbeat response.
 * - `replicate`: the log matches up to `match`; the leader streams entries optimistically
 *   (`next` runs ahead), bounded by the inflight window.
 * - `snapshot`: the follower needs a snapshot; nothing is sent until it is reported.
 *
 * Invariant: `match < next`.
 */
import { assert } from './assert.ts';
import type { Inflights } from './inflights.ts';
import type { ProgressStatus } from './types.ts';

/** See the file comment for what each state allows. */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** One follower's progress; `match < next` always. */
export class Progress {
  /** Highest index known to be stored on the follower. */
  match = 0;
  /** Next index to send. */
  next: number;
  state: ProgressState = 'probe';
  /** In `snapshot` state: the index of the snapshot sent. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive: boolean;
  /** Highest commit index sent to the follower (MsgApp or heartbeat). */
  sentCommit = 0;
  /** Probe: a probe is outstanding. Replicate: the inflight window is full. */
  msgAppFlowPaused = false;
  isLearner: boolean;
  inflights: Inflights;

  constructor(options: { next: number; isLearner: boolean; recentActive: boolean; inflights: Inflights }) {
    this.next = options.next;
    this.isLearner = options.isLearner;
    this.recentActive = options.recentActive;
    this.inflights = options.inflights;
  }

  /** A copy sharing the inflight window (configuration changes copy progress before mutating it). */
  clone(): Progress {
    const copy = new Progress({ next: this.next, isLearner: this.isLearner, recentActive: this.recentActive, inflights: this.inflights });
    copy.match = this.match;
    copy.state = this.state;
    copy.pendingSnapshot = this.pendingSnapshot;
    copy.msgAppFlowPaused = this.msgAppFlowPaused;
    copy.sentCommit = this.sentCommit;
    return copy;
  }

  #resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** Back to probing, after a rejection, an unreachable report or a snapshot. */
  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pendingSnapshot = this.pendingSnapshot;
      this.#resetState('probe');
      this.next = Math.max(this.match + 1, pendingSnapshot + 1);
    } else {
      this.#resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.#resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.#resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /**
   * Accounts for a MsgApp of `entries` entries (`sizeBytes` of data) starting at `nextIndex`.
   * Replicate: advance `next` optimistically and fill the window. Probe: pause until answered.
   */
  updateOnEntriesSend(entries: number, sizeBytes: number, nextIndex: number): void {
    if (this.state === 'replicate') {
      if (entries > 0) {
        const last = nextIndex + entries - 1;
        this.next = last + 1;
        this.inflights.add(last, sizeBytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else {
      assert(this.state === 'probe', () => `progress: sending entries in state ${this.state}`);
      if (entries > 0) this.msgAppFlowPaused = true;
    }
  }

  /** The follower acknowledged `index`. Returns true if `match` advanced. */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * The follower rejected a MsgApp at `rejected`; `matchHint` is the highest index that may
   * match. Returns false when the rejection is stale (nothing changes).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // A probe sends one MsgApp at next-1: any other rejection is stale.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** True when the leader must not send MsgApp now. */
  isPaused(): boolean {
    if (this.state === 'snapshot') return true;
    return this.msgAppFlowPaused;
  }

  status(): ProgressStatus {
    return { match: this.match, next: this.next, state: this.state, recentActive: this.recentActive, learner: this.isLearner };
  }
}
