/**
 * The leader's view of the group (etcd-io/raft's tracker/tracker.go): the active configuration,
 * one {@link Progress} per member, and the votes of the current election.
 */
import { Inflights } from './inflights.ts';
import { Progress } from './progress.ts';
import { jointCommittedIndex, jointVoteResult, type VoteResult } from './quorum.ts';
import type { ConfState, NodeId } from './types.ts';

/**
 * A configuration as sets. Invariants (checked by confchange.ts): every member has a Progress;
 * learners are in neither voter set; learnersNext are outgoing voters; learnersNext and
 * autoLeave are empty/false outside a joint configuration.
 */
export interface TrackerConfig {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

/** A configuration with no member. */
export function emptyTrackerConfig(): TrackerConfig {
  return { incoming: new Set(), outgoing: new Set(), learners: new Set(), learnersNext: new Set(), autoLeave: false };
}

/** A deep copy (new sets) of `config`. */
export function cloneTrackerConfig(config: TrackerConfig): TrackerConfig {
  return {
    incoming: new Set(config.incoming),
    outgoing: new Set(config.outgoing),
    learners: new Set(config.learners),
    learnersNext: new Set(config.learnersNext),
    autoLeave: config.autoLeave,
  };
}

/** The ConfState of a configuration, every list sorted. */
export function confStateOf(config: TrackerConfig): ConfState {
  const sorted = (set: Set<NodeId>): NodeId[] => [...set].sort();
  return {
    voters: sorted(config.incoming),
    votersOutgoing: sorted(config.outgoing),
    learners: sorted(config.learners),
    learnersNext: sorted(config.learnersNext),
    autoLeave: config.autoLeave,
  };
}

/** Configuration, progress per member and election votes; see the file comment. */
export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  progress = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();

  constructor(
    readonly inflightMessagesMax: number,
    readonly inflightBytesMax: number,
  ) {}

  /** A fresh Progress for a member that joins, or for every member at restore. */
  newProgress(next: number, isLearner: boolean): Progress {
    return new Progress({ next, isLearner, recentActive: true, inflights: new Inflights(this.inflightMessagesMax, this.inflightBytesMax) });
  }

  confState(): ConfState {
    return confStateOf(this.config);
  }

  isJoint(): boolean {
    return this.config.outgoing.size > 0;
  }

  /** Exactly one voter and no joint configuration. */
  isSingleton(): boolean {
    return this.config.incoming.size === 1 && this.config.outgoing.size === 0;
  }

  isVoter(id: NodeId): boolean {
    return this.config.incoming.has(id) || this.config.outgoing.has(id);
  }

  /** Voters of both halves, sorted (deterministic message order). */
  voterIds(): NodeId[] {
    return [...new Set([...this.config.incoming, ...this.config.outgoing])].sort();
  }

  /** Every tracked member, sorted. */
  ids(): NodeId[] {
    return [...this.progress.keys()].sort();
  }

  /** The highest index stored on a quorum, from the match indexes. */
  committed(): number {
    return jointCommittedIndex(this.config.incoming, this.config.outgoing, (id) => this.progress.get(id)?.match);
  }

  /** Result of a vote over `granted` (ids that granted), no answer counted as missing. */
  voteResultOf(granted: ReadonlySet<NodeId>): VoteResult {
    return jointVoteResult(this.config.incoming, this.config.outgoing, (id) => (granted.has(id) ? true : undefined));
  }

  /** True when a quorum of voters was recently active (check-quorum). */
  quorumActive(): boolean {
    return jointVoteResult(this.config.incoming, this.config.outgoing, (id) => {
      const progress = this.progress.get(id);
      return progress === undefined ? undefined : progress.recentActive;
    }) === 'won';
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records `id`'s vote; a second answer from the same voter is ignored. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    return jointVoteResult(this.config.incoming, this.config.outgoing, (id) => this.votes.get(id));
  }
}
