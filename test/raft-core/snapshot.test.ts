import test from 'ava';
import { makeMessage, EMPTY_BYTES, type Message } from '../../raft/core/index.ts';
import { bytes, Cluster, text } from './harness.ts';

/** Every member except `except` snapshots its applied state and compacts its log. */
function compactAll(c: Cluster, except: string): number {
  let index = 0;
  for (const member of c.members.values()) {
    if (member.id === except) continue;
    index = member.appliedIndex;
    member.storage.createSnapshot(index, member.node.status().confState, bytes(`state@${index}`));
    member.storage.compact(index);
  }
  return index;
}

test('raft-core - a follower that needs compacted entries gets the leader\'s snapshot, then the log', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('c');
  for (let i = 1; i <= 5; i++) c.propose('a', `x${i}`);
  const snapshotIndex = compactAll(c, 'c');
  t.is(snapshotIndex, 7);
  c.heal();
  c.transcript = [];
  c.tick('a');
  t.true(c.transcript.includes('a->c MsgSnap t2 snap=7@2'), c.transcript.join('\n'));
  t.true(c.transcript.includes('c->a MsgAppResp t2 i7'));
  const follower = c.get('c');
  t.is(follower.snapshotsInstalled, 1);
  t.is(text(follower.storage.snapshot().data), 'state@7');
  t.is(follower.storage.firstIndex(), 8);
  t.is(follower.node.status().applied, 7);
  t.deepEqual(follower.node.status().confState.voters, ['a', 'b', 'c']);
  c.propose('a', 'after');
  t.deepEqual(c.appliedData('c'), ['after']);
  t.is(c.node('a').status().progress!.c!.state, 'replicate');
});

test('raft-core - the snapshot state lasts until reportSnapshot; a failed send probes and retries', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('c');
  for (let i = 1; i <= 3; i++) c.propose('a', `x${i}`);
  compactAll(c, 'c');
  c.drop = (m) => m.type === 'MsgSnap';
  c.tick('a');
  const progress = () => c.node('a').status().progress!.c!;
  t.is(progress().state, 'snapshot');
  c.transcript = [];
  c.tick('a', 3);
  t.false(c.transcript.some((line) => line.startsWith('a->c MsgApp') || line.startsWith('a->c MsgSnap')), 'nothing is sent while the snapshot is out');
  c.node('a').reportSnapshot('c', false);
  t.is(progress().state, 'probe');
  c.heal();
  c.tick('a'); // heartbeat answer unpauses the probe, which needs the snapshot again
  t.is(c.get('c').snapshotsInstalled, 1);
  t.is(progress().state, 'replicate');
});

test('raft-core - a snapshot not newer than the follower\'s commit is ignored', (t) => {
  const c = new Cluster(['a', 'b']);
  c.elect('a');
  c.propose('a', 'x');
  const old: Message = makeMessage({
    groupId: 'g1', type: 'MsgSnap', from: 'a', to: 'b', term: 2,
    snapshot: { meta: { index: 2, term: 2, confState: c.node('a').status().confState }, data: EMPTY_BYTES },
  });
  c.transcript = [];
  c.node('b').step(old);
  c.settle();
  t.deepEqual(c.transcript, ['b->a MsgAppResp t2 i3']);
  t.is(c.get('b').snapshotsInstalled, 0);
  t.is(c.get('b').storage.lastIndex(), 3);
});

test('raft-core - a snapshot carries the configuration to a member added later', (t) => {
  const c = new Cluster(['a', 'b', 'l', 'd'], { voters: ['a', 'b'], learners: ['l'], empty: ['d'] });
  c.elect('a');
  c.node('a').proposeConfChange({ changes: [{ type: 'addLearner', node: 'd' }], transition: 'auto', context: EMPTY_BYTES });
  c.isolate('d');
  c.settle();
  c.propose('a', 'x');
  compactAll(c, 'd');
  c.heal();
  c.tick('a');
  t.is(c.get('d').snapshotsInstalled, 1);
  t.deepEqual(c.node('d').status().confState, { voters: ['a', 'b'], votersOutgoing: [], learners: ['d', 'l'], learnersNext: [], autoLeave: false });
  c.propose('a', 'y');
  t.deepEqual(c.appliedData('d'), ['y']);
});

test('raft-core - a node restarts from a snapshot and the entries after it', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.propose('a', 'x1');
  compactAll(c, 'none');
  c.propose('a', 'x2');
  const member = c.restart('b');
  t.is(member.node.status().applied, 4);
  t.is(member.node.status().lastIndex, 4);
  t.is(member.node.status().hardState.commit, 4);
  c.propose('a', 'x3');
  t.deepEqual(c.appliedData('b'), ['x1', 'x2', 'x3']);
});
