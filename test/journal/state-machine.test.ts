import test from 'ava';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import type { AppliedEvent } from '../../journalnode/journal-state-machine.ts';
import { recentBatchesMax } from '../../journalnode/journal-state-machine.ts';
import type { Command } from '../../journalnode/journal-commands.ts';
import { finalizedFileName, inProgressFileName, journalCurrentDir } from '../../journalnode/segments.ts';
import { frameRecords, parseRecords } from '../../journalnode/protocol/records.ts';
import { batchBytesMax, batchRecordsMax, recordHeaderBytes } from '../../journalnode/protocol/limits.ts';
import { codeOf, editsFor, journalCommand, newMachine, ns, readTree } from './helpers.ts';

const J = 'jn-1';

const format = (journalId = J, force = false): Command => ({ type: 'format', journalId, namespace: ns, force });
const newEpoch = (epoch: number, writerId = '', journalId = J): Command => ({ type: 'newEpoch', journalId, namespace: ns, epoch, writerId });
const start = (epoch: number, txId: number, journalId = J): Command => ({ type: 'startSegment', journalId, epoch, txId });
const finalize = (epoch: number, firstTxId: number, lastTxId: number, journalId = J): Command => ({ type: 'finalize', journalId, epoch, firstTxId, lastTxId });

test('journal state machine - format, newEpoch, startSegment, journal and finalize write HDFS-named segment files', async (t) => {
  const { dir, machine, feed } = await newMachine(t);
  const results = await feed.apply(format(), newEpoch(1), start(1, 1), journalCommand(J, 1, 1, 3), journalCommand(J, 1, 4, 2), finalize(1, 1, 5));
  t.true(results.every((r) => r.ok), JSON.stringify(results));
  t.like(results[1], { ok: true, lastSegment: null, lastTxId: 0, promisedEpoch: 1 });
  t.like(results[2], { ok: true, duplicate: false, segment: { firstTxId: 1, lastTxId: 0, inProgress: true, epoch: 1, sizeBytes: 0 } });
  t.like(results[3], { ok: true, firstTxId: 1, count: 3, lastTxId: 3, duplicate: false });
  t.like(results[5], { ok: true, dropped: false, alreadyFinalized: false, segment: { firstTxId: 1, lastTxId: 5, inProgress: false } });
  const current = journalCurrentDir(dir, J);
  t.deepEqual(await readdir(current), [finalizedFileName(1, 5)]);
  const bytes = await readFile(join(current, finalizedFileName(1, 5)));
  t.true(bytes.equals(Buffer.concat([frameRecords(1, editsFor(1, 3)), frameRecords(4, editsFor(4, 2))])));
  t.deepEqual(parseRecords(bytes).map((r) => r.txid), [1, 2, 3, 4, 5]);
  t.like(machine.getJournalState(J), { ok: true, promisedEpoch: 1, writerEpoch: 1, lastTxId: 5, firstTxId: 1, openSegment: null, appliedIndex: 6 });
  t.deepEqual(machine.listJournals(), [J]);
});

test('journal state machine - format refuses an existing journal unless forced, validates id and namespace', async (t) => {
  const { dir, feed } = await newMachine(t);
  t.true((await feed.one(format())).ok);
  t.like(await feed.one(format()), { ok: true, alreadyFormatted: true });
  t.is(codeOf(t, await feed.one({ type: 'format', journalId: J, namespace: { ...ns, nsId: 'other' }, force: false })), 'ALREADY_FORMATTED');
  await feed.apply(newEpoch(3), start(3, 1), journalCommand(J, 3, 1, 2));
  t.is(codeOf(t, await feed.one(format())), 'ALREADY_FORMATTED');
  t.like(await feed.one(format(J, true)), { ok: true, alreadyFormatted: false });
  t.deepEqual(await readdir(journalCurrentDir(dir, J)), []);
  // Force keeps the promise: epochs never go down.
  t.is(codeOf(t, await feed.one(newEpoch(3))), 'EPOCH_FENCED');
  t.true((await feed.one(newEpoch(4))).ok);
  t.true((await feed.one(start(4, 1))).ok);
  for (const journalId of ['', 'a/b', '..', 'x'.repeat(65), 'sp ace']) {
    t.is(codeOf(t, await feed.one(format(journalId))), 'INVALID_ARGUMENT', journalId);
  }
  t.is(codeOf(t, await feed.one({ type: 'format', journalId: 'j2', namespace: { ...ns, clusterId: '' }, force: false })), 'INVALID_ARGUMENT');
});

