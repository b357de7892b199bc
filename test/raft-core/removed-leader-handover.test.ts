import test from 'ava';
import { makeMessage, EMPTY_BYTES, type ConfChange, type ConfChangeSingle, type Message } from '../../raft/core/index.ts';
import { bytes, Cluster, GROUP } from './harness.ts';

const change = (changes: ConfChangeSingle[], transition: ConfChange['transition'] = 'auto'): ConfChange => ({ changes, transition, context: EMPTY_BYTES });

// Found by the simulator (raft/sim): a leader that stepped down the moment it applied its own
// removal left the others unable to elect anyone. They switch configuration only when they
// apply the change, so they still needed its vote; its log was longer than theirs (entries
// proposed after the change), so it refused every candidate; and it never spoke again.
test('raft-core - a leader that applies its own removal hands leadership over instead of deadlocking the group', (t) => {
  const c = new Cluster(['a', 'b']);
  c.elect('a');
  const removal = c.node('a').proposeConfChange(change([{ type: 'removeVoter', node: 'a' }]));
  if (!removal.ok) return t.fail(`removal refused: ${removal.reason}`);
  const after = c.node('a').propose(bytes('after-removal'));
  if (!after.ok) return t.fail(`proposal refused: ${after.reason}`);
  // b stores the removal and acknowledges it, but never hears that it is committed, nor gets
  // the entry after it.
  c.drop = (m) =>
    m.from === 'a' && m.to === 'b' && (m.commit >= removal.index || m.entries.some((e) => e.index === after.index));
  c.settle();
  t.is(c.node('a').status().hardState.commit, after.index - 1, 'a committed its removal with b');
  t.is(c.node('b').status().hardState.commit, removal.index - 1, 'b does not know the removal is committed');
  c.heal();
  c.tickAll(100);
  t.deepEqual(c.leaders(), ['b'], 'b leads the group without a');
  t.deepEqual(c.node('b').status().confState.voters, ['b']);
  const result = c.node('b').propose(bytes('progress'));
  t.true(result.ok);
  c.settle();
  t.true(c.appliedData('b').includes('progress'));
});

test('raft-core - a leader demoted to learner by leaving a joint configuration hands over to a voter', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  const demote = c.node('a').proposeConfChange(change([{ type: 'addLearner', node: 'a' }], 'joint'));
  if (!demote.ok) return t.fail(`demotion refused: ${demote.reason}`);
  c.settle();
  t.deepEqual(c.node('a').status().confState.votersOutgoing, ['a', 'b', 'c'], 'joint: a still votes in the outgoing half');
  const leave = c.node('a').proposeConfChange(change([]));
  if (!leave.ok) return t.fail(`leave refused: ${leave.reason}`);
  c.settle();
  t.true(c.transcript.includes('a->b MsgTimeoutNow t2'), 'a told the most caught-up voter to campaign');
  t.is(c.node('a').status().softState.role, 'follower', 'a stepped down once its successor held its whole log');
  t.deepEqual(c.node('b').status().confState.learners, ['a']);
  c.tickAll(30);
  const leaders = c.leaders();
  t.is(leaders.length, 1);
  t.true(['b', 'c'].includes(leaders[0]!), 'a voter leads');
  t.like(c.node('a').propose(bytes('x')), { ok: false, reason: 'notLeader' });
});

// Found by the simulator (seed 14481 of the 20000-seed run): the same deadlock when the removed
// leader crashed before handing over. After its restart it is a follower outside the
// configuration; b still waits for its vote, and it still refuses b (its log is longer).
test('raft-core - a vote rejection carries the commit index: a candidate holding that entry learns the commit', (t) => {
  const c = new Cluster(['a', 'b']);
  c.elect('a');
  const removal = c.node('a').proposeConfChange(change([{ type: 'removeVoter', node: 'a' }]));
  if (!removal.ok) return t.fail(`removal refused: ${removal.reason}`);
  const after = c.node('a').propose(bytes('after-removal'));
  if (!after.ok) return t.fail(`proposal refused: ${after.reason}`);
  // a commits and applies its removal, then crashes before b hears of the commit.
  c.drop = (m) => m.from === 'a' && m.to === 'b' && (m.commit >= removal.index || m.entries.some((e) => e.index === after.index));
  c.settle();
  t.deepEqual(c.node('a').status().confState.voters, ['b']);
  c.network = [];
  c.restart('a');
  c.heal();
  c.settle();
  t.is(c.node('a').status().softState.role, 'follower');
  t.is(c.node('b').status().hardState.commit, removal.index - 1);
  c.tickAll(60);
  t.deepEqual(c.leaders(), ['b'], 'b learned the commit from a, switched to {b} and won');
  t.deepEqual(c.node('b').status().confState.voters, ['b']);
});

// Found by the simulator (seed 4595 of the 20000-seed run): a candidate whose term fell behind
// was never told. A removed node that did not know it (no pre-vote) kept raising the terms of
// the others with its own elections; the one voter that could win asked with a lower term,
// got no answer at all, and so never caught up (Raft §5.1: a stale request is refused with
// the current term).
test('raft-core - a vote request of an older term is answered with the current term', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { terms: { b: 5 }, config: { checkQuorum: true } });
  c.drop = (m) => m.from === 'c' || m.to === 'c';
  c.node('a').campaign();
  c.settle();
  t.true(c.transcript.includes('a->b MsgVote t2 i1 lt1'));
  t.true(c.transcript.includes('b->a MsgAppResp t5 i0'), 'b answers with its term');
  t.is(c.node('a').status().hardState.term, 5, 'a caught up with the term');
  t.is(c.node('a').status().softState.role, 'follower');
  t.deepEqual(c.node('b').status().hardState, { term: 5, vote: '', commit: 1 }, 'b is not disturbed');
});

// Found by the simulator (seed 8980 of the 20000-seed run): a node added to the group got a
// snapshot taken before its addition (it holds the group's configuration then, without the
// node). Once the leader compacted past it, the leader's next snapshot also predated the
// addition, and the node refused it for not listing it: the leader sent it again and again.
test('raft-core - a joining node that installed a snapshot from before its addition accepts a newer one', (t) => {
  const c = new Cluster(['d'], { empty: ['d'] });
  const confState = { voters: ['a', 'b', 'c'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
  const snap = (index: number): Message =>
    makeMessage({ groupId: GROUP, type: 'MsgSnap', from: 'a', to: 'd', term: 2, snapshot: { meta: { index, term: 2, confState }, data: bytes(`state@${index}`) } });
  c.deliver(snap(5));
  c.settle();
  t.is(c.get('d').snapshotsInstalled, 1);
  c.deliver(snap(9));
  c.settle();
  t.is(c.get('d').snapshotsInstalled, 2, 'the newer snapshot is installed');
  t.is(c.node('d').status().lastIndex, 9);
  t.true(c.transcript.includes('a->d MsgSnap t2 snap=9@2'));
});
