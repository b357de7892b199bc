import test from 'ava';
import { bytes, Cluster } from './harness.ts';

const role = (c: Cluster, id: string): string => c.node(id).status().softState.role;
const term = (c: Cluster, id: string): number => c.node(id).status().hardState.term;

test('raft-core - leader transfer: an up-to-date transferee gets MsgTimeoutNow and wins at once', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { preVote: true, checkQuorum: true } });
  c.elect('a');
  c.transcript = [];
  c.node('a').transferLeader('b');
  c.settle();
  t.deepEqual(c.transcript.slice(0, 3), [
    'a->b MsgTimeoutNow t2',
    // No pre-vote, and the marker makes c answer although it heard a live leader.
    'b->a MsgVote t3 i2 lt2 ctx=raft:transfer-leader',
    'b->c MsgVote t3 i2 lt2 ctx=raft:transfer-leader',
  ]);
  t.deepEqual(c.leaders(), ['b']);
  t.is(term(c, 'b'), 3);
  t.is(role(c, 'a'), 'follower');
});

test('raft-core - leader transfer: a lagging transferee is caught up first', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('c');
  c.propose('a', 'x');
  c.propose('a', 'y');
  c.heal();
  c.transcript = [];
  c.node('a').transferLeader('c');
  t.deepEqual(c.node('a').propose(bytes('z')), { ok: false, reason: 'transferring', leader: 'a' });
  c.settle();
  const timeoutNow = c.transcript.indexOf('a->c MsgTimeoutNow t2');
  const catchUp = c.transcript.findIndex((line) => line.startsWith('a->c MsgApp'));
  t.true(catchUp >= 0 && timeoutNow > catchUp, c.transcript.join('\n'));
  t.deepEqual(c.leaders(), ['c']);
  t.deepEqual(c.appliedData('c'), ['x', 'y']);
});

test('raft-core - leader transfer is abandoned after an election timeout', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('c');
  c.node('a').transferLeader('c');
  c.settle();
  t.is(c.node('a').status().leadTransferee, 'c');
  t.false(c.node('a').propose(bytes('x')).ok);
  c.tick('a', 10);
  t.is(c.node('a').status().leadTransferee, '');
  t.true(c.node('a').propose(bytes('x')).ok);
  t.deepEqual(c.leaders(), ['a']);
});

test('raft-core - transferLeader on a follower is forwarded to the leader', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.transcript = [];
  c.node('c').transferLeader('b');
  c.settle();
  t.is(c.transcript[0], 'b->a MsgTransferLeader t2');
  t.deepEqual(c.leaders(), ['b']);
});

test('raft-core - a transfer to a learner or to the leader itself is ignored', (t) => {
  const c = new Cluster(['a', 'b', 'l'], { voters: ['a', 'b'], learners: ['l'] });
  c.elect('a');
  c.node('a').transferLeader('l');
  c.node('a').transferLeader('a');
  c.settle();
  t.is(c.node('a').status().leadTransferee, '');
  t.deepEqual(c.leaders(), ['a']);
});
