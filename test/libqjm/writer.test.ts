/**
 * The journal writer's client-side logic (pipelining, backpressure, re-sends, timeouts,
 * fencing) against the fake QJournal service (test/libqjm/fake-jn.ts) on real loopback ports.
 */
import test from 'ava';
import { waitFor } from '../support/wait.ts';
import { splitIntoBatches } from '../../libqjm/writer.ts';
import type { JournalWriter } from '../../libqjm/writer.ts';
import {
  EpochFencedError,
  InternalError,
  LeaseExpiredError,
  OutOfOrderError,
  SegmentNotOpenError,
  WriteQueueFullError,
  WriteTimeoutError,
  WriterClosedError,
} from '../../libqjm/errors.ts';
import { batchBytesMax, recordBytesMax, recordHeaderBytes } from '../../journalnode/protocol/limits.ts';
import { editText, makeEdits, startFake, testNamespace } from './helpers.ts';
import type { FakeJournalCluster } from './fake-jn.ts';

/** The txids the fake holds for journal j1, checked to be exactly 1..last with the right data. */
function assertJournalHolds(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, cluster: FakeJournalCluster, last: number): void {
  const edits = cluster.editsOf('j1');
  t.deepEqual(edits.map((edit) => edit.txid), Array.from({ length: last }, (_, i) => i + 1), 'txids 1..last, each once');
  t.deepEqual(edits.map((edit) => editText(edit.data)), Array.from({ length: last }, (_, i) => `edit-${i + 1}`), 'data of every txid');
}

/** No txid was applied (non-duplicate) twice. */
function assertAppliedOnce(t: { is: (a: unknown, b: unknown, m?: string) => void }, cluster: FakeJournalCluster): void {
  const seen = new Set<number>();
  let twice = 0;
  for (const batch of cluster.applied) {
    if (batch.duplicate) continue;
    for (let txid = batch.firstTxId; txid < batch.firstTxId + batch.count; txid += 1) {
      if (seen.has(txid)) twice += 1;
      seen.add(txid);
    }
  }
  t.is(twice, 0, 'no txid applied twice');
}

async function openWriter(qjm: ReturnType<Awaited<ReturnType<typeof startFake>>['manager']>): Promise<JournalWriter> {
  await qjm.format(testNamespace);
  const writer = await qjm.openForWrite();
  await writer.startLogSegment(writer.lastTxId + 1);
  return writer;
}

test('writer - splitIntoBatches keeps every slice within the byte and record limits', (t) => {
  const records = [10, 10, 10, 50, 10, 10].map((size) => new Uint8Array(size));
  const slices = splitIntoBatches(records, { bytesMax: 80, recordsMax: 2 });
  t.deepEqual(slices.map((slice) => [slice.start, slice.end]), [[0, 2], [2, 3], [3, 4], [4, 6]]);
  for (const slice of slices) t.true(slice.bytes <= 80);
  t.is(slices.reduce((sum, slice) => sum + slice.bytes, 0), records.reduce((sum, record) => sum + recordHeaderBytes + record.byteLength, 0));
  t.throws(() => splitIntoBatches([new Uint8Array(100)], { bytesMax: 80, recordsMax: 2 }), { instanceOf: RangeError });
});

test('writer - writes resolve once committed, in txid order, and the journal holds exactly them', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager());
  const resolved: number[] = [];
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 20; i += 1) {
    const first = 1 + i * 5;
    writes.push(writer.write(first, makeEdits(first, 5)).then(() => void resolved.push(first)));
  }
  await Promise.all(writes);
  t.deepEqual(resolved, Array.from({ length: 20 }, (_, i) => 1 + i * 5));
  t.is(writer.lastTxId, 100);
  assertJournalHolds(t, cluster, 100);
  assertAppliedOnce(t, cluster);
  t.is(writer.queuedBytes, 0);
});

