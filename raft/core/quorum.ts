/**
 * Quorum arithmetic (etcd-io/raft's quorum/): committed index and vote results for a majority
 * configuration and for a joint one (a majority of each half). Pure functions over sets.
 */
import type { NodeId } from './types.ts';

/** The outcome of counting votes: decided either way, or still waiting for answers. */
export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * The highest index known to be stored on a majority of `voters`, given each voter's match
 * index (`undefined` counts as 0). An empty configuration answers `Infinity` so that it never
 * restricts a joint configuration.
 */
export function majorityCommittedIndex(voters: ReadonlySet<NodeId>, matchOf: (id: NodeId) => number | undefined): number {
  if (voters.size === 0) return Infinity;
  const matches = [...voters].map((id) => matchOf(id) ?? 0).sort((a, b) => b - a);
  // Descending order: the value at position floor(n/2) is reached by floor(n/2)+1 voters, a majority.
  return matches[Math.floor(voters.size / 2)]!;
}

/** Joint committed index: the lower of the two halves (an empty half does not restrict). */
export function jointCommittedIndex(
  incoming: ReadonlySet<NodeId>,
  outgoing: ReadonlySet<NodeId>,
  matchOf: (id: NodeId) => number | undefined,
): number {
  const index = Math.min(majorityCommittedIndex(incoming, matchOf), majorityCommittedIndex(outgoing, matchOf));
  return index === Infinity ? 0 : index;
}

/** Vote result in one majority configuration. An empty configuration wins (joint convenience). */
export function majorityVoteResult(voters: ReadonlySet<NodeId>, voteOf: (id: NodeId) => boolean | undefined): VoteResult {
  if (voters.size === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = voteOf(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const quorum = Math.floor(voters.size / 2) + 1;
  if (granted >= quorum) return 'won';
  if (granted + missing >= quorum) return 'pending';
  return 'lost';
}

/** Vote result in a joint configuration: won only when both halves won, lost when either lost. */
export function jointVoteResult(
  incoming: ReadonlySet<NodeId>,
  outgoing: ReadonlySet<NodeId>,
  voteOf: (id: NodeId) => boolean | undefined,
): VoteResult {
  const first = majorityVoteResult(incoming, voteOf);
  const second = majorityVoteResult(outgoing, voteOf);
  if (first === 'lost' || second === 'lost') return 'lost';
  if (first === 'pending' || second === 'pending') return 'pending';
  return 'won';
}
