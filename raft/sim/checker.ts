/**
 * The simulator's invariant checks. The simulation reports every observable change (a role, a
 * vote sent, a persisted write, a commit index, an applied entry, a read answered) the moment
 * it happens; each check is incremental, so "checked after every step" costs O(change), not
 * O(cluster state).
 *
 * "Committed" is what some node observed: its persisted commit index covering an entry of its
 * persisted log, or an entry it applied. The checker keeps one committed entry per index; any
 * disagreement with it is a violation.
 */
import type { Entry, NodeId, SnapshotMeta } from '../core/types.ts';

/** The names of the checked invariants, as printed in reports. */
export type InvariantName =
  | 'election-safety' // at most one leader per term
  | 'vote-once-per-term' // a node grants at most one vote per term (and keeps it across restarts)
  | 'hard-state-monotonic' // persisted term and commit never decrease
  | 'log-matching' // same index and term: same data and same prefix (persisted logs)
  | 'leader-completeness' // every committed entry is in the log of every later-term leader
  | 'committed-durable' // a committed (index, term) is never replaced by another
  | 'state-machine-safety' // no two nodes apply different entries at one index; snapshots agree
  | 'applied-le-committed' // applied index <= commit index
  | 'read-index-linearizable' // a read index is not below a commit index observed before the request
  | 'ready-contract' // a Ready asks for persistence without mustSync
  | 'liveness' // after heal, a leader is elected and a proposal applies on all live voters in time
  | 'core-exception'; // the core threw

/** One broken invariant, with enough to find it again. */
export interface Violation {
  readonly seed: number;
  readonly invariant: InvariantName;
  readonly detail: string;
  /** Simulated time in ticks (fractional: messages arrive between ticks). */
  readonly tick: number;
}

/** What the checker may read of a node's persisted log. */
export interface LogView {
  firstIndex(): number;
  lastIndex(): number;
  /** Undefined when compacted or beyond the log. */
  termAt(index: number): number | undefined;
}

/** A node that currently believes it leads `term`. */
export interface LeaderView {
  readonly id: NodeId;
  readonly term: number;
  readonly log: LogView;
}

interface CommittedEntry {
  readonly term: number;
  /**
   * A term in which the entry was known committed: the lowest term of a node that observed it
   * committed. Never below the term in which it was really committed (a node learns of a commit
   * from a leader of its term or an earlier one), so leaders of later terms must hold it.
   */
  commitTerm: number;
  /** Entry type and payload as a comparable string; null when only the (index, term) is known (a snapshot's last entry). */
  key: string | null;
  /** Who first observed it, for reports. */
  readonly observer: NodeId;
}

interface PersistedEntry {
  readonly key: string;
  /** Term of the entry before it in the log that held it (0 when unknown: right after a snapshot). */
  readonly previousTerm: number;
  readonly holder: NodeId;
}

/** Violations kept per seed: the first one is what matters; the rest is noise after it. */
export const VIOLATIONS_KEPT_MAX = 20;

/** The comparable key of an entry: its type and payload. */
export function entryKey(type: Entry['type'], payload: string): string {
  return (type === 'normal' ? 'N:' : 'C:') + payload;
}

export class Checker {
  readonly violations: Violation[] = [];
  /** Highest commit index any node has observed (persisted) so far. */
  maxCommitObserved = 0;

  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly votes = new Map<string, NodeId>();
  private readonly committed: (CommittedEntry | undefined)[] = [];
  private committedIndexMax = 0;
  private readonly persisted = new Map<string, PersistedEntry>();
  private readonly pendingReads = new Map<string, { readonly node: NodeId; readonly minimumIndex: number }>();

  constructor(
    private readonly seed: number,
    private readonly now: () => number,
    private readonly leaders: () => readonly LeaderView[],
  ) {}

  get failed(): boolean {
    return this.violations.length > 0;
  }

  fail(invariant: InvariantName, detail: string): void {
    if (this.violations.length >= VIOLATIONS_KEPT_MAX) return;
    this.violations.push({ seed: this.seed, invariant, detail, tick: this.now() });
  }