test('writer - pipelines up to inflightBatchesMax batches on one stream, then coalesces the rest', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager({ inflightBatchesMax: 4, partialBatchInflightMax: 4 }));
  cluster.holdStream = true;
  const writes = Array.from({ length: 12 }, (_, i) => writer.write(i + 1, makeEdits(i + 1, 1)));
  await waitFor(() => cluster.heldCount === 4, { what: '4 batches held at the server' });
  t.is(writer.inflightBatches, 4);
  t.is(cluster.streamRequests, 4, 'nothing beyond the in-flight limit was sent');
  cluster.holdStream = false;
  cluster.releaseHeld();
  await Promise.all(writes);
  t.is(cluster.maxUnanswered, 4);
  t.true(cluster.applied.length < 12, `pending writes were coalesced (${cluster.applied.length} batches)`);
  assertJournalHolds(t, cluster, 12);
});

test('writer - a partial batch waits for an acknowledgement and then carries everything written meanwhile', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager({ inflightBatchesMax: 16 }));
  cluster.holdStream = true;
  const writes = Array.from({ length: 12 }, (_, i) => writer.write(i + 1, makeEdits(i + 1, 1)));
  await waitFor(() => cluster.heldCount === 1, { what: 'the first batch held at the server' });
  // Every write was admitted (write() admits at once): the other 11 are pending behind the one
  // partial batch in flight.
  const framedBytes = Array.from({ length: 12 }, (_, i) => recordHeaderBytes + `edit-${i + 1}`.length).reduce((a, b) => a + b, 0);
  t.is(writer.queuedBytes, framedBytes);
  t.is(writer.inflightBatches, 1, 'a partial batch is not pipelined behind another');
  t.is(cluster.streamRequests, 1);
  cluster.holdStream = false;
  cluster.releaseHeld();
  await Promise.all(writes);
  t.deepEqual(
    cluster.applied.map((b) => b.count),
    [1, 11],
    'the second batch carried every write made while the first was in flight',
  );
  assertJournalHolds(t, cluster, 12);
});

test('writer - full batches are pipelined without waiting for acknowledgements', async (t) => {
  const { cluster, manager } = await startFake(t);
  const recordBytes = 64 * 1024;
  const writer = await openWriter(manager({ inflightBatchesMax: 4, fullBatchBytes: recordHeaderBytes + recordBytes }));
  cluster.holdStream = true;
  const writes = Array.from({ length: 6 }, (_, i) => writer.write(i + 1, makeEdits(i + 1, 1, recordBytes)));
  await waitFor(() => cluster.heldCount === 4, { what: '4 full batches held at the server' });
  t.is(writer.inflightBatches, 4);
  t.is(cluster.streamRequests, 4, 'full batches fill the in-flight slots, and no more');
  cluster.holdStream = false;
  cluster.releaseHeld();
  await Promise.all(writes);
  assertJournalHolds(t, cluster, 6);
});

test('writer - backpressure: write() waits while queueBytesMax bytes are unacknowledged', async (t) => {
  const { cluster, manager } = await startFake(t);
  const queueBytesMax = recordHeaderBytes + recordBytesMax;
  const recordBytes = 256 * 1024;
  const writer = await openWriter(manager({ queueBytesMax, inflightBatchesMax: 16 }));
  const fit = Math.floor(queueBytesMax / (recordHeaderBytes + recordBytes));
  cluster.holdStream = true;
  const done = new Set<number>();
  const writes = Array.from({ length: 8 }, (_, i) => writer.write(i + 1, makeEdits(i + 1, 1, recordBytes)).then(() => void done.add(i + 1)));
  await waitFor(() => cluster.heldCount === fit, { what: `${fit} batches at the server` });
  t.true(writer.queuedBytes <= queueBytesMax);
  t.is(cluster.streamRequests, fit, 'writes beyond the queue limit were not sent');
  t.is(done.size, 0);
  while (done.size < 8) {
    t.true(writer.queuedBytes <= queueBytesMax, 'the queue never exceeds its limit');
    cluster.releaseHeld();
    const before = done.size;
    await waitFor(() => done.size > before || cluster.heldCount > 0, { what: 'progress' });
  }
  await Promise.all(writes);
  assertJournalHolds(t, cluster, 8);
});

