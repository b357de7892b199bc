import test from 'ava';
import { makeMessage, EMPTY_BYTES, MemoryStorage, RawNode, type Message } from '../../raft/core/index.ts';
import { bytes, Cluster, confStateOf, makeConfig } from './harness.ts';

test('raft-core - every outgoing message carries the group id; messages of another group are dropped', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  const groups = new Set<string>();
  c.onReady = (_id, rd) => {
    for (const m of [...rd.messages, ...rd.messagesAfterPersist]) groups.add(m.groupId);
  };
  c.elect('a');
  c.propose('a', 'x');
  t.deepEqual([...groups], ['g1']);
  const foreign: Message = makeMessage({ groupId: 'g2', type: 'MsgVote', from: 'c', to: 'b', term: 9, logTerm: 9, index: 9 });
  c.node('b').step(foreign);
  c.node('b').step({ ...foreign, groupId: 'g1', to: 'z' }); // another destination
  c.node('b').step({ ...foreign, groupId: 'g1', term: -1 }); // malformed
  t.is(c.node('b').status().hardState.term, 2);
  t.is(c.node('b').status().messagesDropped, 3);
  t.false(c.node('b').hasReady());
});

test('raft-core - status reports role, configuration and, on the leader only, progress', (t) => {
  const c = new Cluster(['a', 'b', 'l'], { voters: ['a', 'b'], learners: ['l'] });
  c.elect('a');
  c.propose('a', 'x');
  const leader = c.node('a').status();
  t.is(leader.id, 'a');
  t.is(leader.groupId, 'g1');
  t.deepEqual(leader.softState, { leader: 'a', role: 'leader' });
  t.deepEqual(leader.hardState, { term: 2, vote: 'a', commit: 3 });
  t.is(leader.applied, 3);
  t.is(leader.lastIndex, 3);
  t.deepEqual(leader.confState, confStateOf(['a', 'b'], ['l']));
  t.deepEqual(leader.progress, {
    a: { match: 3, next: 4, state: 'replicate', recentActive: true, learner: false },
    b: { match: 3, next: 4, state: 'replicate', recentActive: true, learner: false },
    l: { match: 3, next: 4, state: 'replicate', recentActive: true, learner: true },
  });
  t.is(c.node('b').status().progress, null);
});

test('raft-core - one Ready at a time: ready() before advance() and a foreign advance() throw', (t) => {
  const node = new RawNode(makeConfig('a'), MemoryStorage.bootstrap(confStateOf(['a'])));
  node.campaign();
  const rd = node.ready();
  t.throws(() => node.ready(), { name: 'RaftInvariantError' });
  t.throws(() => node.advance({ ...rd }), { name: 'RaftInvariantError' });
  node.advance(rd);
  t.notThrows(() => node.ready());
});

test('raft-core - soft state is reported only when it changes', (t) => {
  const node = new RawNode(makeConfig('a'), MemoryStorage.bootstrap(confStateOf(['a'])));
  t.false(node.hasReady());
  node.campaign();
  const rd = node.ready();
  t.deepEqual(rd.softState, { leader: 'a', role: 'leader' });
  node.advance(rd);
  node.propose(bytes('x'));
  t.is(node.ready().softState, null);
});

test('raft-core - a committed configuration change that cannot apply is an invariant error', (t) => {
  const node = new RawNode(makeConfig('a'), MemoryStorage.bootstrap(confStateOf(['a'])));
  t.throws(() => node.applyConfChange({ changes: [], transition: 'auto', context: EMPTY_BYTES }), { name: 'RaftInvariantError' });
});

test('raft-core - a heartbeat never commits past the follower\'s own log', (t) => {
  // A node whose data was wiped holds less than the leader believes: the commit is clamped.
  const node = new RawNode(makeConfig('b'), MemoryStorage.bootstrap(confStateOf(['a', 'b'])));
  node.step(makeMessage({ groupId: 'g1', type: 'MsgHeartbeat', from: 'a', to: 'b', term: 2, commit: 5 }));
  t.is(node.status().hardState.commit, 1);
  t.deepEqual(node.ready().messages.map((m) => m.type), ['MsgHeartbeatResp']);
});
