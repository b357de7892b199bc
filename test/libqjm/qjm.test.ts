/**
 * QuorumJournalManager against the fake QJournal service: format, epochs, recovery of an
 * in-progress segment, reads, routing to the leader.
 */
import test from 'ava';
import {
  AlreadyFormattedError,
  CorruptRecordsError,
  EpochFencedError,
  EditsUnavailableError,
  InternalError,
  NotFormattedError,
  RecoveryError,
} from '../../libqjm/errors.ts';
import { journalErrorWire } from '../../journalnode/protocol/errors.ts';
import { readAttemptsMax, readRetryShrink, type QuorumJournalManager } from '../../libqjm/qjm.ts';
import type { JournalWriter } from '../../libqjm/writer.ts';
import { editText, makeEdits, startFake, testNamespace } from './helpers.ts';

test('qjm - format once; a second format needs force; the state reports the namespace', async (t) => {
  const { manager } = await startFake(t);
  const qjm = manager();
  await t.throwsAsync(qjm.getJournalState(), { instanceOf: NotFormattedError });
  t.false((await qjm.format(testNamespace)).alreadyFormatted);
  t.true((await qjm.format(testNamespace)).alreadyFormatted, 'an identical format of an empty journal is acknowledged');
  const writer = await qjm.openForWrite();
  await writer.startLogSegment(1);
  await writer.write(1, makeEdits(1, 1));
  await t.throwsAsync(qjm.format(testNamespace), { instanceOf: AlreadyFormattedError });
  const state = await qjm.getJournalState();
  t.is(state.namespace?.nsId, testNamespace.nsId);
  t.is(state.lastTxId, 1);
  t.is(state.promisedEpoch, writer.epoch);
});

test('qjm - openForWrite without an epoch takes the promised epoch + 1 and fences the previous writer', async (t) => {
  const { manager } = await startFake(t);
  const qjm = manager();
  await qjm.format(testNamespace);
  const first = await qjm.openForWrite();
  t.is(first.epoch, 1);
  const second = await manager().openForWrite();
  t.is(second.epoch, 2);
  await t.throwsAsync(first.startLogSegment(1), { instanceOf: EpochFencedError });
});

test('qjm - openForWrite with an epoch at or below the promised one is fenced', async (t) => {
  const { manager } = await startFake(t);
  const qjm = manager();
  await qjm.format(testNamespace);
  await qjm.openForWrite({ epoch: 10 });
  const error = await t.throwsAsync(manager().openForWrite({ epoch: 10 }), { instanceOf: EpochFencedError });
  t.is(error.promisedEpoch, 10);
  t.false(error.retryable);
  t.is((await manager().openForWrite({ epoch: 11 })).epoch, 11);
});

test('qjm - a racing writer makes the automatic epoch retry above the promised one', async (t) => {
  const { cluster, manager } = await startFake(t);
  const qjm = manager();
  await qjm.format(testNamespace);
  let raced = false;
  cluster.unaryFault = (method) => {
    if (method !== 'newEpoch' || raced) return undefined;
    raced = true;
    return journalErrorWire('EPOCH_FENCED', 'another writer won', { promisedEpoch: 7 });
  };
  const writer = await qjm.openForWrite();
  t.is(writer.epoch, 8);
});

test('qjm - recovery finalizes the in-progress segment a dead writer left; the new writer continues after it', async (t) => {
  const { cluster, manager } = await startFake(t);
  const qjm = manager();
  await qjm.format(testNamespace);
  const dead = await qjm.openForWrite();
  await dead.startLogSegment(1);
  await dead.write(1, makeEdits(1, 10));
  dead.abort(); // dies without finalizing

  const writer = await manager().openForWrite();
  t.is(writer.lastTxId, 10);
  t.deepEqual(cluster.journals.get('j1')!.segments.map((s) => [s.firstTxId, s.lastTxId, s.inProgress]), [[1, 10, false]]);
  await writer.startLogSegment(11);
  await writer.write(11, makeEdits(11, 5));
  const manifest = await qjm.getEditLogManifest(1);
  t.deepEqual(manifest.segments.map((s) => [s.firstTxId, s.lastTxId, s.inProgress]), [[1, 10, false], [11, 15, true]]);
  t.is(manifest.lastTxId, 15);
});

test('qjm - recovery drops an empty in-progress segment (writer died between segment start and first edit)', async (t) => {
  const { cluster, manager } = await startFake(t);
  const qjm = manager();
  await qjm.format(testNamespace);
  const first = await qjm.openForWrite();
  await first.startLogSegment(1);
  await first.write(1, makeEdits(1, 4));
  await first.finalizeLogSegment(1, 4);
  await first.startLogSegment(5);
  first.abort();

  const writer = await manager().openForWrite();
  t.is(writer.lastTxId, 4);
  t.deepEqual(cluster.journals.get('j1')!.segments.map((s) => [s.firstTxId, s.lastTxId, s.inProgress]), [[1, 4, false]]);
  await writer.startLogSegment(5);
});

test('qjm - a failed recovery is a RecoveryError with the cause', async (t) => {
  const { cluster, manager } = await startFake(t);
  const qjm = manager();
  await qjm.format(testNamespace);
  const dead = await qjm.openForWrite();
  await dead.startLogSegment(1);
  await dead.write(1, makeEdits(1, 2));
  cluster.unaryFault = (method) => (method === 'finalize' ? journalErrorWire('INTERNAL', 'disk on fire') : undefined);
  const error = await t.throwsAsync(manager().openForWrite(), { instanceOf: RecoveryError });
  t.true(error.cause instanceof InternalError);
});

