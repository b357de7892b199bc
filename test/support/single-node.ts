/**
 * One in-process RaftNode (a single-member group) for the runtime's tests: a scratch data
 * directory removed after the test, a reserved loopback address, and the node's options.
 */
import type { ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftNode, type RaftNodeOptions } from '../../raft/node.ts';
import type { StateMachine } from '../../raft/state-machine.ts';
import { freePort } from './ports.ts';

/** A data directory (removed after the test) and a reserved loopback address. */
export async function scratchNode(t: ExecutionContext, prefix: string): Promise<{ dir: string; address: string }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return { dir, address: `127.0.0.1:${await freePort()}` };
}

/** A node 'a', alone in group 'kv', ticking every 20 ms; not started. */
export function singleNode(dir: string, address: string, stateMachine: StateMachine, options: Partial<RaftNodeOptions> = {}): RaftNode {
  return new RaftNode({
    id: 'a',
    groupId: 'kv',
    dataDir: dir,
    initialPeers: new Map([['a', address]]),
    join: false,
    stateMachine,
    tickMs: 20,
    electionTicks: 5,
    onFatal: () => undefined,
    ...options,
  });
}