test('journal state machine - newEpoch fences lower epochs, checks the namespace, is idempotent per writer id', async (t) => {
  const { feed } = await newMachine(t);
  t.is(codeOf(t, await feed.one(newEpoch(1))), 'NOT_FORMATTED');
  await feed.one(format());
  t.is(codeOf(t, await feed.one({ type: 'newEpoch', journalId: J, namespace: { ...ns, clusterId: 'cluster-b' }, epoch: 1, writerId: '' })), 'NAMESPACE_MISMATCH');
  t.is(codeOf(t, await feed.one(newEpoch(0))), 'INVALID_ARGUMENT');
  t.true((await feed.one(newEpoch(5, 'nn1:1'))).ok);
  t.like(await feed.one(newEpoch(5, 'nn1:1')), { ok: true, promisedEpoch: 5 }); // a retry
  const same = await feed.one(newEpoch(5, 'nn2:1'));
  t.like(same, { ok: false, error: { code: 'EPOCH_FENCED', promisedEpoch: 5 } });
  t.like(await feed.one(newEpoch(4)), { ok: false, error: { code: 'EPOCH_FENCED', promisedEpoch: 5 } });
  t.like(await feed.one(newEpoch(5)), { ok: false, error: { code: 'EPOCH_FENCED' } });
  t.true((await feed.one(newEpoch(6))).ok);
});

test('journal state machine - startSegment checks epoch, open segment and txid; a retry is acknowledged', async (t) => {
  const { feed } = await newMachine(t);
  t.is(codeOf(t, await feed.one(start(1, 1))), 'NOT_FORMATTED');
  await feed.apply(format(), newEpoch(2));
  t.like(await feed.one(start(1, 1)), { ok: false, error: { code: 'EPOCH_FENCED', promisedEpoch: 2 } });
  t.like(await feed.one(start(3, 1)), { ok: false, error: { code: 'EPOCH_NOT_PROMISED', promisedEpoch: 2 } });
  t.like(await feed.one(start(2, 5)), { ok: false, error: { code: 'OUT_OF_ORDER', expectedTxId: 1 } });
  t.is(codeOf(t, await feed.one(start(2, 0))), 'INVALID_ARGUMENT');
  t.like(await feed.one(start(2, 1)), { ok: true, duplicate: false });
  t.like(await feed.one(start(2, 1)), { ok: true, duplicate: true });
  t.true((await feed.one(journalCommand(J, 2, 1, 1))).ok);
  t.is(codeOf(t, await feed.one(start(2, 1))), 'SEGMENT_ALREADY_OPEN');
  t.is(codeOf(t, await feed.one(start(2, 2))), 'SEGMENT_ALREADY_OPEN');
});