/** Format the journal, open a writer, start a segment at txid 1 and write `count` edits there. */
async function formattedWithEdits(qjm: QuorumJournalManager, count: number): Promise<JournalWriter> {
  await qjm.format(testNamespace);
  const writer = await qjm.openForWrite();
  await writer.startLogSegment(1);
  await writer.write(1, makeEdits(1, count));
  return writer;
}

test('qjm - a read answer damaged on the way is asked for again; one damaged every time fails after readAttemptsMax', async (t) => {
  const { cluster, manager } = await startFake(t);
  const qjm = manager();
  await formattedWithEdits(qjm, 30);
  const calls = (): number => cluster.unaryCalls.get('getJournaledEdits') ?? 0;
  let damaged = 0;
  cluster.damageRead = () => damaged++ < readAttemptsMax - 1;
  const before = calls();
  const page = await qjm.readEdits(1, { maxCount: 30 });
  const expected = Math.max(1, Math.floor(30 / readRetryShrink ** (readAttemptsMax - 1)));
  t.deepEqual(page.records.map((r) => editText(r.data)), Array.from({ length: expected }, (_, i) => `edit-${i + 1}`), 'a smaller page each time');
  t.is(calls() - before, readAttemptsMax, 'damaged twice, read the third time');
  cluster.damageRead = () => true;
  const again = calls();
  await t.throwsAsync(qjm.readEdits(1), { instanceOf: CorruptRecordsError });
  t.is(calls() - again, readAttemptsMax);
});

test('qjm - readEdits honours maxCount and checks the records', async (t) => {
  const { manager } = await startFake(t);
  const qjm = manager();
  await formattedWithEdits(qjm, 30);
  const page = await qjm.readEdits(5, { maxCount: 10 });
  t.deepEqual(page.records.map((r) => r.txid), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  t.is(editText(page.records[0]!.data), 'edit-5');
  t.is(page.lastTxId, 30);
  t.deepEqual((await qjm.readEdits(31)).records, []);
});

test('qjm - operator purge removes finalized segments; reading below them is EditsUnavailable', async (t) => {
  const { manager } = await startFake(t);
  const qjm = manager();
  const writer = await formattedWithEdits(qjm, 10);
  await writer.finalizeLogSegment(1, 10);
  await writer.startLogSegment(11);
  await writer.write(11, makeEdits(11, 10));
  const purged = await qjm.purgeLogsOlderThan(11);
  t.is(purged.purgedSegments, 1);
  t.is(purged.firstTxId, 11);
  const error = await t.throwsAsync(qjm.readEdits(3), { instanceOf: EditsUnavailableError });
  t.is(error.firstAvailableTxId, 11);
  t.is((await qjm.readEdits(11)).records.length, 10);
});

test('qjm - calls follow NOT_LEADER hints to the leader and stay there', async (t) => {
  const { cluster, manager } = await startFake(t, { nodes: 3 });
  cluster.leaderIndex = 2;
  const qjm = manager();
  await qjm.format(testNamespace);
  t.is(qjm.routes.leader, cluster.rpcAddresses[2]);
  const callsBefore = cluster.unaryCalls.get('newEpoch') ?? 0;
  const writer = await qjm.openForWrite();
  t.is((cluster.unaryCalls.get('newEpoch') ?? 0) - callsBefore, 1, 'no detour once the leader is known');
  await writer.startLogSegment(1);
  await writer.write(1, makeEdits(1, 3));
  t.is(cluster.editsOf('j1').length, 3);
});

test('qjm - a dead node is skipped', async (t) => {
  const { cluster, manager } = await startFake(t, { nodes: 3 });
  cluster.leaderIndex = 1;
  cluster.stopNode(0);
  const qjm = manager();
  await qjm.format(testNamespace);
  t.is(qjm.routes.leader, cluster.rpcAddresses[1]);
});

test('qjm - close aborts writers', async (t) => {
  const { cluster, manager } = await startFake(t);
  const qjm = manager();
  await qjm.format(testNamespace);
  const writer = await qjm.openForWrite();
  await writer.startLogSegment(1);
  cluster.holdStream = true;
  const pending = writer.write(1, makeEdits(1, 1));
  qjm.close();
  await t.throwsAsync(pending);
  t.is(writer.state, 'closed');
});

test('qjm - a silent node asked first is hedged (hedgeDelayMs): the call is answered by the leader meanwhile', async (t) => {
  // One attempt may take a third of a 600 s request: without the hedge this test times out.
  t.timeout(60_000);
  const { cluster, manager } = await startFake(t, { nodes: 3 });
  cluster.leaderIndex = 1;
  cluster.paused.add(0); // the first node of the round robin never answers
  const qjm = manager({ requestTimeoutMs: 600_000, hedgeDelayMs: 20 });
  t.false((await qjm.format(testNamespace)).alreadyFormatted);
  t.is((await qjm.getJournalState()).namespace?.nsId, testNamespace.nsId);
  t.throws(() => manager({ hedgeDelayMs: 0 }), { instanceOf: RangeError }, 'the option reaches the route table');
});
