/**
 * The runtime takes snapshots in two steps: the Ready loop waits for the state machine's
 * capture only; the completion, the publish and the log compaction run behind it while entries
 * keep committing. One in-process node with a state machine whose completion waits on a gate.
 */
import test, { type ExecutionContext } from 'ava';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RaftNode } from '../../raft/node.ts';
import type { SnapshotCompletion } from '../../raft/state-machine.ts';
import { KvStateMachine } from '../support/kv-state-machine.ts';
import { scratchNode, singleNode } from '../support/single-node.ts';

const encoder = new TextEncoder();

/** The KV state machine, with a snapshot whose completion waits until `release()`. */
class GatedKv extends KvStateMachine {
  captures: number[] = [];
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  override async snapshot(dir: string): Promise<SnapshotCompletion> {
    // The capture: the state as of now, in memory.
    const content = JSON.stringify({ writes: this.writes, lastIndex: this.lastIndex, data: [...this.data] });
    this.captures.push(this.lastIndex);
    const gate = this.gate;
    return async () => {
      await gate;
      await writeFile(join(dir, 'kv.json'), content);
    };
  }
}

async function poll(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Published snapshots in the node's store. */
async function publishedSnapshots(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'snap'))).filter((name) => name.startsWith('snap-'));
}

/** Restart the stopped node in `dir` with a fresh state machine: it must hold writes k0..k{count-1}. */
async function assertRestartHolds(t: ExecutionContext, dir: string, address: string, count: number): Promise<void> {
  const restarted = new KvStateMachine();
  const again = await startNode(dir, restarted, address);
  t.teardown(() => again.stop());
  await poll('the log replayed', () => restarted.writes === count);
  for (let i = 0; i < count; i++) t.is(restarted.data.get(`k${i}`), `v${i}`);
}

async function startNode(dir: string, sm: KvStateMachine, address: string, onFatal: (error: Error) => void = () => undefined): Promise<RaftNode> {
  const node = singleNode(dir, address, sm, { snapshotEntries: 20, snapshotKeepEntries: 5, onFatal });
  await node.start();
  node.campaign();
  await poll('leadership', () => node.isLeader());
  return node;
}

test('raft runtime - writes commit while a snapshot completes; the published snapshot holds the captured state', async (t) => {
  const { dir, address } = await scratchNode(t, 'raft-bg-snap-');
  const sm = new GatedKv();
  sm.hold();
  const node = await startNode(dir, sm, address);
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await node.stop();
  });

  // Enough writes for a snapshot: it is captured, and its completion waits on the gate.
  for (let i = 0; i < 25; i++) await node.propose(encoder.encode(`k${i}=v${i}`));
  await poll('a capture', () => sm.captures.length === 1);
  const captured = sm.captures[0]!;
  t.true(captured >= 20);

  // While it completes, writes keep committing (the Ready loop does not wait for it), no
  // second snapshot starts, and nothing is published or compacted yet.
  for (let i = 25; i < 80; i++) await node.propose(encoder.encode(`k${i}=v${i}`));
  t.is(sm.writes, 80);
  t.deepEqual(sm.captures, [captured]);
  t.is(node.status().snapshotIndex, 0);

  sm.release();
  await poll('the snapshot published', () => node.status().snapshotIndex === captured);
  // The next threshold crossing captures again.
  for (let i = 80; i < 90; i++) await node.propose(encoder.encode(`k${i}=v${i}`));
  await poll('a second capture', () => sm.captures.length === 2);
  const second = sm.captures[1]!;
  t.true(second > captured);
  await poll('the second snapshot published', () => node.status().snapshotIndex === second);
  stopped = true;
  await node.stop();

  // A restart restores the latest snapshot and replays the rest of the log: nothing lost.
  await assertRestartHolds(t, dir, address, 90);
});

test('raft runtime - a node stopped while its snapshot completes publishes nothing and restarts from its log', async (t) => {
  const { dir, address } = await scratchNode(t, 'raft-bg-snap-');
  const sm = new GatedKv();
  sm.hold();
  const node = await startNode(dir, sm, address);
  for (let i = 0; i < 30; i++) await node.propose(encoder.encode(`k${i}=v${i}`));
  await poll('a capture', () => sm.captures.length === 1);
  const stopping = node.stop();
  sm.release();
  await stopping;
  t.is(node.status().snapshotIndex, 0);
  t.deepEqual(await publishedSnapshots(dir), []);
  await assertRestartHolds(t, dir, address, 30);
});

test('raft runtime - a snapshot whose completion fails stops the node as a storage failure does', async (t) => {
  const { dir, address } = await scratchNode(t, 'raft-bg-snap-');
  class FailingKv extends KvStateMachine {
    override async snapshot(): Promise<SnapshotCompletion> {
      return async () => {
        throw new Error('disk gone');
      };
    }
  }
  let fatal: Error | undefined;
  const node = await startNode(dir, new FailingKv(), address, (error) => {
    fatal = error;
  });
  t.teardown(() => node.stop());
  // Writes until the snapshot (at 20 entries) fails; the ones in flight then may be refused.
  for (let i = 0; i < 25 && fatal === undefined; i++) await node.propose(encoder.encode(`k${i}=v${i}`)).catch(() => undefined);
  await poll('the fatal error', () => fatal !== undefined);
  t.is(fatal?.message, 'disk gone');
  await t.throwsAsync(node.propose(encoder.encode('late=1')), { name: 'NodeStoppedError' });
  t.is(node.status().snapshotIndex, 0);
  // Nothing half-written was published.
  t.deepEqual(await publishedSnapshots(dir), []);
});