test('writer - a leader change mid-stream re-sends the unacknowledged batches in order; each edit is applied once', async (t) => {
  const { cluster, manager } = await startFake(t, { nodes: 3 });
  const qjm = manager({ inflightBatchesMax: 8 });
  const writer = await openWriter(qjm);
  let injected = false;
  cluster.streamFault = (request) => {
    if (!injected && request.firstTxId + request.count - 1 >= 20) {
      injected = true;
      return 'apply-then-not-leader';
    }
    return 'normal';
  };
  const writes = Array.from({ length: 40 }, (_, i) => writer.write(i + 1, makeEdits(i + 1, 1)));
  await Promise.all(writes);
  t.true(injected);
  t.is(cluster.leaderIndex, 1);
  t.is(qjm.routes.leader, cluster.rpcAddresses[1]);
  t.true(cluster.applied.some((batch) => batch.duplicate), 'the batch applied before the leader change was acknowledged as a duplicate');
  assertAppliedOnce(t, cluster);
  assertJournalHolds(t, cluster, 40);
});

test('writer - a stream broken after commit: the re-sent batch is acknowledged as a duplicate', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager());
  let breaks = 0;
  cluster.streamFault = (request) => (request.firstTxId === 11 && breaks++ === 0 ? 'apply-then-break' : 'normal');
  await writer.write(1, makeEdits(1, 10));
  await Promise.all([writer.write(11, makeEdits(11, 5)), writer.write(16, makeEdits(16, 5))]);
  t.is(breaks, 2, 'the batch was sent twice');
  t.true(cluster.applied.some((batch) => batch.duplicate && batch.firstTxId === 11));
  assertAppliedOnce(t, cluster);
  assertJournalHolds(t, cluster, 20);
  t.is(writer.state, 'open');
});

test('writer - a re-sent batch answered OUT_OF_ORDER past its txids is counted as committed', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager());
  cluster.forgetRetries = true;
  let breaks = 0;
  cluster.streamFault = (request) => (request.firstTxId === 1 && breaks++ === 0 ? 'apply-then-break' : 'normal');
  await writer.write(1, makeEdits(1, 10));
  await writer.write(11, makeEdits(11, 10));
  assertJournalHolds(t, cluster, 20);
  assertAppliedOnce(t, cluster);
});

test('writer - a node going down moves the stream to the leader; nothing is lost or doubled', async (t) => {
  const { cluster, manager } = await startFake(t, { nodes: 3 });
  const writer = await openWriter(manager());
  await writer.write(1, makeEdits(1, 10));
  cluster.holdStream = true;
  const pending = [writer.write(11, makeEdits(11, 5)), writer.write(16, makeEdits(16, 5))];
  await waitFor(() => cluster.heldCount > 0, { what: 'batches held' });
  cluster.leaderIndex = 2;
  cluster.stopNode(0);
  cluster.holdStream = false;
  cluster.releaseHeld(); // answers on the dead stream go nowhere
  await Promise.all(pending);
  await writer.write(21, makeEdits(21, 5));
  assertJournalHolds(t, cluster, 25);
  assertAppliedOnce(t, cluster);
});

test('writer - a stalled stream (paused leader) is dropped and its batches re-sent to the new leader', async (t) => {
  const { cluster, manager } = await startFake(t, { nodes: 3 });
  const writer = await openWriter(manager({ streamStallTimeoutMs: 200, writeTimeoutMs: 20_000 }));
  await writer.write(1, makeEdits(1, 5));
  cluster.paused.add(0);
  cluster.leaderIndex = 1;
  await Promise.all([writer.write(6, makeEdits(6, 5)), writer.write(11, makeEdits(11, 5))]);
  assertJournalHolds(t, cluster, 15);
  assertAppliedOnce(t, cluster);
});

