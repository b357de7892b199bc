import test from 'ava';
import { makeMessage, MemoryStorage, RawNode, type Message } from '../../raft/core/index.ts';
import { Cluster, confStateOf, makeConfig, storageWithLog } from './harness.ts';

const vote = (from: string, to: string, term: number): Message => makeMessage({ groupId: 'g1', type: 'MsgVote', from, to, term, logTerm: 1, index: 1 });

test('raft-core - a restarted node resumes its term, vote, log and commit as a follower', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.propose('a', 'x');
  const before = c.node('a').status();
  const member = c.restart('a');
  const after = member.node.status();
  t.deepEqual(after.hardState, before.hardState);
  t.is(after.lastIndex, before.lastIndex);
  t.deepEqual(after.softState, { leader: '', role: 'follower' });
  t.false(member.node.hasReady(), 'nothing to redo');
  c.tickAll(30);
  t.is(c.leaders().length, 1);
  c.propose(c.leaders()[0]!, 'y');
  t.deepEqual(c.appliedData('a'), ['x', 'y']);
});

test('raft-core - committed entries beyond config.applied come out again after a restart', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.propose('a', 'x');
  c.propose('a', 'y');
  // b crashed after persisting but before applying x and y.
  const node = new RawNode(makeConfig('b', { applied: 2 }), c.get('b').storage);
  const rd = node.ready();
  t.deepEqual(rd.committedEntries.map((e) => e.index), [3, 4]);
  t.deepEqual(rd.entries, [], 'nothing to persist again');
  t.is(rd.hardState, null);
  node.advance(rd);
  t.is(node.status().applied, 4);
  t.false(node.hasReady());
});

test('raft-core - the vote survives a restart: no second vote in the same term', (t) => {
  const storage = MemoryStorage.bootstrap(confStateOf(['a', 'b', 'c']));
  let node = new RawNode(makeConfig('c'), storage);
  node.step(vote('a', 'c', 2));
  let rd = node.ready();
  t.deepEqual(rd.hardState, { term: 2, vote: 'a', commit: 1 });
  t.true(rd.mustSync);
  storage.setHardState(rd.hardState!);
  t.is(rd.messagesAfterPersist[0]?.reject, false);
  node = new RawNode(makeConfig('c'), storage);
  node.step(vote('b', 'c', 2));
  rd = node.ready();
  t.is(rd.messagesAfterPersist[0]?.type, 'MsgVoteResp');
  t.is(rd.messagesAfterPersist[0]?.reject, true);
});

test('raft-core - config.applied below the snapshot index or beyond the commit is refused', (t) => {
  const storage = MemoryStorage.bootstrap(confStateOf(['a']));
  storage.append([{ index: 2, term: 1, type: 'normal', data: new Uint8Array(0) }]);
  storage.createSnapshot(2, confStateOf(['a']), new Uint8Array(0));
  storage.compact(2);
  storage.setHardState({ term: 1, vote: '', commit: 2 });
  t.throws(() => new RawNode(makeConfig('a', { applied: 1 }), storage), { name: 'RaftConfigError' });
  t.throws(() => new RawNode(makeConfig('a', { applied: 3 }), storage), { name: 'RaftConfigError' });
  t.notThrows(() => new RawNode(makeConfig('a', { applied: 2 }), storage));
});

test('raft-core - a hard state committing past the stored log is an invariant error', (t) => {
  const storage = storageWithLog(confStateOf(['a', 'b']), [1], { commit: 5 });
  t.throws(() => new RawNode(makeConfig('a'), storage), { name: 'RaftInvariantError', message: /commit 5/ });
});

test('raft-core - bad configuration values are refused', (t) => {
  const storage = MemoryStorage.bootstrap(confStateOf(['a']));
  t.throws(() => new RawNode(makeConfig('a', { electionTicks: 1, heartbeatTicks: 1 }), storage), { name: 'RaftConfigError' });
  t.throws(() => new RawNode(makeConfig('not valid'), storage), { name: 'RaftConfigError' });
  t.throws(() => new RawNode(makeConfig('a', { inflightMessagesMax: 0 }), storage), { name: 'RaftConfigError' });
});
