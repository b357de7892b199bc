import test from 'ava';
import { bytes, Cluster } from './harness.ts';

const appsTo = (c: Cluster, id: string): string[] => c.transcript.filter((line) => line.includes(`->${id} MsgApp `) && line.includes('['));
const progressOf = (c: Cluster, leader: string, id: string) => c.node(leader).status().progress![id]!;

test('raft-core - pipelining: a replicating follower gets at most inflightMessagesMax MsgApp until it acks', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { inflightMessagesMax: 2 } });
  c.elect('a');
  t.is(progressOf(c, 'a', 'b').state, 'replicate');
  // b's acks are held back: the window fills after two messages.
  let held = [] as typeof c.network;
  c.drop = (m) => {
    if (m.from === 'b' && m.type === 'MsgAppResp') {
      held.push(m);
      return true;
    }
    return false;
  };
  c.transcript = [];
  for (let i = 1; i <= 5; i++) c.propose('a', `x${i}`);
  t.deepEqual(appsTo(c, 'b'), ['a->b MsgApp t2 i2 lt2 c2 [3@2]', 'a->b MsgApp t2 i3 lt2 c3 [4@2]']);
  t.is(appsTo(c, 'c').length, 5);
  // Heartbeat answers only prompt an empty MsgApp while the window is full.
  c.transcript = [];
  c.tick('a', 3);
  t.deepEqual(appsTo(c, 'b'), []);
  // The acks arrive: the rest flows.
  c.drop = () => false;
  c.transcript = [];
  const acks = held;
  held = [];
  for (const m of acks) c.deliver(m);
  c.settle();
  t.true(appsTo(c, 'b').length > 0);
  t.deepEqual(c.appliedData('b'), ['x1', 'x2', 'x3', 'x4', 'x5']);
});

test('raft-core - pipelining: the window is also bounded by inflightBytesMax', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { inflightBytesMax: 10 } });
  c.elect('a');
  c.drop = (m) => m.from === 'b' && m.type === 'MsgAppResp';
  c.transcript = [];
  for (let i = 1; i <= 5; i++) c.propose('a', `xxx${i}`); // 4 bytes each
  // 4 + 4 + 4 = 12 >= 10 after three messages.
  t.is(appsTo(c, 'b').length, 3);
  t.is(appsTo(c, 'c').length, 5);
});

test('raft-core - batching: one MsgApp carries entries up to messageBytesMax, at least one', (t) => {
  // The leader's log: entries 2..11 with data e2..e11 (2 or 3 bytes); c has none of them.
  const log = Array.from({ length: 10 }, () => 2);
  const c = new Cluster(['a', 'b', 'c'], { logs: { a: log, b: log }, config: { messageBytesMax: 5 } });
  c.elect('a');
  const batches = appsTo(c, 'c').map((line) => line.slice(line.indexOf('[') + 1, -1).split(' '));
  t.true(batches.length >= 5);
  t.true(batches.every((batch) => batch.length <= 2), JSON.stringify(batches));
  t.is(c.get('c').storage.lastIndex(), 12);
  // An entry larger than the limit still goes, alone.
  c.transcript = [];
  c.propose('a', 'a-large-entry');
  t.deepEqual(appsTo(c, 'c'), ['a->c MsgApp t3 i12 lt3 c12 [13@3]']);
});

test('raft-core - proposals are refused as tooLarge past uncommittedBytesMax, accepted again once applied', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { uncommittedBytesMax: 10 } });
  c.elect('a');
  c.isolate('b', 'c');
  const a = c.node('a');
  t.true(a.propose(bytes('1234')).ok);
  t.true(a.propose(bytes('5678')).ok);
  t.deepEqual(a.propose(bytes('9abc')), { ok: false, reason: 'tooLarge', leader: 'a' });
  c.settle();
  c.heal();
  c.tick('a');
  t.deepEqual(c.appliedData('a'), ['1234', '5678']);
  t.true(a.propose(bytes('9abc')).ok);
});

test('raft-core - one oversized proposal is accepted when nothing is uncommitted', (t) => {
  const c = new Cluster(['a'], { config: { uncommittedBytesMax: 4 } });
  c.elect('a');
  t.true(c.node('a').propose(bytes('0123456789')).ok);
  t.false(c.node('a').propose(bytes('x')).ok);
});

test('raft-core - probe: one MsgApp per heartbeat answer until the follower answers', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { heartbeatTicks: 2 } });
  c.elect('a');
  c.node('a').reportUnreachable('c');
  t.is(progressOf(c, 'a', 'c').state, 'probe');
  c.drop = (m) => m.from === 'c' && m.type === 'MsgAppResp';
  c.transcript = [];
  c.propose('a', 'x');
  c.propose('a', 'y');
  t.deepEqual(appsTo(c, 'c'), ['a->c MsgApp t2 i2 lt2 c2 [3@2]']);
  c.transcript = [];
  c.tick('a', 2); // heartbeat, answered: the probe is sent again
  t.deepEqual(appsTo(c, 'c'), ['a->c MsgApp t2 i2 lt2 c4 [3@2 4@2]']);
  c.drop = () => false;
  c.tick('a', 2);
  t.is(progressOf(c, 'a', 'c').state, 'replicate');
  t.deepEqual(c.appliedData('c'), ['x', 'y']);
});

test('raft-core - reportUnreachable sends a replicating follower back to probe', (t) => {
  const c = new Cluster(['a', 'b']);
  c.elect('a');
  t.is(progressOf(c, 'a', 'b').state, 'replicate');
  c.node('a').reportUnreachable('b');
  t.is(progressOf(c, 'a', 'b').state, 'probe');
  t.is(progressOf(c, 'a', 'b').next, progressOf(c, 'a', 'b').match + 1);
});

test('raft-core - a lost MsgApp in replicate state is repaired by the rejection of the next one', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  let dropped = 0;
  c.drop = (m) => m.to === 'b' && m.type === 'MsgApp' && m.entries.length > 0 && dropped++ === 0;
  c.propose('a', 'lost-on-b');
  c.propose('a', 'next');
  t.true(c.transcript.some((line) => line.startsWith('b->a MsgAppResp') && line.includes('reject')));
  t.deepEqual(c.appliedData('b'), ['lost-on-b', 'next']);
});