test('journal state machine - journal rejects fenced epochs, missing segments, gaps, bad framing and bad sizes', async (t) => {
  const { dir, feed } = await newMachine(t);
  t.is(codeOf(t, await feed.one(journalCommand(J, 1, 1, 1))), 'NOT_FORMATTED');
  t.is(codeOf(t, await feed.one(journalCommand('bad id', 1, 1, 1))), 'INVALID_ARGUMENT');
  await feed.apply(format(), newEpoch(1));
  t.is(codeOf(t, await feed.one(journalCommand(J, 1, 1, 1))), 'SEGMENT_NOT_OPEN');
  await feed.one(start(1, 1));
  t.true((await feed.one(journalCommand(J, 1, 1, 2))).ok);
  t.like(await feed.one(journalCommand(J, 1, 4, 1)), { ok: false, error: { code: 'OUT_OF_ORDER', expectedTxId: 3 } });
  const framed = frameRecords(3, editsFor(3, 2));
  const base = { type: 'journal', journalId: J, epoch: 1, firstTxId: 3, count: 2, records: framed, crc32c: crc32c(framed) } as const;
  // The batch checksum is checked when a batch is proposed (qjournal-service), not when it
  // applies (server.test.ts covers the refusal). Damaged framing (the second record's txid), with a batch checksum that matches: refused.
  const misframed = Buffer.from(framed);
  const secondRecord = recordHeaderBytes + misframed.readUInt32LE(0);
  misframed.writeUInt32LE(misframed.readUInt32LE(secondRecord + 8) + 1, secondRecord + 8);
  t.is(codeOf(t, await feed.one({ ...base, records: misframed, crc32c: crc32c(misframed) })), 'CORRUPT_RECORDS');
  t.is(codeOf(t, await feed.one({ ...base, count: 1 })), 'CORRUPT_RECORDS');
  t.is(codeOf(t, await feed.one({ ...base, count: 0 })), 'INVALID_ARGUMENT');
  t.is(codeOf(t, await feed.one({ ...base, count: batchRecordsMax + 1 })), 'INVALID_ARGUMENT');
  t.is(codeOf(t, await feed.one({ ...base, firstTxId: 0 })), 'INVALID_ARGUMENT');
  const huge = Buffer.alloc(batchBytesMax + 1);
  t.is(codeOf(t, await feed.one({ ...base, records: huge, crc32c: crc32c(huge) })), 'INVALID_ARGUMENT');
  t.like(await feed.one({ ...base, epoch: 2 }), { ok: false, error: { code: 'EPOCH_NOT_PROMISED' } });
  // Nothing of the rejected batches reached the file.
  const file = join(journalCurrentDir(dir, J), inProgressFileName(1));
  t.true((await readFile(file)).equals(frameRecords(1, editsFor(1, 2))));
  // A new writer fences the old one; the old writer's segment is not the new writer's.
  await feed.one(newEpoch(2));
  t.like(await feed.one(base), { ok: false, error: { code: 'EPOCH_FENCED', promisedEpoch: 2 } });
  t.is(codeOf(t, await feed.one({ ...base, epoch: 2 })), 'SEGMENT_NOT_OPEN');
  t.true((await feed.one(finalize(2, 1, 2))).ok);
  t.true((await feed.one(start(2, 3))).ok);
  t.true((await feed.one({ ...base, epoch: 2 })).ok);
});

test('journal state machine - an exact retry is acknowledged once written; a different batch at the same txids is rejected', async (t) => {
  const { dir, feed } = await newMachine(t);
  await feed.apply(format(), newEpoch(1), start(1, 1));
  const first = journalCommand(J, 1, 1, 3);
  const second = journalCommand(J, 1, 4, 2);
  await feed.apply(first, second);
  const file = join(journalCurrentDir(dir, J), inProgressFileName(1));
  const before = await readFile(file);
  t.like(await feed.one(second), { ok: true, duplicate: true, firstTxId: 4, count: 2, lastTxId: 5 });
  t.like(await feed.one(first), { ok: true, duplicate: true, firstTxId: 1, lastTxId: 5 });
  t.true((await readFile(file)).equals(before));
  const other = journalCommand(J, 1, 4, 2, [Buffer.from('x'), Buffer.from('y')]);
  t.like(await feed.one(other), { ok: false, error: { code: 'OUT_OF_ORDER', expectedTxId: 6 } });
  const shorter = journalCommand(J, 1, 4, 1);
  t.like(await feed.one(shorter), { ok: false, error: { code: 'OUT_OF_ORDER', expectedTxId: 6 } });
  t.true((await readFile(file)).equals(before));
  // A retry under a later epoch is fenced, not acknowledged.
  await feed.one(newEpoch(2));
  t.is(codeOf(t, await feed.one(second)), 'EPOCH_FENCED');
  // Retries are remembered for the last recentBatchesMax batches only.
  await feed.apply(finalize(2, 1, 5), start(2, 6));
  const many: Command[] = [];
  for (let i = 0; i <= recentBatchesMax; i += 1) many.push(journalCommand(J, 2, 6 + i, 1));
  await feed.apply(...many);
  t.like(await feed.one(many[1]!), { ok: true, duplicate: true });
  t.like(await feed.one(many[0]!), { ok: false, error: { code: 'OUT_OF_ORDER' } });
});