test('writer - a write not acknowledged within writeTimeoutMs fails the writer; nothing reports success', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager({ writeTimeoutMs: 500 }));
  cluster.streamFault = () => 'swallow';
  const first = writer.write(1, makeEdits(1, 3));
  const second = writer.write(4, makeEdits(4, 3));
  const error = await t.throwsAsync(first, { instanceOf: WriteTimeoutError });
  t.is(error.firstTxId, 1);
  await t.throwsAsync(second, { instanceOf: WriteTimeoutError });
  t.is(writer.state, 'failed');
  const later = await t.throwsAsync(writer.write(7, makeEdits(7, 1)), { instanceOf: WriterClosedError });
  t.true(later.cause instanceof WriteTimeoutError);
  t.deepEqual(await writer.ended, { state: 'failed', error });
  t.is(writer.lastTxId, 0, 'only acknowledged txids count as written');
  t.is(cluster.editsOf('j1').length, 0);
});

test('writer - EPOCH_FENCED ends the writer: pending and later calls reject with EpochFencedError', async (t) => {
  const { cluster, manager } = await startFake(t);
  const qjm = manager();
  const writer = await openWriter(qjm);
  await writer.write(1, makeEdits(1, 10));
  cluster.holdStream = true;
  const pending = [writer.write(11, makeEdits(11, 5)), writer.write(16, makeEdits(16, 5))];
  await waitFor(() => cluster.heldCount > 0, { what: 'batches held' });
  // A new writer takes over (higher epoch) while the old one's batches are in flight.
  const successor = await manager().openForWrite();
  t.is(successor.epoch, writer.epoch + 1);
  t.is(successor.lastTxId, 10);
  cluster.holdStream = false;
  cluster.releaseHeld();
  for (const write of pending) await t.throwsAsync(write, { instanceOf: EpochFencedError });
  t.is(writer.state, 'fenced');
  await t.throwsAsync(writer.write(21, makeEdits(21, 1)), { instanceOf: EpochFencedError });
  await t.throwsAsync(writer.finalizeLogSegment(1, 20), { instanceOf: EpochFencedError });
  t.is((await writer.ended).state, 'fenced');
  assertJournalHolds(t, cluster, 10);
});

test('writer - a fenced unary call (startLogSegment) fences the writer too', async (t) => {
  const { manager } = await startFake(t);
  const qjm = manager();
  await qjm.format(testNamespace);
  const writer = await qjm.openForWrite();
  await manager().openForWrite();
  await t.throwsAsync(writer.startLogSegment(1), { instanceOf: EpochFencedError });
  t.is(writer.state, 'fenced');
  await t.throwsAsync(writer.write(1, makeEdits(1, 1)), { instanceOf: EpochFencedError });
});

test('writer - LEASE_EXPIRED fences the writer like EPOCH_FENCED', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager());
  cluster.streamFault = () => 'lease-expired';
  const error = await t.throwsAsync(writer.write(1, makeEdits(1, 2)), { instanceOf: EpochFencedError });
  t.true(error.cause instanceof LeaseExpiredError);
  t.is(writer.state, 'fenced');
  await t.throwsAsync(writer.write(3, makeEdits(3, 1)), { instanceOf: EpochFencedError });
});

test('writer - a non-retryable answer fails the writer with that error', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager());
  cluster.streamFault = () => 'internal-error';
  await t.throwsAsync(writer.write(1, makeEdits(1, 2)), { instanceOf: InternalError });
  t.is(writer.state, 'failed');
  t.is(cluster.editsOf('j1').length, 0);
});

test('writer - calls out of order are rejected without ending the writer', async (t) => {
  const { manager } = await startFake(t);
  const qjm = manager();
  await qjm.format(testNamespace);
  const writer = await qjm.openForWrite();
  await t.throwsAsync(writer.write(1, makeEdits(1, 1)), { instanceOf: SegmentNotOpenError });
  await t.throwsAsync(writer.startLogSegment(5), { instanceOf: OutOfOrderError });
  await writer.startLogSegment(1);
  await t.throwsAsync(writer.write(2, makeEdits(2, 1)), { instanceOf: OutOfOrderError });
  await t.throwsAsync(writer.finalizeLogSegment(1, 7), { instanceOf: OutOfOrderError });
  await writer.write(1, makeEdits(1, 1));
  t.is(writer.state, 'open');
});

