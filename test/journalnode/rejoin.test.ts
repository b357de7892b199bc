/**
 * A JournalNode whose data directory is wiped rejoins with `--join` and is rebuilt through
 * InstallSnapshot (the leader compacted its log long ago), ending with byte-identical segment
 * files.
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { startJournalCluster } from '../support/cluster.ts';
import { waitFor } from '../support/wait.ts';
import { editData, journalRequest, LeaderRouter, namespace, readAllEdits, segmentDigests, waitConverged } from './support.ts';

const journalId = 'rebuilt';
const editsPerBatch = 200;

test('journalnode - a wiped node restarted with --join is rebuilt by InstallSnapshot with identical segment files', async (t) => {
  // Snapshot every 20 entries and keep only 5 below it: a wiped node can only catch up by snapshot.
  const cluster = await startJournalCluster({ nodes: 3, extraArgs: ['--snapshot-entries', '20', '--snapshot-keep-entries', '5'] });
  t.teardown(() => cluster.stop());
  const router = new LeaderRouter(cluster.rpcAddresses);
  t.teardown(() => router.close());

  await router.ok('format', { journalId, namespace });
  await router.ok('newEpoch', { journalId, namespace, epoch: 1 });
  let next = 1;
  const writeSegment = async (batches: number, finalize: boolean): Promise<void> => {
    const first = next;
    await router.ok('startSegment', { journalId, epoch: 1, txId: first });
    for (let b = 0; b < batches; b++) {
      await router.ok('journal', journalRequest(journalId, 1, next, editsPerBatch));
      next += editsPerBatch;
    }
    if (finalize) await router.ok('finalize', { journalId, epoch: 1, firstTxId: first, lastTxId: next - 1 });
  };
  await writeSegment(15, true);
  await writeSegment(10, false);

  // Wipe a follower, write more (and let the leader snapshot and compact), restart it empty.
  const leader = await cluster.leaderIndex();
  const victim = (leader + 1) % 3;
  await cluster.kill(victim);
  await cluster.wipe(victim);
  for (let b = 0; b < 10; b++) {
    await router.ok('journal', journalRequest(journalId, 1, next, editsPerBatch));
    next += editsPerBatch;
  }
  // Snapshots complete in the background: wait for one past the wiped node's last entry.
  const snapshotIndex = await waitFor(
    async () => {
      const status = await cluster.status(await cluster.leaderIndex());
      return status.raft.snapshotIndex > 20 ? status.raft.snapshotIndex : null;
    },
    { what: 'the leader to publish a snapshot past index 20' },
  );
  t.true(snapshotIndex > 20);
  await cluster.restart(victim, { join: true });

  // More writes while it catches up, then a finalized segment and an open one.
  for (let b = 0; b < 5; b++) {
    await router.ok('journal', journalRequest(journalId, 1, next, editsPerBatch));
    next += editsPerBatch;
  }
  await router.ok('finalize', { journalId, epoch: 1, firstTxId: 15 * editsPerBatch + 1, lastTxId: next - 1 });
  await writeSegment(3, false);
  await waitConverged(cluster, 60_000);

  const rebuilt = await cluster.status(victim);
  t.true(rebuilt.raft.snapshotIndex > 0, 'the wiped node holds a snapshot');
  t.deepEqual(rebuilt.raft.configuration.voters, ['jn1', 'jn2', 'jn3']);
  const log = await readFile(cluster.logPath(victim), 'utf8');
  t.regex(log, /installing snapshot/);

  const lastTxId = next - 1;
  const records = await readAllEdits(router.client(cluster.rpcAddresses[victim]!), journalId);
  t.is(records.length, lastTxId);
  t.true(records.every((r, k) => r.txid === k + 1 && Buffer.from(r.data).equals(editData(k + 1))));

  const digests = await waitFor(async () => {
    const all = await Promise.all(cluster.dataDirs.map((dir) => segmentDigests(dir, journalId)));
    return all[0]!.size === 3 ? all : undefined;
  });
  t.deepEqual(digests[victim], digests[leader]);
  t.deepEqual(digests[(victim + 1) % 3], digests[leader]);
});