test('journal state machine - finalize renames, drops an empty segment, is idempotent and checks the last txid', async (t) => {
  const { dir, feed } = await newMachine(t);
  await feed.apply(format(), newEpoch(1));
  t.is(codeOf(t, await feed.one(finalize(1, 1, 3))), 'SEGMENT_NOT_OPEN');
  await feed.apply(start(1, 1), journalCommand(J, 1, 1, 3));
  t.like(await feed.one(finalize(1, 1, 2)), { ok: false, error: { code: 'SEGMENT_MISMATCH', expectedTxId: 3 } });
  t.like(await feed.one(finalize(0, 1, 3)), { ok: false, error: { code: 'INVALID_ARGUMENT' } });
  t.is(codeOf(t, await feed.one(finalize(1, 1, -1))), 'INVALID_ARGUMENT');
  t.like(await feed.one(finalize(1, 1, 3)), { ok: true, alreadyFinalized: false });
  t.like(await feed.one(finalize(1, 1, 3)), { ok: true, alreadyFinalized: true, segment: { firstTxId: 1, lastTxId: 3 } });
  t.like(await feed.one(finalize(1, 1, 4)), { ok: false, error: { code: 'SEGMENT_MISMATCH', expectedTxId: 3 } });
  // An empty segment is dropped (its file deleted), and a retry of the drop is acknowledged.
  t.true((await feed.one(start(1, 4))).ok);
  t.deepEqual((await readdir(journalCurrentDir(dir, J))).sort(), [finalizedFileName(1, 3), inProgressFileName(4)]);
  t.like(await feed.one(finalize(1, 4, 3)), { ok: true, dropped: true, segment: null });
  t.like(await feed.one(finalize(1, 4, 3)), { ok: true, dropped: true, alreadyFinalized: true });
  t.deepEqual(await readdir(journalCurrentDir(dir, J)), [finalizedFileName(1, 3)]);
  await feed.one(newEpoch(2));
  t.like(await feed.one(finalize(1, 1, 3)), { ok: false, error: { code: 'EPOCH_FENCED', promisedEpoch: 2 } });
});

test('journal state machine - recovery: a new writer learns the open segment, finalizes it and continues', async (t) => {
  const { machine, feed } = await newMachine(t);
  await feed.apply(format(), newEpoch(1), start(1, 1), journalCommand(J, 1, 1, 4), journalCommand(J, 1, 5, 3));
  // Writer 1 dies. Writer 2:
  const epoch = await feed.one(newEpoch(2));
  t.like(epoch, { ok: true, lastTxId: 7, lastSegment: { firstTxId: 1, lastTxId: 7, inProgress: true, epoch: 1 } });
  t.is(codeOf(t, await feed.one(start(2, 8))), 'SEGMENT_ALREADY_OPEN');
  t.true((await feed.one(finalize(2, 1, 7))).ok);
  t.like(await feed.one(newEpoch(3)), { ok: true, lastSegment: { firstTxId: 1, lastTxId: 7, inProgress: false } });
  t.like(await feed.one(start(2, 8)), { ok: false, error: { code: 'EPOCH_FENCED' } });
  t.true((await feed.one(start(3, 8))).ok);
  t.true((await feed.one(journalCommand(J, 3, 8, 1))).ok);
  t.like(machine.getJournalState(J), { ok: true, promisedEpoch: 3, writerEpoch: 3, lastTxId: 8, openSegment: { firstTxId: 8, lastTxId: 8 } });
});

