import test, { type ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import { crc32c } from '@node-rs/crc32';
import { waitFor } from '../support/wait.ts';
import type { Message } from '../../raft/core/types.ts';
import { encodeMessage, snapshotHeaderCrc32c } from '../../raft/transport/codec.ts';
import type { SnapshotOffsetsRequest } from '../../raft/transport/generated/qjournal/raft/v1/SnapshotOffsetsRequest.ts';
import type { SnapshotChunk } from '../../raft/transport/generated/qjournal/raft/v1/SnapshotChunk.ts';
import { raftV1 } from '../../raft/transport/proto.ts';
import { connectAll, message, msgApp, pseudoRandomBytes, readFileSet, SNAPSHOT_META, startNode, writeFileSet, type TestNode } from './harness.ts';

const nodes: TestNode[] = [];
async function pair(options: Parameters<typeof startNode>[1] = {}): Promise<[TestNode, TestNode]> {
  const a = await startNode('a', options);
  const b = await startNode('b', options);
  nodes.push(a, b);
  connectAll([a, b]);
  return [a, b];
}
test.after.always(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

const MiB = 1024 * 1024;

/** Compare file sets by name and bytes (ava's deepEqual is far too slow on MiB buffers). */
function sameFiles(t: ExecutionContext, got: Record<string, Buffer>, want: Record<string, Buffer>): void {
  t.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  for (const [name, data] of Object.entries(want)) t.true(got[name]?.equals(data), `${name} differs`);
}

function msgSnap(index = SNAPSHOT_META.index): Message {
  return message({
    type: 'MsgSnap',
    from: 'a',
    to: 'b',
    term: 3,
    snapshot: { meta: { ...SNAPSHOT_META, index }, data: new TextEncoder().encode(`descriptor-${index}`) },
  });
}

function fileContents(): Record<string, Buffer> {
  return {
    'segment-1': pseudoRandomBytes(3 * MiB, 1),
    'segments/segment-2': pseudoRandomBytes(2.5 * MiB + 17, 2),
    'journal.meta': pseudoRandomBytes(100, 3),
    'segments/empty': Buffer.alloc(0),
  };
}

test('snapshot - a file set is delivered in chunks with checksums, then the MsgSnap is handed to the core', async (t) => {
  const [a, b] = await pair();
  const contents = fileContents();
  a.sources.set(SNAPSHOT_META.index, await writeFileSet(contents));
  // Ordinary traffic keeps flowing on its own stream meanwhile.
  a.transport.send([msgSnap(), msgApp('a', 'b', 1)]);
  await waitFor(() => a.snapshotStatus.length === 1, { what: 'snapshot status' });
  t.deepEqual(a.snapshotStatus, [{ peer: 'b', ok: true }]);
  const snaps = b.received.filter((m) => m.type === 'MsgSnap');
  t.is(snaps.length, 1);
  t.deepEqual(snaps[0]!.snapshot!.meta, SNAPSHOT_META);
  t.is(new TextDecoder().decode(snaps[0]!.snapshot!.data), `descriptor-${SNAPSHOT_META.index}`);
  t.is(b.sink.published.length, 1);
  sameFiles(t, await readFileSet(b.sink.published[0]!.dir), contents);
  // Chunked: several writes per large file, none above the 1 MiB default.
  const chunks = b.sink.writes.filter((w) => w.name === 'segment-1');
  t.is(chunks.length, 3);
  t.true(b.sink.writes.every((w) => w.bytes <= MiB));
  const total = Object.values(contents).reduce((sum, c) => sum + c.length, 0);
  t.is(a.transport.stats().snapshotBytesSent, total);
  t.is(b.transport.stats().snapshotBytesReceived, total);
  await waitFor(() => b.received.some((m) => m.type === 'MsgApp'));
});

test('snapshot - a transfer continues from the offset the receiver already holds', async (t) => {
  const [a, b] = await pair({ snapshotChunkBytes: 512 * 1024 });
  const contents = fileContents();
  const source = await writeFileSet(contents);
  a.sources.set(SNAPSHOT_META.index, source);
  // The receiver holds the first 1.5 MiB of segment-1 and all of journal.meta (an earlier, broken attempt).
  const prefill = await b.sink.beginReceive(SNAPSHOT_META, source.files);
  const held = 1.5 * MiB;
  await prefill.writeChunk('segment-1', 0, contents['segment-1']!.subarray(0, held));
  await prefill.writeChunk('journal.meta', 0, contents['journal.meta']!);
  const writesBefore = b.sink.writes.length;
  a.transport.send([msgSnap()]);
  await waitFor(() => a.snapshotStatus.length === 1, { what: 'snapshot status' });
  t.deepEqual(a.snapshotStatus, [{ peer: 'b', ok: true }]);
  const transferWrites = b.sink.writes.slice(writesBefore);
  const segment1 = transferWrites.filter((w) => w.name === 'segment-1');
  t.is(segment1[0]!.offset, held, 'continued from the held offset');
  t.false(transferWrites.some((w) => w.name === 'journal.meta'), 'a complete file is not sent again');
  const total = Object.values(contents).reduce((sum, c) => sum + c.length, 0);
  t.is(a.transport.stats().snapshotBytesSent, total - held - contents['journal.meta']!.length);
  sameFiles(t, await readFileSet(b.sink.published[0]!.dir), contents);
  t.is(b.received.filter((m) => m.type === 'MsgSnap').length, 1);
});

test('snapshot - a checksum mismatch fails the transfer; a corrected retry succeeds', async (t) => {
  const [a, b] = await pair();
  const contents = fileContents();
  const source = await writeFileSet(contents);
  const corrupted = { ...source, files: source.files.map((f) => (f.name === 'segments/segment-2' ? { ...f, crc32c: (f.crc32c ^ 1) >>> 0 } : f)) };
  a.sources.set(SNAPSHOT_META.index, corrupted);
  a.transport.send([msgSnap()]);
  await waitFor(() => a.snapshotStatus.length === 1, { what: 'snapshot status' });
  t.deepEqual(a.snapshotStatus, [{ peer: 'b', ok: false }]);
  t.deepEqual(b.received, []);
  t.is(b.sink.published.length, 0);
  t.is(a.transport.stats().snapshotSendFailures, 1);
  t.is(b.transport.stats().snapshotReceiveFailures, 1);
  // The bad file was forgotten: the retry sends it again and the set is published.
  a.sources.set(SNAPSHOT_META.index, source);
  a.transport.send([msgSnap()]);
  await waitFor(() => a.snapshotStatus.length === 2, { what: 'second status' });
  t.deepEqual(a.snapshotStatus[1], { peer: 'b', ok: true });
  const published = await readFileSet(b.sink.published[0]!.dir);
  t.is(crc32c(published['segments/segment-2']!), source.files.find((f) => f.name === 'segments/segment-2')!.crc32c);
});

test('snapshot - one transfer per peer at a time; a failing source reports failure', async (t) => {
  const [a, b] = await pair();
  a.sources.set(SNAPSHOT_META.index, await writeFileSet(fileContents()));
  a.transport.send([msgSnap(), msgSnap()]);
  t.is(a.transport.stats().droppedSnapshotBusy, 1);
  await waitFor(() => a.snapshotStatus.length === 1);
  t.deepEqual(a.snapshotStatus, [{ peer: 'b', ok: true }]);
  a.transport.send([msgSnap(999)]); // no source for 999
  await waitFor(() => a.snapshotStatus.length === 2);
  t.deepEqual(a.snapshotStatus[1], { peer: 'b', ok: false });
  t.is(b.received.filter((m) => m.type === 'MsgSnap').length, 1);
});

test('snapshot - a transfer to a peer that is down reports failure', async (t) => {
  const a = await startNode('a');
  const b = await startNode('b');
  nodes.push(a);
  a.transport.setPeer('b', b.address);
  await b.stop();
  a.sources.set(SNAPSHOT_META.index, await writeFileSet({ one: pseudoRandomBytes(1000, 5) }));
  a.transport.send([msgSnap()]);
  await waitFor(() => a.snapshotStatus.length === 1);
  t.deepEqual(a.snapshotStatus, [{ peer: 'b', ok: false }]);
});

test('snapshot - a transfer broken midway resumes from what the receiver kept', async (t) => {
  const [a, b] = await pair({ snapshotChunkBytes: 256 * 1024 });
  const contents = fileContents();
  a.sources.set(SNAPSHOT_META.index, await writeFileSet(contents));
  let writes = 0;
  b.sink.beforeWrite = () => {
    writes += 1;
    if (writes === 10) throw new Error('disk hiccup');
  };
  a.transport.send([msgSnap()]);
  await waitFor(() => a.snapshotStatus.length === 1);
  t.deepEqual(a.snapshotStatus, [{ peer: 'b', ok: false }]);
  const kept = b.sink.writes.reduce((sum, w) => sum + w.bytes, 0);
  t.is(kept, 9 * 256 * 1024);
  const sentFirst = a.transport.stats().snapshotBytesSent;
  a.transport.send([msgSnap()]);
  await waitFor(() => a.snapshotStatus.length === 2);
  t.deepEqual(a.snapshotStatus[1], { peer: 'b', ok: true });
  const total = Object.values(contents).reduce((sum, c) => sum + c.length, 0);
  t.is(a.transport.stats().snapshotBytesSent - sentFirst, total - kept, 'the second attempt sent only the rest');
  sameFiles(t, await readFileSet(b.sink.published[0]!.dir), contents);
});

test('snapshot - closing the sender mid-transfer stops both sides cleanly', async (t) => {
  const a = await startNode('a');
  const b = await startNode('b');
  nodes.push(b);
  connectAll([a, b]);
  a.sources.set(SNAPSHOT_META.index, await writeFileSet(fileContents()));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const writing = new Promise<void>((resolve) => (reached = resolve));
  b.sink.beforeWrite = async () => {
    reached();
    await held;
  };
  a.transport.send([msgSnap()]);
  await writing;
  await a.stop();
  release();
  await waitFor(() => b.transport.stats().snapshotReceiveFailures === 1, { what: 'receive aborted' });
  t.deepEqual(a.snapshotStatus, [], 'no status after close');
  t.deepEqual(b.received, []);
  t.is(b.sink.published.length, 0);
  // b accepts a new transfer afterwards.
  const a2 = await startNode('a');
  nodes.push(a2);
  connectAll([a2, b]);
  b.sink.beforeWrite = null;
  a2.sources.set(SNAPSHOT_META.index, await writeFileSet(fileContents()));
  a2.transport.send([msgSnap()]);
  await waitFor(() => a2.snapshotStatus.length === 1);
  t.deepEqual(a2.snapshotStatus, [{ peer: 'b', ok: true }]);
});

/** InstallSnapshot from a raw client: the header only, then the end of the stream when `end`; resolves with the status. */
function rawInstall(client: grpc.Client, header: NonNullable<SnapshotChunk['header']>, end: boolean): Promise<grpc.StatusObject> {
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest(
      '/qjournal.raft.v1.RaftTransport/InstallSnapshot',
      (value: SnapshotChunk) => raftV1.SnapshotChunk.serialize(value),
      (value: Buffer) => value,
      () => {},
    );
    call.on('status', resolve);
    call.write({ header });
    if (end) call.end();
  });
}