  /** A node became leader of `term` (seen in a Ready). Its persisted log must hold every entry committed in an earlier term. */
  onLeader(leader: LeaderView): void {
    const known = this.leaderOfTerm.get(leader.term);
    if (known !== undefined && known !== leader.id) {
      this.fail('election-safety', `term ${leader.term} has two leaders: ${known} and ${leader.id}`);
    } else {
      this.leaderOfTerm.set(leader.term, leader.id);
    }
    const log = leader.log;
    const from = Math.max(1, log.firstIndex());
    for (let index = from; index <= this.committedIndexMax; index++) {
      const entry = this.committed[index];
      if (entry === undefined || entry.commitTerm >= leader.term) continue;
      const term = log.termAt(index);
      if (term !== entry.term) {
        this.fail(
          'leader-completeness',
          `${leader.id} leads term ${leader.term} but its log has ${term === undefined ? 'nothing' : `term ${term}`} at ${index}, ` +
            `where (index ${index}, term ${entry.term}) was committed in term ${entry.commitTerm} or earlier (seen by ${entry.observer})`,
        );
        return;
      }
    }
  }

  /** A node sent a granted MsgVoteResp (a real vote, not a pre-vote) for `candidate` in `term`. */
  onVoteGranted(voter: NodeId, candidate: NodeId, term: number): void {
    const key = `${voter}@${term}`;
    const earlier = this.votes.get(key);
    if (earlier === undefined) this.votes.set(key, candidate);
    else if (earlier !== candidate) this.fail('vote-once-per-term', `${voter} voted for ${earlier} and then ${candidate} in term ${term}`);
  }

  /** A node persisted a hard state over `previous`. */
  onHardStatePersisted(node: NodeId, previous: { term: number; vote: string; commit: number }, next: { term: number; vote: string; commit: number }): void {
    if (next.term < previous.term) this.fail('hard-state-monotonic', `${node} persisted term ${next.term} after ${previous.term}`);
    if (next.commit < previous.commit) this.fail('hard-state-monotonic', `${node} persisted commit ${next.commit} after ${previous.commit}`);
    if (next.term === previous.term && previous.vote !== '' && next.vote !== previous.vote) {
      this.fail('vote-once-per-term', `${node} persisted vote '${next.vote}' over '${previous.vote}' in term ${next.term}`);
    }
  }

  /**
   * A node persisted `entries` (consecutive) whose predecessor in its log has `previousTerm`
   * (0 when unknown). Same (index, term) must mean same payload and same predecessor term.
   */
  onEntriesPersisted(node: NodeId, entries: readonly { readonly index: number; readonly term: number; readonly key: string }[], previousTerm: number): void {
    let before = previousTerm;
    for (const entry of entries) {
      const id = `${entry.index}/${entry.term}`;
      const seen = this.persisted.get(id);
      if (seen === undefined) {
        this.persisted.set(id, { key: entry.key, previousTerm: before, holder: node });
      } else {
        if (seen.key !== entry.key) {
          this.fail('log-matching', `(index ${entry.index}, term ${entry.term}) holds different data on ${seen.holder} and ${node}`);
        } else if (seen.previousTerm !== 0 && before !== 0 && seen.previousTerm !== before) {
          this.fail(
            'log-matching',
            `(index ${entry.index}, term ${entry.term}) follows term ${seen.previousTerm} on ${seen.holder} but term ${before} on ${node}`,
          );
        }
      }
      const committed = this.committed[entry.index];
      if (committed !== undefined && entry.term > committed.commitTerm && entry.term !== committed.term) {
        this.fail(
          'leader-completeness',
          `${node} persisted (index ${entry.index}, term ${entry.term}) where (index ${entry.index}, term ${committed.term}) was committed ` +
            `in term ${committed.commitTerm} or earlier: the leader of term ${entry.term} lacked a committed entry`,
        );
      }
      before = entry.term;
    }
  }

