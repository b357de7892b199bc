/**
 * A read index request the core cannot serve yet (this node knows no leader) is dropped by the
 * core; the runtime hands it over again every few ticks, so the read completes once a leader
 * is known instead of waiting for its whole timeout.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftNode } from '../../raft/node.ts';
import { KvStateMachine } from '../support/kv-state-machine.ts';
import { freePort } from '../support/ports.ts';

test('raft runtime - a read index asked before any leader is known completes once one is elected', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'raft-read-index-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const address = `127.0.0.1:${await freePort()}`;
  const node = new RaftNode({
    id: 'a',
    groupId: 'kv',
    dataDir: dir,
    initialPeers: new Map([['a', address]]),
    join: false,
    stateMachine: new KvStateMachine(),
    tickMs: 20,
    electionTicks: 10,
    onFatal: () => undefined,
  });
  await node.start();
  t.teardown(() => node.stop());
  // Right after start the node is a follower that knows no leader: the core drops the request.
  t.false(node.isLeader());
  t.is(node.status().softState.leader, '');
  const read = node.readIndex(20_000);
  // The node elects itself after its election timeout (no campaign call); the read must follow.
  // (The node's own timers do not hold the process open: this one does until the read ends.)
  const keepAlive = setInterval(() => undefined, 1000);
  const index = await read.finally(() => clearInterval(keepAlive));
  t.true(node.isLeader());
  t.true(index >= 1, `read index ${index}`);
  t.true(node.status().readIndexRetries >= 1, 'the request was handed to the core again');
});
