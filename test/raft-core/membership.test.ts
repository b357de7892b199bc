import test from 'ava';
import { makeMessage, EMPTY_BYTES, type ConfChange, type ConfChangeSingle } from '../../raft/core/index.ts';
import { bytes, Cluster } from './harness.ts';

const change = (changes: ConfChangeSingle[], transition: ConfChange['transition'] = 'auto'): ConfChange => ({ changes, transition, context: EMPTY_BYTES });
const confOf = (c: Cluster, id: string) => c.node(id).status().confState;
const commit = (c: Cluster, id: string): number => c.node(id).status().hardState.commit;

function proposeChange(c: Cluster, leader: string, cc: ConfChange): void {
  const result = c.node(leader).proposeConfChange(cc);
  if (!result.ok) throw new Error(`conf change refused: ${result.reason}`);
  c.settle();
}

test('raft-core - learners receive and apply the log but are not counted for commit', (t) => {
  const c = new Cluster(['a', 'b', 'l'], { voters: ['a', 'b'], learners: ['l'] });
  c.elect('a');
  c.propose('a', 'x');
  t.deepEqual(c.appliedData('l'), ['x']);
  t.true(c.node('a').status().progress!.l!.learner);
  c.isolate('b');
  c.propose('a', 'y');
  t.is(commit(c, 'a'), 3, 'a and the learner alone are no quorum');
  t.is(c.get('l').storage.lastIndex(), 4, 'the learner stored the entry');
  c.heal();
  c.tick('a');
  t.is(commit(c, 'a'), 4);
});

test('raft-core - a voter added to the group starts empty, gets the configuration by snapshot and catches up', (t) => {
  const c = new Cluster(['a', 'b', 'c', 'd'], { voters: ['a', 'b', 'c'], empty: ['d'] });
  c.elect('a');
  c.propose('a', 'before');
  proposeChange(c, 'a', change([{ type: 'addVoter', node: 'd' }]));
  t.true(c.transcript.includes('a->d MsgSnap t2 snap=1@1'));
  t.is(c.get('d').snapshotsInstalled, 1);
  t.deepEqual(c.appliedData('d'), ['before']);
  for (const id of ['a', 'b', 'c', 'd']) t.deepEqual(confOf(c, id).voters, ['a', 'b', 'c', 'd'], id);
  // d now counts: with b and c down, a and d are not a majority of 4.
  c.isolate('b', 'c');
  c.node('a').propose(bytes('needs-three'));
  c.settle();
  t.deepEqual(c.appliedData('a'), ['before']);
  c.drop = (m) => [m.from, m.to].includes('c');
  c.tick('a');
  t.deepEqual(c.appliedData('a'), ['before', 'needs-three']);
});

test('raft-core - joint consensus with autoLeave: the leader leaves the joint configuration by itself', (t) => {
  const c = new Cluster(['a', 'b', 'c', 'd'], { voters: ['a', 'b', 'c'], empty: ['d'] });
  c.elect('a');
  proposeChange(c, 'a', change([{ type: 'addVoter', node: 'd' }, { type: 'removeVoter', node: 'c' }]));
  const history = c.get('a').confStates;
  t.deepEqual(history[0], { voters: ['a', 'b', 'd'], votersOutgoing: ['a', 'b', 'c'], learners: [], learnersNext: [], autoLeave: true });
  t.deepEqual(history[1], { voters: ['a', 'b', 'd'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false });
  t.is(history.length, 2);
  t.deepEqual(confOf(c, 'b').voters, ['a', 'b', 'd']);
  t.is(c.node('a').status().progress!.c, undefined, 'c is no longer tracked');
  c.isolate('c');
  c.propose('a', 'without-c');
  t.deepEqual(c.appliedData('d'), ['without-c']);
});

test('raft-core - joint consensus: decisions need a majority of both halves; an empty change leaves', (t) => {
  const c = new Cluster(['a', 'b', 'c', 'd'], { voters: ['a', 'b', 'c'], empty: ['d'] });
  c.elect('a');
  proposeChange(c, 'a', change([{ type: 'addVoter', node: 'd' }, { type: 'removeVoter', node: 'c' }], 'joint'));
  t.deepEqual(confOf(c, 'a'), { voters: ['a', 'b', 'd'], votersOutgoing: ['a', 'b', 'c'], learners: [], learnersNext: [], autoLeave: false });
  t.is(c.get('a').confStates.length, 1, 'no automatic leave');
  // Outgoing {a,b,c} without b and c: no majority there, although {a,b,d} has a and d.
  c.isolate('b', 'c');
  c.node('a').propose(bytes('blocked'));
  c.settle();
  t.deepEqual(c.appliedData('a'), []);
  c.drop = (m) => [m.from, m.to].includes('c');
  c.tick('a');
  t.deepEqual(c.appliedData('a'), ['blocked']);
  // A non-leave change is invalid while joint; the empty change leaves.
  t.deepEqual(c.node('a').proposeConfChange(change([{ type: 'addVoter', node: 'c' }])), { ok: false, reason: 'invalid', leader: 'a' });
  proposeChange(c, 'a', change([]));
  t.deepEqual(confOf(c, 'a').voters, ['a', 'b', 'd']);
  t.deepEqual(confOf(c, 'a').votersOutgoing, []);
});

test('raft-core - a voter demoted in a joint configuration becomes a learner when it is left', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  proposeChange(c, 'a', change([{ type: 'addLearner', node: 'c' }], 'joint'));
  t.deepEqual(confOf(c, 'a'), { voters: ['a', 'b'], votersOutgoing: ['a', 'b', 'c'], learners: [], learnersNext: ['c'], autoLeave: false });
  proposeChange(c, 'a', change([]));
  t.deepEqual(confOf(c, 'a'), { voters: ['a', 'b'], votersOutgoing: [], learners: ['c'], learnersNext: [], autoLeave: false });
  t.true(c.node('a').status().progress!.c!.learner);
});

