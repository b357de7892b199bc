/**
 * The tail: the WebSocket message format (pure parts), and push with polling fallback against
 * the fake service's WebSocket endpoint.
 */
import test from 'ava';
import { acceptRecords, parseTailControl, tailUrl } from '../../libqjm/tail-protocol.ts';
import { EditsUnavailableError, NotFormattedError, ProtocolError } from '../../libqjm/errors.ts';
import type { EditRecord } from '../../journalnode/protocol/records.ts';
import type { QuorumJournalManager } from '../../libqjm/qjm.ts';
import type { JournalWriter } from '../../libqjm/writer.ts';
import { waitFor } from '../support/wait.ts';
import { editText, makeEdits, startFake, testNamespace } from './helpers.ts';

function record(txid: number): EditRecord {
  return { txid, data: Buffer.from(`edit-${txid}`) };
}

test('tail - acceptRecords skips duplicates and stops at a gap', (t) => {
  const kept = acceptRecords(5, [3, 4, 5, 6, 7].map(record));
  t.deepEqual(kept.accepted.map((r) => r.txid), [5, 6, 7]);
  t.is(kept.next, 8);
  t.is(kept.gapAt, undefined);
  const gap = acceptRecords(5, [5, 6, 9, 10].map(record));
  t.deepEqual(gap.accepted.map((r) => r.txid), [5, 6]);
  t.is(gap.next, 7);
  t.is(gap.gapAt, 9);
});

test('tail - control frames parse into typed messages; errors into typed errors', (t) => {
  t.deepEqual(parseTailControl('{"type":"caught-up","lastTxId":42}'), { type: 'caught-up', lastTxId: 42 });
  t.like(parseTailControl('{"type":"hello","journalId":"j1","fromTxId":3,"firstTxId":1,"lastTxId":9}'), { type: 'hello', fromTxId: 3, lastTxId: 9 });
  const control = parseTailControl('{"type":"error","code":"EDITS_UNAVAILABLE","message":"purged","expectedTxId":11}');
  t.is(control.type, 'error');
  if (control.type === 'error') {
    t.true(control.error instanceof EditsUnavailableError);
    t.is((control.error as EditsUnavailableError).firstAvailableTxId, 11);
  }
  t.throws(() => parseTailControl('not json'), { instanceOf: ProtocolError });
  t.throws(() => parseTailControl('{"type":"mystery"}'), { instanceOf: ProtocolError });
  t.throws(() => parseTailControl('{"type":"caught-up","lastTxId":-1}'), { instanceOf: ProtocolError });
});

test('tail - tailUrl builds the documented URL', (t) => {
  t.is(tailUrl('127.0.0.1:8080', 'j1', 7), 'ws://127.0.0.1:8080/journals/j1/tail?from=7');
  t.is(tailUrl('wss://jn.example/', 'j1', 1), 'wss://jn.example/journals/j1/tail?from=1');
  t.throws(() => tailUrl('h:1', 'bad id', 1));
  t.throws(() => tailUrl('h:1', 'j1', 0));
});

/** Iterate a tail in the background, collecting edits. */
function collect(qjm: QuorumJournalManager, from: number): { edits: EditRecord[]; stop: () => Promise<void>; error: () => unknown } {
  const controller = new AbortController();
  const edits: EditRecord[] = [];
  let failure: unknown;
  const done = (async () => {
    try {
      for await (const edit of qjm.tail({ from, signal: controller.signal, pollIntervalMs: 20, socketRetry: { initialDelayMs: 50, maxDelayMs: 200, multiplier: 2, jitter: 0 } })) {
        edits.push({ txid: edit.txid, data: Buffer.from(edit.data) });
      }
    } catch (error) {
      failure = error;
    }
  })();
  return {
    edits,
    stop: async () => {
      controller.abort();
      await done;
    },
    error: () => failure,
  };
}

function assertInOrder(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, edits: EditRecord[], from: number, last: number): void {
  t.deepEqual(edits.map((e) => e.txid), Array.from({ length: last - from + 1 }, (_, i) => from + i), 'each txid once, in order');
  t.deepEqual(edits.map((e) => editText(e.data)), Array.from({ length: last - from + 1 }, (_, i) => `edit-${from + i}`));
}

async function writerWith(qjm: QuorumJournalManager, count: number): Promise<JournalWriter> {
  await qjm.format(testNamespace);
  const writer = await qjm.openForWrite();
  await writer.startLogSegment(1);
  if (count > 0) await writer.write(1, makeEdits(1, count));
  return writer;
}