test('writer - more than pendingWritesMax unacknowledged writes are refused', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager({ pendingWritesMax: 2 }));
  cluster.holdStream = true;
  const writes = [writer.write(1, makeEdits(1, 1)), writer.write(2, makeEdits(2, 1))];
  await t.throwsAsync(writer.write(3, makeEdits(3, 1)), { instanceOf: WriteQueueFullError });
  cluster.holdStream = false;
  cluster.releaseHeld();
  await Promise.all(writes);
  await writer.write(3, makeEdits(3, 1));
});

test('writer - a write above the batch limit is split into several batches', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager());
  const size = 3 * 1024 * 1024 - 64;
  await writer.write(1, makeEdits(1, 5, Math.min(size, recordBytesMax)));
  await writer.write(6, makeEdits(6, 40, 512 * 1024));
  t.true(cluster.applied.length >= 3);
  assertJournalHolds(t, cluster, 45);
  t.true(batchBytesMax >= 8 * 1024 * 1024);
});

test('writer - finalize waits for pending writes, then a new segment continues at the next txid', async (t) => {
  const { manager } = await startFake(t);
  const qjm = manager();
  const writer = await openWriter(qjm);
  const write = writer.write(1, makeEdits(1, 10));
  const finalized = await writer.finalizeLogSegment(1, 10);
  await write;
  t.is(finalized.segment?.lastTxId, 10);
  t.is(writer.openSegmentFirstTxId, undefined);
  await writer.startLogSegment(11);
  await writer.write(11, makeEdits(11, 2));
  const manifest = await qjm.getEditLogManifest(1);
  t.deepEqual(
    manifest.segments.map((segment) => [segment.firstTxId, segment.lastTxId, segment.inProgress]),
    [
      [1, 10, false],
      [11, 12, true],
    ],
  );
  await writer.close();
  t.is(writer.state, 'closed');
  await t.throwsAsync(writer.write(13, makeEdits(13, 1)), { instanceOf: WriterClosedError });
});

test('writer - abort rejects pending writes with WriterClosedError at once', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager());
  cluster.holdStream = true;
  const pending = writer.write(1, makeEdits(1, 3));
  writer.abort();
  await t.throwsAsync(pending, { instanceOf: WriterClosedError });
  t.is((await writer.ended).state, 'closed');
});

test('writer - CORRUPT_RECORDS for a batch whose bytes still match their checksum: damaged on the way, sent again', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager());
  let damaged = 0;
  cluster.streamFault = (request) => (request.firstTxId === 1 && damaged++ < 2 ? 'corrupt-records' : 'normal');
  await writer.write(1, makeEdits(1, 5));
  await writer.write(6, makeEdits(6, 5));
  t.is(damaged, 3, 'refused twice, applied the third time');
  assertJournalHolds(t, cluster, 10);
  assertAppliedOnce(t, cluster);
  t.is(writer.state, 'open');
});

test('writer - batches are framed into the memory of acknowledged ones, and every edit arrives as written', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager());
  // Batches of 100 edits of 1 KiB (over the pool's 64 KiB minimum): pipelined, then one at a time.
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) writes.push(writer.write(1 + i * 100, makeEdits(1 + i * 100, 100, 1024)));
  await Promise.all(writes);
  for (let i = 20; i < 40; i++) await writer.write(1 + i * 100, makeEdits(1 + i * 100, 100, 1024));
  assertJournalHolds(t, cluster, 4000);
  assertAppliedOnce(t, cluster);
  t.true(writer.framingBuffersReused >= 20, `${writer.framingBuffersReused} batches framed into reused memory`);
});

test('writer - a path that keeps damaging a batch ends in a write timeout, not a loop', async (t) => {
  const { cluster, manager } = await startFake(t);
  const writer = await openWriter(manager({ writeTimeoutMs: 500 }));
  cluster.streamFault = () => 'corrupt-records';
  await t.throwsAsync(writer.write(1, makeEdits(1, 3)), { instanceOf: WriteTimeoutError });
  t.is(writer.state, 'failed');
  t.is(cluster.editsOf('j1').length, 0);
});
