/**
 * Fencing on real JournalNode processes: once NewEpoch(e + 1) is committed, every write at epoch
 * e is refused, including one that was already in flight on a JournalStream.
 */
import test from 'ava';
import { startJournalCluster } from '../support/cluster.ts';
import { waitFor } from '../support/wait.ts';
import { JournalStreamClient, journalRequest, LeaderRouter, namespace, readAllEdits, unary, waitConverged } from './support.ts';

const journalId = 'fenced';

interface ErrorAnswer {
  readonly error?: { code: string; promisedEpoch: number; retryable: boolean } | null;
  readonly success?: object | null;
}

test('journalnode - after newEpoch(e+1) every write at epoch e is refused, also one in flight on a stream', async (t) => {
  // A long election timeout: the followers are paused below, and the leader must keep leading.
  const cluster = await startJournalCluster({ nodes: 3, electionTicks: 60 });
  t.teardown(() => cluster.stop());
  const router = new LeaderRouter(cluster.rpcAddresses);
  t.teardown(() => router.close());

  await router.ok('format', { journalId, namespace });
  await router.ok('newEpoch', { journalId, namespace, epoch: 1 });
  await router.ok('startSegment', { journalId, epoch: 1, txId: 1 });
  const oldWriter = new JournalStreamClient(router.client(router.leader));
  t.teardown(() => oldWriter.cancel());
  const first = await oldWriter.send(journalRequest(journalId, 1, 1, 10));
  t.is(first.success?.lastTxId, 10);

  // Hold the commit: pause both followers, so NewEpoch(2) and then a write at epoch 1 both sit
  // uncommitted in the leader's log, in that order.
  const leader = await cluster.leaderIndex();
  t.is(cluster.rpcAddresses[leader], router.leader);
  const followers = [0, 1, 2].filter((i) => i !== leader);
  const lastIndex = async (): Promise<number> => (await cluster.status(leader)).raft.lastIndex;
  const before = await lastIndex();
  for (const i of followers) cluster.pause(i);
  let resumed = false;
  t.teardown(() => {
    if (!resumed) for (const i of followers) cluster.resume(i);
  });
  const leaderClient = router.client(router.leader);
  const newEpoch = unary<object, ErrorAnswer>(leaderClient, 'newEpoch', { journalId, namespace, epoch: 2 }, 30_000);
  await waitFor(async () => (await lastIndex()) === before + 1, { what: 'newEpoch in the leader log' });
  const inFlight = oldWriter.send(journalRequest(journalId, 1, 11, 10));
  await waitFor(async () => (await lastIndex()) === before + 2, { what: 'the epoch-1 write in the leader log' });
  for (const i of followers) cluster.resume(i);
  resumed = true;

  const promised = await newEpoch;
  t.truthy(promised.success, JSON.stringify(promised.error));
  const refused = await inFlight;
  t.is(refused.error?.code, 'EPOCH_FENCED');
  t.is(refused.error?.promisedEpoch, 2);
  t.false(refused.error?.retryable);

  // Every later write at epoch 1 is refused: journal (stream and unary), finalize, startSegment.
  const again = await oldWriter.send(journalRequest(journalId, 1, 11, 10));
  t.is(again.error?.code, 'EPOCH_FENCED');
  const unaryJournal = await router.call('journal', journalRequest(journalId, 1, 11, 10));
  t.is(unaryJournal.error?.code, 'EPOCH_FENCED');
  const finalize = await router.call('finalize', { journalId, epoch: 1, firstTxId: 1, lastTxId: 10 });
  t.is(finalize.error?.code, 'EPOCH_FENCED');
  const newEpochAgain = await router.call('newEpoch', { journalId, namespace, epoch: 1 });
  t.is(newEpochAgain.error?.code, 'EPOCH_FENCED');

  // The new writer recovers the open segment and continues; the old one stays fenced.
  await router.ok('finalize', { journalId, epoch: 2, firstTxId: 1, lastTxId: 10 });
  await router.ok('startSegment', { journalId, epoch: 2, txId: 11 });
  const newWriter = new JournalStreamClient(router.client(router.leader));
  t.teardown(() => newWriter.cancel());
  t.is((await newWriter.send(journalRequest(journalId, 2, 11, 5))).success?.lastTxId, 15);
  const late = await oldWriter.send(journalRequest(journalId, 1, 16, 5));
  t.is(late.error?.code, 'EPOCH_FENCED');
  const lateStart = await router.call('startSegment', { journalId, epoch: 1, txId: 16 });
  t.is(lateStart.error?.code, 'EPOCH_FENCED');

  // Nothing written under epoch 1 after the fence, on any node.
  await waitConverged(cluster);
  for (const address of cluster.rpcAddresses) {
    const manifest = await unary<object, { success?: { segments: { firstTxId: number; lastTxId: number; epoch: number; inProgress: boolean }[] } }>(
      router.client(address),
      'getEditLogManifest',
      { journalId, sinceTxId: 0 },
    );
    t.deepEqual(
      manifest.success?.segments.map((s) => [s.firstTxId, s.lastTxId, s.epoch, s.inProgress]),
      [
        [1, 10, 1, false],
        [11, 15, 2, true],
      ],
    );
    const records = await readAllEdits(router.client(address), journalId);
    t.deepEqual(records.map((r) => r.txid), Array.from({ length: 15 }, (_, k) => k + 1));
  }
});