test('tail - the socket pushes the backlog, then live edits', async (t) => {
  const { cluster, manager } = await startFake(t, { http: true });
  const qjm = manager();
  const writer = await writerWith(qjm, 120);
  const tail = collect(manager(), 1);
  await waitFor(() => tail.edits.length === 120, { what: 'backlog' });
  await writer.write(121, makeEdits(121, 30));
  await writer.write(151, makeEdits(151, 1));
  await waitFor(() => tail.edits.length === 151, { what: 'live edits' });
  await tail.stop();
  assertInOrder(t, tail.edits, 1, 151);
  t.is(cluster.tail.connections, 1);
  t.is(cluster.unaryCalls.get('getJournaledEdits') ?? 0, 0, 'no polling while the socket works');
});

test('tail - frames overlapping what was delivered are deduplicated by txid', async (t) => {
  const { cluster, manager } = await startFake(t, { http: true });
  cluster.tail.overlap = true;
  const qjm = manager();
  const writer = await writerWith(qjm, 10);
  const tail = collect(manager(), 3);
  await waitFor(() => tail.edits.length === 8, { what: 'backlog' });
  for (let txid = 11; txid <= 20; txid += 1) await writer.write(txid, makeEdits(txid, 1));
  await waitFor(() => tail.edits.at(-1)?.txid === 20, { what: 'live edits' });
  await tail.stop();
  assertInOrder(t, tail.edits, 3, 20);
});

test('tail - a dropped socket falls back to polling from the last txid seen, then reconnects', async (t) => {
  const { cluster, manager } = await startFake(t, { http: true, tailFrameRecords: 25 });
  cluster.tail.dropAfterFrames = 1;
  const qjm = manager();
  const writer = await writerWith(qjm, 100);
  const tail = collect(manager(), 1);
  await waitFor(() => tail.edits.length === 100, { what: 'backlog through socket and polling' });
  t.true((cluster.unaryCalls.get('getJournaledEdits') ?? 0) > 0, 'polling filled in');
  cluster.tail.dropAfterFrames = undefined;
  await waitFor(() => cluster.tail.connections >= 2, { what: 'a new socket' });
  await writer.write(101, makeEdits(101, 20));
  await waitFor(() => tail.edits.length === 120, { what: 'live edits' });
  await tail.stop();
  assertInOrder(t, tail.edits, 1, 120);
});

test('tail - refused sockets: polling alone delivers everything', async (t) => {
  const { cluster, manager } = await startFake(t, { http: true });
  cluster.tail.refuse = true;
  const qjm = manager();
  const writer = await writerWith(qjm, 15);
  const tail = collect(manager(), 1);
  await waitFor(() => tail.edits.length === 15, { what: 'backlog by polling' });
  await writer.write(16, makeEdits(16, 5));
  await waitFor(() => tail.edits.length === 20, { what: 'live edits by polling' });
  await tail.stop();
  assertInOrder(t, tail.edits, 1, 20);
  t.is(cluster.tail.connections, 0);
});

test('tail - without HTTP nodes the tail polls', async (t) => {
  const { manager } = await startFake(t);
  const qjm = manager();
  const writer = await writerWith(qjm, 5);
  const tail = collect(manager(), 2);
  await writer.write(6, makeEdits(6, 5));
  await waitFor(() => tail.edits.length === 9, { what: 'edits by polling' });
  await tail.stop();
  assertInOrder(t, tail.edits, 2, 10);
});

test('tail - an error frame for purged edits ends the tail with EditsUnavailableError', async (t) => {
  const { manager } = await startFake(t, { http: true });
  const qjm = manager();
  const writer = await writerWith(qjm, 10);
  await writer.finalizeLogSegment(1, 10);
  await writer.startLogSegment(11);
  await writer.write(11, makeEdits(11, 5));
  await qjm.purgeLogsOlderThan(11);
  const tail = collect(manager(), 1);
  await waitFor(() => tail.error() !== undefined, { what: 'tail error' });
  t.true(tail.error() instanceof EditsUnavailableError);
  t.is(tail.edits.length, 0);
  await tail.stop();
});

test('tail - an unformatted journal ends the tail with NotFormattedError', async (t) => {
  const { manager } = await startFake(t, { http: true });
  const tail = collect(manager(), 1);
  await waitFor(() => tail.error() !== undefined, { what: 'tail error' });
  t.true(tail.error() instanceof NotFormattedError);
  await tail.stop();
});

test('tail - breaking out of the loop closes the socket', async (t) => {
  const { cluster, manager } = await startFake(t, { http: true });
  const qjm = manager();
  await writerWith(qjm, 10);
  const seen: number[] = [];
  for await (const edit of manager().tail({ from: 1 })) {
    seen.push(edit.txid);
    if (edit.txid === 4) break;
  }
  t.deepEqual(seen, [1, 2, 3, 4]);
  await waitFor(() => cluster.nodes[0]!.sockets.size === 0, { what: 'socket closed' });
});
