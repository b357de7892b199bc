/**
 * Raft runtime throughput: three RaftNodes (in this process, on loopback gRPC, real WAL with
 * fsync) and a state machine that only counts; `inflight` proposals of `entryBytes` each kept in
 * flight on the leader. Prints proposals per second and fsyncs per second (all nodes).
 *   node --import tsx bench/raft.ts [--seconds 10] [--inflight 256] [--entry-bytes 1024]
 * One process hosts all three nodes, so the figure is a floor for three separate processes.
 */
import * as grpc from '@grpc/grpc-js';
import { SharedPort } from '../raft/transport/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/ports.ts';
import { RaftNode } from '../raft/node.ts';
import type { StateMachine } from '../raft/state-machine.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const seconds = arg('seconds', 10);
const inflight = arg('inflight', 256);
const entryBytes = arg('entry-bytes', 1024);


const counting: () => StateMachine = () => ({
  apply: async (entries) => entries.map(() => undefined),
  snapshot: async () => undefined,
  restore: async () => undefined,
});

const root = mkdtempSync(join(tmpdir(), 'bench-raft-'));
const ids = ['r1', 'r2', 'r3'];
const ports = [await freePort(), await freePort(), await freePort()];
const peers = new Map(ids.map((id, i) => [id, `127.0.0.1:${ports[i]}`]));
const nodes: RaftNode[] = [];
const servers: grpc.Server[] = [];
for (const [i, id] of ids.entries()) {
  const node = new RaftNode({ id, groupId: 'bench', dataDir: join(root, id), initialPeers: peers, stateMachine: counting(), tickMs: 50, electionTicks: 20, snapshotEntries: 1_000_000_000, onFatal: (e) => { throw e; } });
  await node.start();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 32 << 20, 'grpc.max_send_message_length': 32 << 20 });
  node.addToServer(server, await SharedPort.listen(server, '127.0.0.1', ports[i]!));
  nodes.push(node);
  servers.push(server);
}
nodes[0]!.campaign();
const deadlineLeader = Date.now() + 20_000;
while (!nodes.some((n) => n.isLeader())) {
  if (Date.now() > deadlineLeader) throw new Error('no leader');
  await new Promise((r) => setTimeout(r, 20));
}
const leader = nodes.find((n) => n.isLeader())!;
const payload = new Uint8Array(entryBytes).fill(7);
const fsyncs = (): number => nodes.reduce((s, n) => s + (n.status().walStats['fsyncs'] ?? 0), 0);
let done = 0;
let stop = false;
const start = performance.now();
const cpuStart = process.cpuUsage();
const fsyncsBefore = fsyncs();
async function worker(): Promise<void> {
  while (!stop) {
    await leader.propose(payload);
    done++;
  }
}
const timer = setTimeout(() => (stop = true), seconds * 1000);
await Promise.all(Array.from({ length: inflight }, worker));
clearTimeout(timer);
const elapsed = (performance.now() - start) / 1000;
const fsyncCount = fsyncs() - fsyncsBefore;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(`raft: ${done} proposals of ${entryBytes} B in ${elapsed.toFixed(1)} s, ${inflight} in flight: ${(done / elapsed).toFixed(0)} proposals/s, ${(fsyncCount / elapsed).toFixed(0)} fsyncs/s over 3 nodes (${(done / Math.max(1, fsyncCount / 3)).toFixed(1)} entries per fsync per node); ${(done / cpuSeconds).toFixed(0)} proposals per CPU-second (all three nodes share this process: a measure that holds on a loaded machine)`);
for (const n of nodes) await n.stop();
for (const s of servers) s.forceShutdown();
rmSync(root, { recursive: true, force: true });
process.exit(0);
