import test from 'ava';
import { bytes, Cluster, text } from './harness.ts';

const reads = (c: Cluster, id: string): string[] => c.get(id).readStates.map((rs) => `${text(rs.context)}@${rs.index}`);

test('raft-core - ReadIndex on the leader: answered with the commit index after a heartbeat quorum', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.propose('a', 'x');
  c.transcript = [];
  c.node('a').readIndex(bytes('r1'));
  c.settle();
  t.deepEqual(c.transcript.slice(0, 4), [
    'a->b MsgHeartbeat t2 c3 ctx=r1',
    'a->c MsgHeartbeat t2 c3 ctx=r1',
    'b->a MsgHeartbeatResp t2 ctx=r1',
    'c->a MsgHeartbeatResp t2 ctx=r1',
  ]);
  t.deepEqual(reads(c, 'a'), ['r1@3']);
});

test('raft-core - ReadIndex is not answered without a quorum of acknowledgements', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('a');
  c.node('a').readIndex(bytes('r1'));
  c.settle();
  c.tick('a', 3);
  t.deepEqual(reads(c, 'a'), []);
  c.heal();
  c.tick('a'); // the next heartbeat carries the pending context
  t.deepEqual(reads(c, 'a'), ['r1@2']);
});

test('raft-core - ReadIndex waits until the leader committed an entry of its term', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.drop = (m) => m.type === 'MsgAppResp';
  c.elect('a');
  c.node('a').readIndex(bytes('early'));
  c.settle();
  t.deepEqual(reads(c, 'a'), []);
  c.heal();
  c.tick('a');
  t.deepEqual(reads(c, 'a'), ['early@2']);
});

test('raft-core - ReadIndex on a follower is forwarded and answered with MsgReadIndexResp', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.propose('a', 'x');
  c.transcript = [];
  c.node('b').readIndex(bytes('rb'));
  c.settle();
  t.is(c.transcript[0], 'b->a MsgReadIndex t0 ctx=rb');
  t.true(c.transcript.includes('a->b MsgReadIndexResp t2 i3 ctx=rb'));
  t.deepEqual(reads(c, 'b'), ['rb@3']);
  t.deepEqual(reads(c, 'a'), []);
});

test('raft-core - ReadIndex on a single voter is answered at once', (t) => {
  const c = new Cluster(['a']);
  c.elect('a');
  c.node('a').readIndex(bytes('solo'));
  c.settle();
  t.deepEqual(reads(c, 'a'), ['solo@2']);
  t.deepEqual(c.transcript, []);
});

test('raft-core - several pending reads are all confirmed by the acknowledgement of the latest', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.drop = (m) => m.type === 'MsgHeartbeatResp';
  c.node('a').readIndex(bytes('r1'));
  c.node('a').readIndex(bytes('r2'));
  c.settle();
  c.heal();
  c.tick('a');
  t.deepEqual(reads(c, 'a'), ['r1@2', 'r2@2']);
});