test('journal state machine - purge deletes finalized segments ending before the txid; reads below are unavailable', async (t) => {
  const { dir, machine, feed } = await newMachine(t);
  await feed.apply(format(), newEpoch(1));
  for (const [first, count] of [[1, 3], [4, 3], [7, 3]] as const) {
    await feed.apply(start(1, first), journalCommand(J, 1, first, count), finalize(1, first, first + count - 1));
  }
  await feed.apply(start(1, 10), journalCommand(J, 1, 10, 2));
  t.is(codeOf(t, await feed.one({ type: 'purge', journalId: J, epoch: 2, minTxIdToKeep: 5 })), 'EPOCH_NOT_PROMISED');
  t.like(await feed.one({ type: 'purge', journalId: J, epoch: 1, minTxIdToKeep: 5 }), { ok: true, purgedSegments: 1, firstTxId: 4 });
  t.like(await feed.one({ type: 'purge', journalId: J, epoch: 0, minTxIdToKeep: 100 }), { ok: true, purgedSegments: 2, firstTxId: 10 });
  t.deepEqual(await readdir(journalCurrentDir(dir, J)), [inProgressFileName(10)]);
  t.like(await machine.readEdits(J, 9, 10, 1 << 20), { ok: false, error: { code: 'EDITS_UNAVAILABLE', expectedTxId: 10 } });
  t.like(await machine.readEdits(J, 10, 10, 1 << 20), { ok: true, count: 2 });
  t.like(machine.getManifest(J, 0), { ok: true, segments: [{ firstTxId: 10, lastTxId: 11, inProgress: true }] });
});

test('journal state machine - reads: manifest, edits across segments with limits, journal state, several journals', async (t) => {
  const { machine, feed } = await newMachine(t);
  t.like(await machine.readEdits(J, 1, 10, 1000), { ok: false, error: { code: 'NOT_FORMATTED' } });
  t.like(await machine.readEdits('a/b', 1, 10, 1000), { ok: false, error: { code: 'INVALID_ARGUMENT' } });
  await feed.apply(format(), newEpoch(1), format('other'), newEpoch(7, '', 'other'));
  await feed.apply(start(1, 1), journalCommand(J, 1, 1, 5), finalize(1, 1, 5), start(1, 6), journalCommand(J, 1, 6, 5), journalCommand(J, 1, 11, 2));
  await feed.apply(start(7, 1, 'other'), journalCommand('other', 7, 1, 1));
  t.deepEqual(machine.listJournals(), [J, 'other']);
  t.like(machine.getManifest(J, 0), {
    ok: true,
    lastTxId: 12,
    segments: [{ firstTxId: 1, lastTxId: 5, inProgress: false, epoch: 1 }, { firstTxId: 6, lastTxId: 12, inProgress: true, epoch: 1 }],
  });
  t.is((machine.getManifest(J, 6) as { segments: unknown[] }).segments.length, 1);
  const all = await machine.readEdits(J, 3, 100, 1 << 20);
  if (!all.ok) return t.fail();
  t.is(all.count, 10);
  t.is(all.firstTxId, 3);
  t.is(all.crc32c, crc32c(all.records));
  t.deepEqual(parseRecords(all.records).map((r) => Buffer.from(r.data).toString()), editsFor(3, 10).map((b) => Buffer.from(b).toString()));
  const limited = await machine.readEdits(J, 4, 3, 1 << 20);
  t.like(limited, { ok: true, count: 3, firstTxId: 4, lastTxId: 12 });
  const recordSize = recordHeaderBytes + 'edit-4'.length;
  t.like(await machine.readEdits(J, 4, 100, 2 * recordSize), { ok: true, count: 2 });
  t.like(await machine.readEdits(J, 4, 100, 1), { ok: true, count: 1 }); // always one record
  t.like(await machine.readEdits(J, 13, 100, 1000), { ok: true, count: 0, lastTxId: 12 });
  t.like(await machine.readEdits(J, 1, 0, 1000), { ok: false, error: { code: 'INVALID_ARGUMENT' } });
  t.like(await machine.readEdits(J, 1, 10, batchBytesMax + 1), { ok: false, error: { code: 'INVALID_ARGUMENT' } });
  t.like(machine.getJournalState('other'), { ok: true, promisedEpoch: 7, lastTxId: 1 });
  t.like(machine.getJournalState('none'), { ok: false, error: { code: 'NOT_FORMATTED' } });
});

