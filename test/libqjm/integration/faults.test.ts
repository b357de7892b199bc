/**
 * Integration tests on real JournalNode processes.
 * Faults under a writer on a real 3-node JournalNode group: the leader JN killed or paused
 * mid-stream, and the writer process itself killed mid-batch. Serial: one cluster at a time.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../support/wait.ts';
import { assertLog, edits, namespace, openAndStart, startCluster } from './cluster-handle.ts';

test.serial('qjm integration - the leader JournalNode killed mid-stream: every acknowledged edit is present once', async (t) => {
  const { cluster, manager } = await startCluster(t);
  const qjm = manager();
  await qjm.format(namespace);
  const writer = await openAndStart(qjm);
  await writer.write(1, edits(1, 10));
  const leaderIndex = cluster.rpcAddresses.indexOf(qjm.routes.leader!);
  t.true(leaderIndex >= 0);
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 40; i += 1) {
    writes.push(writer.write(11 + i * 10, edits(11 + i * 10, 10)));
    if (i === 10) await cluster.kill(leaderIndex, 'SIGKILL');
  }
  await Promise.all(writes);
  t.not(qjm.routes.leader, cluster.rpcAddresses[leaderIndex]);
  await assertLog(t, qjm, 410);
});

test.serial('qjm integration - a paused leader: writes resume on the new leader without loss or duplicates', async (t) => {
  const { cluster, manager } = await startCluster(t);
  const qjm = manager({ writeTimeoutMs: 30_000 });
  await qjm.format(namespace);
  const writer = await openAndStart(qjm);
  await writer.write(1, edits(1, 10));
  const leaderIndex = cluster.rpcAddresses.indexOf(qjm.routes.leader!);
  await cluster.pause(leaderIndex);
  await Promise.all([writer.write(11, edits(11, 10)), writer.write(21, edits(21, 10))]);
  await cluster.resume(leaderIndex);
  await assertLog(t, qjm, 30);
});

test.serial('qjm integration - a writer process killed mid-batch: recovery keeps every acknowledged edit and continues after it', async (t) => {
  const { cluster, manager } = await startCluster(t);
  const qjm = manager();
  await qjm.format(namespace);
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./writer-child.ts', import.meta.url)), 'it', cluster.rpcAddresses.join(',')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acked = 0;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) {
      const match = /^acked (\d+)$/.exec(line);
      if (match !== null) acked = Math.max(acked, Number(match[1]));
    }
  });
  await waitFor(() => acked >= 2000, { timeoutMs: 30_000, what: 'the child acknowledged 2000 edits' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  const writer = await manager().openForWrite();
  t.true(writer.lastTxId >= acked, `recovered ${writer.lastTxId} >= acknowledged ${acked}`);
  await assertLog(t, qjm, writer.lastTxId);
  await writer.startLogSegment(writer.lastTxId + 1);
  await writer.write(writer.lastTxId + 1, edits(writer.lastTxId + 1, 1));
});