  /**
   * A node in `observerTerm` sees its commit index cover `(index, term)` of its persisted log
   * (key null: only the term is known, as for a snapshot's last entry).
   */
  onCommitted(node: NodeId, observerTerm: number, index: number, term: number, key: string | null): void {
    if (index > this.maxCommitObserved) this.maxCommitObserved = index;
    const known = this.committed[index];
    if (known === undefined) {
      this.committed[index] = { term, commitTerm: observerTerm, key, observer: node };
      if (index > this.committedIndexMax) this.committedIndexMax = index;
      for (const leader of this.leaders()) {
        if (leader.term <= observerTerm) continue;
        const held = leader.log.termAt(index);
        if (held !== undefined && held !== term) {
          this.fail('leader-completeness', `${leader.id} leads term ${leader.term} without (index ${index}, term ${term}), committed by term ${observerTerm}; it has term ${held}`);
          return;
        } else if (held === undefined && index > leader.log.lastIndex()) {
          this.fail(
            'leader-completeness',
            `${leader.id} leads term ${leader.term} but its log ends at ${leader.log.lastIndex()}, before (index ${index}, term ${term}), committed by term ${observerTerm}`,
          );
          return;
        }
      }
      return;
    }
    if (observerTerm < known.commitTerm) known.commitTerm = observerTerm;
    if (known.term !== term) {
      this.fail('committed-durable', `${node} sees (index ${index}, term ${term}) committed, but ${known.observer} saw (index ${index}, term ${known.term}) committed`);
    } else if (key !== null) {
      if (known.key === null) known.key = key;
      else if (known.key !== key) this.fail('committed-durable', `${node} and ${known.observer} committed different data at (index ${index}, term ${term})`);
    }
  }

  /** A node in `observerTerm` applied an entry. It must agree with what is committed at its index. */
  onApplied(node: NodeId, observerTerm: number, index: number, term: number, key: string): void {
    const known = this.committed[index];
    if (known !== undefined && (known.term !== term || (known.key !== null && known.key !== key))) {
      this.fail(
        'state-machine-safety',
        `${node} applied (index ${index}, term ${term}) but (index ${index}, term ${known.term}) is committed (seen by ${known.observer})`,
      );
      return;
    }
    this.onCommitted(node, observerTerm, index, term, key);
  }

  /**
   * A node installed a snapshot: its last entry is committed, and its content must be the
   * committed normal payloads up to its index, in order.
   */
  onSnapshotInstalled(node: NodeId, observerTerm: number, meta: SnapshotMeta, items: readonly string[]): void {
    this.onCommitted(node, observerTerm, meta.index, meta.term, null);
    const expected: string[] = [];
    for (let index = 2; index <= meta.index; index++) {
      const entry = this.committed[index];
      // A hole: never observed entry by entry, nothing to compare against. (Index 1 is the bootstrap.)
      if (entry === undefined || entry.key === null) return;
      if (entry.key.startsWith('N:') && entry.key.length > 2) expected.push(entry.key.slice(2));
    }
    if (expected.length !== items.length || expected.some((item, i) => item !== items[i])) {
      this.fail('state-machine-safety', `${node} installed a snapshot at ${meta.index} whose state (${items.length} items) differs from the committed log (${expected.length} items)`);
    }
  }

  /** A node's applied index and commit index after a Ready. */
  onProgress(node: NodeId, appliedIndex: number, commitIndex: number): void {
    if (appliedIndex > commitIndex) this.fail('applied-le-committed', `${node} applied ${appliedIndex} beyond its commit index ${commitIndex}`);
  }

  /** A client asked `node` for a read index; `context` identifies the request. */
  onReadRequested(node: NodeId, context: string): void {
    this.pendingReads.set(context, { node, minimumIndex: this.maxCommitObserved });
  }

  /** `node` answered the read `context` with `index`. */
  onReadAnswered(node: NodeId, context: string, index: number): boolean {
    const pending = this.pendingReads.get(context);
    if (pending === undefined) return false;
    this.pendingReads.delete(context);
    if (index < pending.minimumIndex) {
      this.fail(
        'read-index-linearizable',
        `${node} answered read ${context} with index ${index}, below the commit index ${pending.minimumIndex} observed before the request`,
      );
    }
    return true;
  }

  /** The reads pending on a crashed node will never be answered. */
  forgetReads(node: NodeId): void {
    for (const [context, pending] of this.pendingReads) if (pending.node === node) this.pendingReads.delete(context);
  }

  /** The committed term at `index`, if known. */
  committedTerm(index: number): number | undefined {
    return this.committed[index]?.term;
  }
}