test('journal state machine - onApplied reports each applied batch after it is readable, and resets', async (t) => {
  const { machine, feed } = await newMachine(t);
  const events: AppliedEvent[] = [];
  const readable: boolean[] = [];
  const stop = machine.onApplied((event) => {
    events.push(event);
    if (event.type === 'journal') {
      const state = machine.getJournalState(event.journalId);
      readable.push(state.ok && state.lastTxId >= event.firstTxId + event.count - 1);
    }
  });
  await feed.apply(format(), newEpoch(1), start(1, 1), journalCommand(J, 1, 1, 2), journalCommand(J, 1, 3, 1), journalCommand(J, 1, 3, 1));
  t.deepEqual(
    events.map((e) => (e.type === 'journal' ? [e.journalId, e.firstTxId, e.count, parseRecords(e.records).length] : [e.type])),
    [[J, 1, 2, 2], [J, 3, 1, 1]],
  );
  t.deepEqual(readable, [true, true]);
  await feed.one(format(J, true));
  t.deepEqual(events.at(-1), { type: 'reset', journalId: J });
  stop();
  await feed.one(format('x'));
  t.is(events.length, 3);
});

test('journal state machine - malformed entries are INVALID_ARGUMENT results; a rejected command leaves the files alone', async (t) => {
  const { dir, machine, feed } = await newMachine(t);
  await feed.apply(format(), newEpoch(1), start(1, 1), journalCommand(J, 1, 1, 2));
  const before = await readTree(dir);
  feed.index += 1;
  const results = await machine.apply([
    { index: feed.index, term: 1, data: Buffer.from([7, 7]) },
    { index: feed.index + 1, term: 1, data: Buffer.concat([Buffer.from([1]), Buffer.from('{"type":"finalize"}')]) },
  ]);
  feed.index += 1;
  t.like(results, [{ ok: false, error: { code: 'INVALID_ARGUMENT' } }, { ok: false, error: { code: 'INVALID_ARGUMENT' } }]);
  for (const command of [journalCommand(J, 1, 9, 1), start(1, 3), finalize(1, 1, 9), newEpoch(1), format(), journalCommand(J, 0, 3, 1)]) {
    t.false((await feed.one(command)).ok);
  }
  const after = await readTree(dir);
  t.deepEqual([...after.keys()], [...before.keys()]);
  for (const [name, bytes] of before) t.true(after.get(name)?.equals(bytes), name);
  t.like(await feed.one({ type: 'noop' }), { ok: true });
  await t.throwsAsync(machine.apply([{ index: 1, term: 1, data: new Uint8Array(0) }]), { message: /entry index 1 after/ });
});

test('journal state machine - reads running during applies that rename segments always succeed', async (t) => {
  const { machine, feed } = await newMachine(t);
  await feed.apply(format(), newEpoch(1), start(1, 1), journalCommand(J, 1, 1, 2));
  let writing = true;
  let txid = 3;
  let segmentFirst = 1;
  const writer = (async () => {
    for (let round = 0; round < 60; round += 1) {
      // Finalize (a rename) and open the next segment in the same apply as appends.
      const results = await feed.apply(journalCommand(J, 1, txid, 2), finalize(1, segmentFirst, txid + 1), start(1, txid + 2));
      t.true(results.every((r) => r.ok));
      segmentFirst = txid + 2;
      txid += 2;
    }
    writing = false;
  })();
  const codes = new Set<string>();
  let reads = 0;
  while (writing || reads === 0) {
    const result = await machine.readEdits(J, 1, 1000, 1 << 20);
    codes.add(result.ok ? 'ok' : result.error.code);
    if (result.ok) t.deepEqual(parseRecords(result.records).map((r) => r.txid)[0], 1);
    reads += 1;
  }
  await writer;
  t.deepEqual([...codes], ['ok']);
  t.true(reads > 1);
});