test('snapshot - a stalled receive is aborted after the idle timeout and the receiver serves again', async (t) => {
  const [a, b] = await pair({ snapshotIdleTimeoutMs: 200 });
  const source = await writeFileSet({ one: pseudoRandomBytes(1000, 4) });
  // A raw client sends the header and then nothing.
  const client = new grpc.Client(b.address, grpc.credentials.createInsecure());
  const status = await rawInstall(client, { message: encodeMessage(msgSnap()), files: source.files, headerCrc32c: snapshotHeaderCrc32c(msgSnap(), source.files) }, false);
  client.close();
  t.is(status.code, grpc.status.DEADLINE_EXCEEDED);
  a.sources.set(SNAPSHOT_META.index, source);
  a.transport.send([msgSnap()]);
  await waitFor(() => a.snapshotStatus.length === 1);
  t.deepEqual(a.snapshotStatus, [{ peer: 'b', ok: true }]);
});

test('snapshot - a header whose checksum does not match (a snapshot index damaged on the way) is refused', async (t) => {
  const [, b] = await pair();
  const source = await writeFileSet({ one: pseudoRandomBytes(1000, 5) });
  const sent = msgSnap();
  const damaged = { ...sent, snapshot: { ...sent.snapshot!, meta: { ...sent.snapshot!.meta, index: sent.snapshot!.meta.index + 4 } } };
  const client = new grpc.Client(b.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const refused = await rawInstall(client, { message: encodeMessage(damaged), files: source.files, headerCrc32c: snapshotHeaderCrc32c(sent, source.files) }, true);
  t.not(refused.code, grpc.status.OK);
  t.regex(refused.details, /checksum/);
  const offsets = await new Promise<grpc.ServiceError | null>((resolve) => {
    client.makeUnaryRequest(
      '/qjournal.raft.v1.RaftTransport/SnapshotOffsets',
      (value: SnapshotOffsetsRequest) => raftV1.SnapshotOffsetsRequest.serialize(value),
      (value: Buffer) => value,
      { message: encodeMessage(damaged), files: source.files, headerCrc32c: snapshotHeaderCrc32c(sent, source.files) },
      (error) => resolve(error),
    );
  });
  t.regex(offsets?.details ?? '', /checksum/);
  t.deepEqual(b.received, [], 'nothing reached the core');
});