test('raft-core - a learner is promoted to voter by a simple change', (t) => {
  const c = new Cluster(['a', 'b', 'l'], { voters: ['a', 'b'], learners: ['l'] });
  c.elect('a');
  proposeChange(c, 'a', change([{ type: 'addVoter', node: 'l' }]));
  t.deepEqual(confOf(c, 'l'), { voters: ['a', 'b', 'l'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false });
  c.isolate('a');
  c.elect('l');
  t.deepEqual(c.leaders().filter((id) => id !== 'a'), ['l']);
});

test('raft-core - only one configuration change may be pending', (t) => {
  const c = new Cluster(['a', 'b', 'c', 'd', 'e'], { voters: ['a', 'b', 'c'], empty: ['d', 'e'] });
  c.elect('a');
  const a = c.node('a');
  t.true(a.proposeConfChange(change([{ type: 'addVoter', node: 'd' }])).ok);
  t.deepEqual(a.proposeConfChange(change([{ type: 'addVoter', node: 'e' }])), { ok: false, reason: 'confChangePending', leader: 'a' });
  c.settle();
  t.true(a.proposeConfChange(change([{ type: 'addVoter', node: 'e' }])).ok);
  c.settle();
  t.deepEqual(confOf(c, 'e').voters, ['a', 'b', 'c', 'd', 'e']);
});

test('raft-core - a new leader refuses configuration changes until an entry of its term is committed', (t) => {
  const c = new Cluster(['a', 'b', 'c', 'd'], { voters: ['a', 'b', 'c'], empty: ['d'] });
  c.drop = (m) => m.type === 'MsgAppResp';
  c.elect('a');
  const a = c.node('a');
  t.is(a.status().softState.role, 'leader');
  t.deepEqual(a.proposeConfChange(change([{ type: 'addVoter', node: 'd' }])), { ok: false, reason: 'confChangePending', leader: 'a' });
  c.heal();
  c.tick('a');
  t.true(a.proposeConfChange(change([{ type: 'addVoter', node: 'd' }])).ok);
});

test('raft-core - malformed configuration changes are refused as invalid', (t) => {
  const c = new Cluster(['a']);
  c.elect('a');
  const a = c.node('a');
  t.deepEqual(a.proposeConfChange(change([])), { ok: false, reason: 'invalid', leader: 'a' }, 'leave while not joint');
  t.deepEqual(a.proposeConfChange(change([{ type: 'removeVoter', node: 'a' }])), { ok: false, reason: 'invalid', leader: 'a' }, 'no voter left');
  t.deepEqual(a.proposeConfChange(change([{ type: 'addVoter', node: 'bad id!' }])), { ok: false, reason: 'invalid', leader: 'a' });
  t.deepEqual(a.proposeConfChange(change([{ type: 'addVoter', node: 'b' }], 'reset')), { ok: false, reason: 'invalid', leader: 'a' });
  t.deepEqual(
    a.proposeConfChange(change([{ type: 'addVoter', node: 'b' }, { type: 'addVoter', node: 'c' }], 'auto')).ok,
    true,
    'two voters at once go through a joint configuration',
  );
});

test('raft-core - proposals on a follower are refused with the leader hint', (t) => {
  const c = new Cluster(['a', 'b']);
  t.deepEqual(c.node('b').propose(bytes('x')), { ok: false, reason: 'notLeader', leader: '' });
  c.elect('a');
  t.deepEqual(c.node('b').propose(bytes('x')), { ok: false, reason: 'notLeader', leader: 'a' });
  t.deepEqual(c.node('b').proposeConfChange(change([])), { ok: false, reason: 'notLeader', leader: 'a' });
});

test('raft-core - a forwarded MsgProp is appended by the leader', (t) => {
  const c = new Cluster(['a', 'b']);
  c.elect('a');
  c.node('a').step(makeMessage({ groupId: 'g1', type: 'MsgProp', from: 'b', to: 'a', entries: [{ index: 1, term: 1, type: 'normal', data: bytes('via-b') }] }));
  c.settle();
  t.deepEqual(c.appliedData('b'), ['via-b']);
});

test('raft-core - a leader removed from the configuration steps down once it applies its removal', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  proposeChange(c, 'a', change([{ type: 'removeVoter', node: 'a' }]));
  t.is(c.node('a').status().softState.role, 'follower');
  t.deepEqual(confOf(c, 'b').voters, ['b', 'c']);
  c.tickAll(30);
  const leaders = c.leaders();
  t.is(leaders.length, 1);
  t.not(leaders[0], 'a');
  c.node('a').campaign();
  c.settle();
  t.is(c.node('a').status().softState.role, 'follower', 'a node outside the configuration does not campaign');
});
