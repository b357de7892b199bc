/**
 * A read index request the core cannot serve yet (this node knows no leader) is dropped by the
 * core; the runtime hands it over again every few ticks, so the read completes once a leader
 * is known instead of waiting for its whole timeout.
 */
import test from 'ava';
import { KvStateMachine } from '../support/kv-state-machine.ts';
import { scratchNode, singleNode } from '../support/single-node.ts';

test('raft runtime - a read index asked before any leader is known completes once one is elected', async (t) => {
  const { dir, address } = await scratchNode(t, 'raft-read-index-');
  const node = singleNode(dir, address, new KvStateMachine(), { electionTicks: 10 });
  await node.start();
  t.teardown(() => node.stop());
  // Right after start the node is a follower that knows no leader: the core drops the request.
  t.false(node.isLeader());
  t.is(node.status().softState.leader, '');
  const read = node.readIndex(20_000);
  // The node elects itself after its election timeout (no campaign call); the read must follow.
  // (A pending read holds the process open until it settles: nothing else is pending here.)
  const index = await read;
  t.true(node.isLeader());
  t.true(index >= 1, `read index ${index}`);
  t.true(node.status().readIndexRetries >= 1, 'the request was handed to the core again');
});
