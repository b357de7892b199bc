/**
 * 100,000 edits through three real JournalNode processes, with the leader SIGKILLed mid-stream
 * and restarted; then every acknowledged edit is read back once, in order, from every node,
 * and the segment files are compared byte for byte.
 */
import test from 'ava';
import { startJournalCluster } from '../support/cluster.ts';
import type { JournalResponse__Output } from '../../journalnode/protocol/generated/qjournal/v1/JournalResponse.ts';
import { editData, JournalStreamClient, journalRequest, LeaderRouter, namespace, qjournalClient, readAllEdits, segmentDigests, waitConverged } from './support.ts';

const journalId = 'edits';
const editsPerBatch = 1000;
const batches = 100;
const batchesPerSegment = 25;
const editBytes = 100;
/** Batches in flight on the stream. */
const window = 16;
/** The leader is killed once this many batches are acknowledged, restarted at the second mark. */
const killAfterBatches = 40;
const restartAfterBatches = 65;

test('journalnode - 100k edits survive a leader SIGKILL, read back once in order from every node, identical segment files', async (t) => {
  const cluster = await startJournalCluster({ nodes: 3 });
  t.teardown(() => cluster.stop());
  const router = new LeaderRouter(cluster.rpcAddresses);
  t.teardown(() => router.close());

  await router.ok('format', { journalId, namespace });
  const epoch = 1;
  await router.ok('newEpoch', { journalId, namespace, epoch, writerId: 'writer-1' });

  const firstTxIdOf = (batch: number): number => 1 + batch * editsPerBatch;
  const acked = new Map<number, JournalResponse__Output>();
  let firstUnacked = 0;
  let killed: number | undefined;
  let killing: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  let retriedDuplicates = 0;
  let streamsOpened = 0;
  const started = performance.now();
  let beforeKillMs = 0;

  const onAck = (): void => {
    if (killed === undefined && firstUnacked >= killAfterBatches) {
      killed = cluster.rpcAddresses.indexOf(router.leader);
      beforeKillMs = performance.now() - started;
      t.log(`SIGKILL leader ${cluster.ids[killed]} after ${firstUnacked} batches`);
      killing = cluster.kill(killed);
    }
    if (killed !== undefined && restarting === undefined && firstUnacked >= restartAfterBatches) {
      t.log(`restarting ${cluster.ids[killed]} after ${firstUnacked} batches`);
      restarting = killing!.then(() => cluster.restart(killed!));
    }
  };

  /** Write batches [from, to) pipelined on a stream, failing over to the new leader. */
  const writeBatches = async (from: number, to: number): Promise<void> => {
    while (firstUnacked < to) {
      const stream = new JournalStreamClient(router.client(router.leader));
      streamsOpened += 1;
      let nextToSend = firstUnacked;
      const outcome = await new Promise<'done' | 'retry'>((resolve, reject) => {
        let over = false;
        const pump = (): void => {
          while (!over && nextToSend < to && nextToSend - firstUnacked < window) {
            const batch = nextToSend++;
            stream.send(journalRequest(journalId, epoch, firstTxIdOf(batch), editsPerBatch, editBytes)).then(
              (response) => {
                if (over) return;
                if (response.success) {
                  if (batch !== firstUnacked) {
                    over = true;
                    reject(new Error(`answer for batch ${batch} while ${firstUnacked} is unanswered`));
                    return;
                  }
                  if (response.success.duplicate) retriedDuplicates += 1;
                  if (acked.has(batch)) throw new Error(`batch ${batch} acknowledged twice`);
                  acked.set(batch, response);
                  firstUnacked += 1;
                  onAck();
                  if (firstUnacked >= to) {
                    over = true;
                    resolve('done');
                  } else pump();
                  return;
                }
                over = true;
                const error = response.error!;
                if (error.code === 'NOT_LEADER' || error.code === 'UNAVAILABLE') {
                  router.leader = error.leaderHint !== '' ? error.leaderHint : cluster.rpcAddresses[(cluster.rpcAddresses.indexOf(router.leader) + 1) % 3]!;
                  resolve('retry');
                } else {
                  reject(new Error(`batch ${batch}: ${error.code} ${error.message}`));
                }
              },
              () => {
                // The stream broke (the node died): try the next node.
                if (over) return;
                over = true;
                router.leader = cluster.rpcAddresses[(cluster.rpcAddresses.indexOf(router.leader) + 1) % 3]!;
                resolve('retry');
              },
            );
          }
        };
        pump();
      });
      stream.cancel();
      if (outcome === 'retry') await new Promise((r) => setTimeout(r, 50));
    }
  };

  for (let segment = 0; segment < batches / batchesPerSegment; segment++) {
    const first = segment * batchesPerSegment;
    const started = await router.ok<{ duplicate: boolean }>('startSegment', { journalId, epoch, txId: firstTxIdOf(first) });
    t.false(started.duplicate && segment === 0);
    await writeBatches(first, first + batchesPerSegment);
    const lastTxId = firstTxIdOf(first + batchesPerSegment) - 1;
    const finalized = await router.ok<{ segment: { lastTxId: number } }>('finalize', { journalId, epoch, firstTxId: firstTxIdOf(first), lastTxId });
    t.is(finalized.segment.lastTxId, lastTxId);
  }
  const writeMs = performance.now() - started;
  const edits = batches * editsPerBatch;
  t.log(`${edits} edits in ${Math.round(writeMs)} ms: ${Math.round(edits / (writeMs / 1000))} edits/s overall; ` +
    `${Math.round((killAfterBatches * editsPerBatch) / (beforeKillMs / 1000))} edits/s before the kill; ` +
    `${streamsOpened} streams, ${retriedDuplicates} retried batches acknowledged as duplicates`);
  t.not(killed, undefined);
  t.is(acked.size, batches);

  // An exact retry of an acknowledged batch is acknowledged again as a duplicate, not re-applied.
  const stream = new JournalStreamClient(router.client(router.leader));
  const retry = await stream.send(journalRequest(journalId, epoch, firstTxIdOf(batches - 1), editsPerBatch, editBytes));
  stream.end();
  t.true(retry.success?.duplicate);
  t.is(retry.success?.lastTxId, edits);

  await restarting;
  await waitConverged(cluster, 60_000);

  // Every acknowledged edit, once, in order, from every node.
  for (let i = 0; i < 3; i++) {
    // A client with its own connection: the router's connection to the node that was killed
    // may still be in grpc-js's reconnect backoff, and a client sharing it would fail at once.
    const reader = qjournalClient(cluster.rpcAddresses[i]!, { ownConnection: true });
    t.teardown(() => reader.close());
    const records = await readAllEdits(reader, journalId);
    t.is(records.length, edits, `${cluster.ids[i]} holds every edit`);
    let ok = true;
    records.forEach((record, k) => {
      if (record.txid !== k + 1 || !Buffer.from(record.data).equals(editData(k + 1, editBytes))) ok = false;
    });
    t.true(ok, `${cluster.ids[i]}: edits in order with their data`);
  }

  // Byte-identical segment files.
  const digests = await Promise.all(cluster.dataDirs.map((dir) => segmentDigests(dir, journalId)));
  t.deepEqual([...digests[0]!.keys()], [
    'edits_0000000000000000001-0000000000000025000',
    'edits_0000000000000025001-0000000000000050000',
    'edits_0000000000000050001-0000000000000075000',
    'edits_0000000000000075001-0000000000000100000',
  ]);
  t.deepEqual(digests[1], digests[0]);
  t.deepEqual(digests[2], digests[0]);
});
