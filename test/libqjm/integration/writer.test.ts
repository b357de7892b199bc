/**
 * Integration tests on real JournalNode processes.
 * libqjm's writer and recovery against a real 3-node JournalNode group (test/support/cluster.ts):
 * read-back from every node and the HDFS QJM scenarios (writer died between segment start and
 * first edit, missed finalize, one JN down). Serial: one cluster at a time.
 */
import test from 'ava';
import { WebSocket } from 'ws';
import { waitFor } from '../../support/wait.ts';
import { assertLog, edits, namespace, openAndStart, startCluster } from './cluster-handle.ts';

test.serial('qjm integration - pipelined writes are committed and read back in order from every node', async (t) => {
  const { cluster, manager } = await startCluster(t);
  const qjm = manager();
  await qjm.format(namespace);
  const writer = await openAndStart(qjm);
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 50; i += 1) writes.push(writer.write(1 + i * 20, edits(1 + i * 20, 20)));
  await Promise.all(writes);
  await writer.finalizeLogSegment(1, 1000);
  for (const address of cluster.rpcAddresses) {
    const reader = manager({ nodes: [address], httpNodes: [] });
    await waitFor(async () => (await reader.getEditLogManifest(1)).lastTxId === 1000, { what: `${address} caught up` });
    await assertLog(t, reader, 1000);
  }
});

test.serial('qjm integration - HDFS: writer died between segment start and first edit; the empty segment is dropped', async (t) => {
  const { manager } = await startCluster(t);
  const qjm = manager();
  await qjm.format(namespace);
  const first = await openAndStart(qjm);
  await first.write(1, edits(1, 10));
  await first.finalizeLogSegment(1, 10);
  await first.startLogSegment(11);
  first.abort();
  const writer = await manager().openForWrite();
  t.is(writer.lastTxId, 10);
  const manifest = await qjm.getEditLogManifest(1);
  t.deepEqual(manifest.segments.map((s) => [s.firstTxId, s.lastTxId, s.inProgress]), [[1, 10, false]]);
  await writer.startLogSegment(11);
});

test.serial('qjm integration - HDFS: missed finalize; recovery finalizes at the last committed txid', async (t) => {
  const { manager } = await startCluster(t);
  const qjm = manager();
  await qjm.format(namespace);
  const first = await openAndStart(qjm);
  await first.write(1, edits(1, 25));
  first.abort();
  const writer = await manager().openForWrite();
  t.is(writer.lastTxId, 25);
  const manifest = await qjm.getEditLogManifest(1);
  t.deepEqual(manifest.segments.map((s) => [s.firstTxId, s.lastTxId, s.inProgress]), [[1, 25, false]]);
  await writer.startLogSegment(26);
  await writer.write(26, edits(26, 5));
  await assertLog(t, qjm, 30);
});

test.serial('qjm integration - HDFS: one JournalNode down; writes continue and it catches up after restart', async (t) => {
  const { cluster, manager } = await startCluster(t);
  const qjm = manager();
  await qjm.format(namespace);
  const writer = await openAndStart(qjm);
  await writer.write(1, edits(1, 100));
  const leader = qjm.routes.leader;
  const down = cluster.rpcAddresses.findIndex((address) => address !== leader);
  await cluster.kill(down, 'SIGKILL');
  await writer.write(101, edits(101, 100));
  await cluster.restart(down);
  const reader = manager({ nodes: [cluster.rpcAddresses[down]!], httpNodes: [] });
  await waitFor(async () => (await reader.getEditLogManifest(1)).lastTxId === 200, { timeoutMs: 30_000, what: 'restarted node caught up' });
  await assertLog(t, reader, 200);
});


test.serial('qjm integration - a linearizable journal state from any node holds every acknowledged write; followers learn commits with no further writes', async (t) => {
  const { cluster, manager } = await startCluster(t);
  const qjm = manager();
  await qjm.format(namespace);
  const writer = await openAndStart(qjm);
  const perNode = cluster.rpcAddresses.map((address) => manager({ nodes: [address], httpNodes: [] }));
  const writes = 15;
  for (let txid = 1; txid <= writes; txid += 1) {
    await writer.write(txid, edits(txid, 1));
    // Right after the acknowledgement, followers may not know the commit yet: only a
    // linearizable read must already see the write.
    for (const [i, reader] of perNode.entries()) {
      const state = await reader.getJournalState({ linearizable: true });
      t.true(state.lastTxId >= txid, `node ${i} answered lastTxId ${state.lastTxId} after txid ${txid} was acknowledged`);
    }
  }
  // No write follows the last one: the commit must still reach every follower.
  for (const [i, reader] of perNode.entries()) {
    await waitFor(async () => (await reader.getJournalState()).lastTxId === writes, { what: `node ${i} applied txid ${writes}` });
  }
  t.pass();
});

test.serial('qjm integration - right after a format, a JournalNode that has not applied it yet does not answer NOT_FORMATTED', async (t) => {
  const { cluster, manager } = await startCluster(t);
  const leader = await cluster.leaderIndex();
  const lagging = [0, 1, 2].find((i) => i !== leader)!;
  for (let round = 0; round < 3; round += 1) {
    const journalId = `fresh-${round}`;
    // The format commits on the other two while this follower is stopped; it learns of it
    // (append, fsync, answer, commit) only after it resumes, and the reads arrive at once.
    cluster.pause(lagging);
    try {
      await manager({ journalId }).format(namespace);
    } finally {
      cluster.resume(lagging);
    }
    const reader = manager({ journalId, nodes: [cluster.rpcAddresses[lagging]!], httpNodes: [] });
    const [page, manifest, state] = await Promise.all([reader.readEdits(1), reader.getEditLogManifest(0), reader.getJournalState()]);
    t.deepEqual(page.records, [], journalId);
    t.deepEqual(manifest.segments, [], journalId);
    t.is(state.namespace?.nsId, namespace.nsId, journalId);
  }
});

test.serial('qjm integration - right after a format, the WebSocket tail of a JournalNode that has not applied it yet says hello, not NOT_FORMATTED', async (t) => {
  const { cluster, manager } = await startCluster(t);
  const leader = await cluster.leaderIndex();
  const lagging = [0, 1, 2].find((i) => i !== leader)!;
  for (let round = 0; round < 3; round += 1) {
    const journalId = `ws-fresh-${round}`;
    cluster.pause(lagging);
    try {
      await manager({ journalId }).format(namespace);
    } finally {
      cluster.resume(lagging);
    }
    // Subscribe at once: the first text frame is the node's answer (hello, or an error + close).
    const socket = new WebSocket(`ws://${cluster.httpAddresses[lagging]!}/journals/${journalId}/tail?from=1`);
    const binary: Buffer[] = [];
    const first = new Promise<{ type: string; code?: string }>((resolve, reject) => {
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) binary.push(data);
        else resolve(JSON.parse(data.toString('utf8')) as { type: string; code?: string });
      });
      socket.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
      socket.once('error', reject);
    });
    try {
      const answer = await first;
      t.is(answer.type, 'hello', `${journalId}: ${JSON.stringify(answer)}`);
      // And the subscription is live: edits written now arrive on it.
      const writer = await openAndStart(manager({ journalId }));
      await writer.write(1, edits(1, 5));
      await waitFor(() => binary.length > 0, { what: `${journalId}: the first edits on the tail` });
      await writer.close();
    } finally {
      socket.terminate();
    }
  }
});
