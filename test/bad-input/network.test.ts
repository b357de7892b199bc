/**
 * Every network entry point of a real JournalNode process gets malformed and hostile input:
 * random bytes and truncated frames on the gRPC and HTTP ports, oversized messages, wrong types,
 * unknown journal ids, negative and enormous txids, epochs from the past and the far future,
 * a WebSocket client that never reads. Each gets a clear error or a closed connection; the node
 * keeps serving (a write after all of it succeeds) and nothing committed changes (the edits and
 * the segment files are byte for byte what they were).
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { connect as http2Connect, constants as h2 } from 'node:http2';
import { createConnection, type Socket } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { QuorumJournalManager, type JournalWriter } from '../../libqjm/index.ts';
import { loadJournalProtocol } from '../../journalnode/protocol/load.ts';
import { frameRecords } from '../../journalnode/protocol/records.ts';
import { startJournalCluster, type JournalCluster } from '../support/cluster.ts';
import { waitFor } from '../support/wait.ts';
import { RawJournalClient } from '../../chaos/raw-client.ts';

const journalId = 'hostile';
const namespace = { nsId: 'ns-bad', clusterId: 'cluster-bad', blockPoolId: 'bp', layoutVersion: 1 };
/** Big edits so the backlog overflows the kernel's socket buffers of a client that never reads. */
const bigEditBytes = 64 * 1024;
const bigEdits = 256;

interface Context {
  cluster: JournalCluster;
  rpc: string;
  http: string;
  qjm: QuorumJournalManager;
  writer: JournalWriter;
  raw: RawJournalClient;
  committed: { edits: string; files: string; lastTxId: number };
}

let context: Context | undefined;

function ctx(): Context {
  if (context === undefined) throw new Error('the cluster did not start');
  return context;
}

/** A digest of the committed edits 1..lastTxId and of every finalized segment file. */
async function committedState(c: Pick<Context, 'raw' | 'rpc' | 'cluster'>, lastTxId: number): Promise<{ edits: string; files: string }> {
  const edits = createHash('sha256');
  for (let from = 1; from <= lastTxId; ) {
    const response = await c.raw.getJournaledEdits(c.rpc, journalId, from, Math.min(10_000, lastTxId - from + 1), 4 * 1024 * 1024);
    if (!response.success) throw new Error(`read from ${from}: ${response.error?.code}`);
    edits.update(response.success.records);
    from += response.success.count;
  }
  const files = createHash('sha256');
  const dir = join(c.cluster.dataDirs[0]!, 'journals', journalId, 'current');
  for (const name of (await readdir(dir)).sort()) {
    if (/^edits_\d+-\d+$/.test(name)) files.update(name).update(await readFile(join(dir, name)));
  }
  return { edits: edits.digest('hex'), files: files.digest('hex') };
}

test.before(async () => {
  const cluster = await startJournalCluster({
    nodes: 1,
    extraArgs: ['--tail-buffered-bytes-high-water', '65536', '--tail-stall-timeout-ms', '1000'],
  });
  const rpc = cluster.rpcAddresses[0]!;
  const qjm = new QuorumJournalManager({ journalId, nodes: [rpc], requestTimeoutMs: 10_000 });
  await qjm.format(namespace);
  const writer = await qjm.openForWrite({ epoch: 5 });
  await writer.startLogSegment(1);
  await writer.write(1, Array.from({ length: 20 }, (_, i) => Buffer.from(`small-${i + 1}`)));
  await writer.finalizeLogSegment(1, 20);
  await writer.startLogSegment(21);
  for (let i = 0; i < bigEdits; i += 16) {
    await writer.write(21 + i, Array.from({ length: 16 }, (_, k) => Buffer.alloc(bigEditBytes, (i + k) % 251)));
  }
  const raw = new RawJournalClient(10_000);
  const lastTxId = 20 + bigEdits;
  context = { cluster, rpc, http: cluster.httpAddresses[0]!, qjm, writer, raw, committed: { ...(await committedState({ raw, rpc, cluster }, lastTxId)), lastTxId } };
});

test.after.always(async () => {
  if (context === undefined) return;
  context.raw.close();
  context.qjm.close();
  await context.cluster.stop();
});

/** Send `bytes` on a fresh TCP connection to `address`; resolves with what came back once the peer closed. */
function rawExchange(address: string, bytes: Buffer, options: { endAfterWrite?: boolean } = {}): Promise<{ reply: string; closed: true }> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: host!, port: Number(port) });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${address} did not close the connection within 20 s; it sent ${JSON.stringify(reply.slice(0, 200))}`));
    }, 20_000);
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ reply, closed: true });
    });
    socket.once('connect', () => {
      socket.write(bytes);
      if (options.endAfterWrite === true) socket.end();
    });
  });
}

/** One raw gRPC unary call over HTTP/2: a 5-byte prefix declaring `declaredBytes` (default the body's) then `body`. */
async function rawGrpc(address: string, method: string, body: Buffer, declaredBytes = body.length): Promise<{ status: number | undefined; message: string; data: Buffer }> {
  const session = http2Connect(`http://${address}`);
  session.on('error', () => undefined);
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({
        [h2.HTTP2_HEADER_METHOD]: 'POST',
        [h2.HTTP2_HEADER_PATH]: `/qjournal.v1.QJournal/${method}`,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const chunks: Buffer[] = [];
      let status: number | undefined;
      let message = '';
      const noteHeaders = (headers: Record<string, unknown>): void => {
        if (headers['grpc-status'] !== undefined) status = Number(headers['grpc-status']);
        if (typeof headers['grpc-message'] === 'string') message = decodeURIComponent(headers['grpc-message']);
      };
      stream.on('response', noteHeaders);
      stream.on('trailers', noteHeaders);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', reject);
      stream.on('close', () => resolve({ status, message, data: Buffer.concat(chunks) }));
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(declaredBytes, 1);
      stream.end(Buffer.concat([prefix, body]));
    });
  } finally {
    session.close();
  }
}

/** Decode a unary response body (one length-prefixed message) with the method's deserializer. */
function decodeResponse(method: 'Journal' | 'GetJournaledEdits' | 'NewEpoch' | 'StartSegment', data: Buffer): Record<string, unknown> {
  const service = loadJournalProtocol().qjournal.v1.QJournal.service as unknown as Record<string, { responseDeserialize(b: Buffer): Record<string, unknown> }>;
  return service[method]!.responseDeserialize(data.subarray(5));
}

function serialize(method: string, request: object): Buffer {
  const service = loadJournalProtocol().qjournal.v1.QJournal.service as unknown as Record<string, { requestSerialize(o: object): Buffer }>;
  return service[method]!.requestSerialize(request);
}

/** A protobuf varint. */
function varint(value: bigint): Buffer {
  const out: number[] = [];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

/** A JournalRequest with field values encoded by hand (for values the encoder would refuse). */
function journalRequestBytes(fields: { journalId: string; epoch: bigint; firstTxId: bigint; count: bigint; records: Buffer; crc: bigint }): Buffer {
  const id = Buffer.from(fields.journalId);
  return Buffer.concat([
    Buffer.from([0x12]), varint(BigInt(id.length)), id, // 2: journal_id
    Buffer.from([0x18]), varint(fields.epoch), // 3: epoch
    Buffer.from([0x20]), varint(fields.firstTxId), // 4: first_tx_id
    Buffer.from([0x28]), varint(fields.count), // 5: count
    Buffer.from([0x32]), varint(BigInt(fields.records.length)), fields.records, // 6: records
    Buffer.from([0x38]), varint(fields.crc), // 7: crc32c
  ]);
}

function errorCodeOf(method: 'Journal' | 'GetJournaledEdits' | 'NewEpoch' | 'StartSegment', answer: { status: number | undefined; data: Buffer }): string {
  if (answer.status !== 0) return `status ${answer.status}`;
  const decoded = decodeResponse(method, answer.data) as { error?: { code?: string } | null };
  return decoded.error?.code ?? 'success';
}

test.serial('bad input - random bytes on the gRPC port: the connection is closed, the node serves on', async (t) => {
  const { rpc } = ctx();
  for (const seed of [1, 2, 3]) {
    const junk = createHash('sha256').update(`junk-${seed}`).digest();
    const result = await rawExchange(rpc, Buffer.concat([junk, junk, junk]));
    t.true(result.closed);
  }
  // An HTTP/2 preface followed by garbage frames.
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const garbageFrames = Buffer.from([0, 0, 8, 0xff, 0xff, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0x10, 0, 4, 0, 0, 0, 0, 0]);
  t.true((await rawExchange(rpc, Buffer.concat([preface, garbageFrames]))).closed);
  // Half a preface, then the client goes away.
  t.true((await rawExchange(rpc, preface.subarray(0, 10), { endAfterWrite: true })).closed);
  const state = await ctx().raw.getJournalState(rpc, journalId);
  t.is(state.success?.lastTxId, ctx().committed.lastTxId);
});

test.serial('bad input - truncated, undecodable and mistyped gRPC messages get an error status or a typed error', async (t) => {
  const { rpc } = ctx();
  const good = serialize('Journal', { journalId, epoch: 5, firstTxId: 1, count: 1, records: Buffer.alloc(0), crc32c: 0 });
  // The prefix announces more bytes than arrive before the end of the stream.
  const truncated = await rawGrpc(rpc, 'Journal', good.subarray(0, Math.max(1, good.length - 3)), good.length);
  t.truthy(truncated.status, `truncated message: status ${truncated.status}`);
  t.not(truncated.status, 0);
  // Random bytes as a protobuf body.
  const junk = await rawGrpc(rpc, 'Journal', createHash('sha512').update('x').digest());
  t.true(junk.status !== 0 || errorCodeOf('Journal', junk) !== 'success', `random body answered ${JSON.stringify(junk)}`);
  // Wrong types: journal_id (a string) sent as a varint, epoch (a varint) sent as bytes.
  const mistyped = Buffer.concat([Buffer.from([0x10]), varint(7n), Buffer.from([0x1a, 0x02, 0x41, 0x42])]);
  const wrong = await rawGrpc(rpc, 'Journal', mistyped);
  t.true(wrong.status !== 0 || errorCodeOf('Journal', wrong) !== 'success');
  // Another message's bytes on this method: a FormatRequest as a NewEpochRequest.
  const other = await rawGrpc(rpc, 'NewEpoch', serialize('Format', { journalId, namespace, force: true }));
  t.not(errorCodeOf('NewEpoch', other), 'success');
  // An unknown method.
  const unknown = await rawGrpc(rpc, 'NoSuchMethod', Buffer.alloc(0));
  t.is(unknown.status, 12, 'UNIMPLEMENTED');
});

test.serial('bad input - oversized gRPC messages are refused', async (t) => {
  const { rpc } = ctx();
  // Above the batch limit but below the transport limit: a typed INVALID_ARGUMENT.
  const nineMiB = Buffer.alloc(9 * 1024 * 1024, 1);
  const big = await rawGrpc(rpc, 'Journal', journalRequestBytes({ journalId, epoch: 5n, firstTxId: 1_000_000n, count: 1n, records: nineMiB, crc: BigInt(crc32c(nineMiB)) }));
  t.is(errorCodeOf('Journal', big), 'INVALID_ARGUMENT');
  // Above the transport limit: RESOURCE_EXHAUSTED, and the message is never read in full.
  const huge = await rawGrpc(rpc, 'Journal', Buffer.alloc(1024), 64 * 1024 * 1024);
  t.is(huge.status, 8, `status ${huge.status} ${huge.message}`);
});

test.serial('bad input - unknown journal ids, negative and enormous txids, past and future epochs get typed errors', async (t) => {
  const { rpc, raw, committed } = ctx();
  const next = committed.lastTxId + 1;
  const records = frameRecords(next, [Buffer.from('impostor')]);
  const crc = BigInt(crc32c(records));
  const journal = async (fields: Partial<Parameters<typeof journalRequestBytes>[0]>): Promise<string> =>
    errorCodeOf('Journal', await rawGrpc(rpc, 'Journal', journalRequestBytes({ journalId, epoch: 5n, firstTxId: BigInt(next), count: 1n, records, crc, ...fields })));

  t.is(await journal({ journalId: 'no-such-journal' }), 'NOT_FORMATTED');
  t.is(await journal({ journalId: '../../etc/passwd' }), 'INVALID_ARGUMENT');
  t.is(await journal({ journalId: 'x'.repeat(10_000) }), 'INVALID_ARGUMENT');
  // -1 as a uint64 (2^64 - 1), 2^53 (not a safe integer), and a txid far past the end.
  t.is(await journal({ firstTxId: (1n << 64n) - 1n }), 'INVALID_ARGUMENT');
  t.is(await journal({ firstTxId: 1n << 53n }), 'INVALID_ARGUMENT');
  const farRecords = frameRecords(next + 1000, [Buffer.from('impostor')]);
  t.is(await journal({ firstTxId: BigInt(next + 1000), records: farRecords, crc: BigInt(crc32c(farRecords)) }), 'OUT_OF_ORDER');
  // Records whose txids are not the ones the request announces: refused before any state check.
  t.is(await journal({ firstTxId: BigInt(next + 1000) }), 'CORRUPT_RECORDS');
  t.is(await journal({ firstTxId: 0n }), 'INVALID_ARGUMENT');
  // Epochs: 0, from the past, the far future, and above 2^53.
  t.is(await journal({ epoch: 0n }), 'INVALID_ARGUMENT');
  t.is(await journal({ epoch: 4n }), 'EPOCH_FENCED');
  t.is(await journal({ epoch: (1n << 53n) - 1n }), 'EPOCH_NOT_PROMISED');
  t.is(await journal({ epoch: (1n << 63n) + 5n }), 'INVALID_ARGUMENT');
  // Damaged records: a checksum that does not match, a count that does not match.
  t.is(await journal({ crc: crc ^ 1n }), 'CORRUPT_RECORDS');
  t.not(await journal({ count: 2n }), 'success');

  const newEpoch = async (epoch: bigint): Promise<string> => {
    const body = Buffer.concat([serialize('NewEpoch', { journalId, namespace, writerId: 'impostor' }), Buffer.from([0x18]), varint(epoch)]);
    return errorCodeOf('NewEpoch', await rawGrpc(rpc, 'NewEpoch', body));
  };
  t.is(await newEpoch(3n), 'EPOCH_FENCED');
  t.is(await newEpoch(1n << 60n), 'INVALID_ARGUMENT');
  const startSegment = errorCodeOf('StartSegment', await rawGrpc(rpc, 'StartSegment', serialize('StartSegment', { journalId, epoch: 2, txId: next })));
  t.is(startSegment, 'EPOCH_FENCED');

  // Reads with hostile numbers.
  const read = async (fromTxId: bigint, maxCount = 10n): Promise<string> => {
    const id = Buffer.from(journalId);
    const body = Buffer.concat([Buffer.from([0x0a]), varint(BigInt(id.length)), id, Buffer.from([0x10]), varint(fromTxId), Buffer.from([0x18]), varint(maxCount)]);
    return errorCodeOf('GetJournaledEdits', await rawGrpc(rpc, 'GetJournaledEdits', body));
  };
  t.is(await read(0n), 'INVALID_ARGUMENT');
  t.is(await read((1n << 64n) - 1n), 'INVALID_ARGUMENT');
  t.is(await read(1n, 1n << 31n), 'INVALID_ARGUMENT');
  const past = await raw.getJournaledEdits(rpc, journalId, committed.lastTxId + 10, 10, 1024);
  t.is(past.success?.count ?? -1, 0, 'a read past the end holds nothing');
});

test.serial('bad input - garbage on the HTTP port: 4xx answers or a closed connection', async (t) => {
  const { http } = ctx();
  const junk = await rawExchange(http, Buffer.concat([createHash('sha256').update('h').digest(), Buffer.from('\r\n\r\n')]));
  t.regex(junk.reply, /^HTTP\/1\.1 400/);
  const truncated = await rawExchange(http, Buffer.from('GET /status HTTP/1.1\r\nHost: x\r\nContent-Le'), { endAfterWrite: true });
  t.true(truncated.closed);
  const hugeHeader = await rawExchange(http, Buffer.from(`GET /status HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`));
  t.regex(hugeHeader.reply, /^HTTP\/1\.1 431/);
  const get = async (path: string): Promise<number> => (await fetch(`http://${http}${path}`, { signal: AbortSignal.timeout(10_000) })).status;
  t.is(await get('/journals/no-such/manifest'), 404);
  t.is(await get('/journals/%2e%2e%2f%2e%2e/manifest'), 400);
  t.is(await get(`/journals/${journalId}/manifest?since=-1`), 400);
  t.is(await get(`/journals/${journalId}/manifest?since=1e309`), 400);
  t.is(await get(`/journals/${journalId}/segments/99999999999999999999`), 400);
  t.is(await get(`/journals/${journalId}/segments/0`), 400);
  t.is(await get(`/journals/${journalId}/segments/12345`), 404);
  t.is(await get(`/journals/${'x'.repeat(5000)}/manifest`), 400);
  const post = await fetch(`http://${http}/status`, { method: 'POST', body: Buffer.alloc(1024 * 1024), signal: AbortSignal.timeout(10_000) });
  t.true(post.status >= 400 && post.status < 500, `POST /status answered ${post.status}`);
});

/** Open a WebSocket tail by hand and never read from the socket after the handshake. */
async function silentTail(http: string, path: string): Promise<Socket> {
  const [host, port] = http.split(':');
  const socket = createConnection({ host: host!, port: Number(port) });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: ${http}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let head = '';
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData);
        socket.pause(); // from now on, never read
        resolve();
      }
    };
    socket.on('data', onData);
  });
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`no upgrade: ${head.slice(0, 100)}`);
  return socket;
}

test.serial('bad input - a WebSocket tail client that never reads is dropped; the node keeps writing and serving', async (t) => {
  const { http, writer, cluster } = ctx();
  const socket = await silentTail(http, `/journals/${journalId}/tail?from=1`);
  t.teardown(() => socket.destroy());
  const subscribers = async (): Promise<unknown[]> => ((await cluster.status(0)) as unknown as { tail: { subscribers: unknown[] } }).tail.subscribers;
  await waitFor(async () => (await subscribers()).length === 1, { what: 'the silent subscriber', timeoutMs: 10_000 });
  // Writes go on while the subscriber is stuck.
  const next = writer.nextTxId;
  await writer.write(next, [Buffer.from('during-stall-1'), Buffer.from('during-stall-2')]);
  await waitFor(async () => (await subscribers()).length === 0, { what: 'the slow consumer to be dropped', timeoutMs: 30_000 });
  // Hostile tail requests: bad from, unknown journal, bad id: an error frame and a close, or a refusal.
  for (const path of [`/journals/${journalId}/tail?from=-1`, '/journals/no-such/tail', '/journals/%ff/tail', `/journals/${journalId}/tail?from=99999999999999999999`]) {
    const reply = await rawExchange(
      http,
      Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`),
    );
    t.regex(reply.reply, /"type":"error"|^HTTP\/1\.1 [45]\d\d/, `${path}: ${reply.reply.slice(0, 120)}`);
  }
  // Added edits are committed; remember the new end for the final check.
  ctx().committed.lastTxId = next + 1;
});

test.serial('bad input - after all of it the node serves, and what was committed is unchanged', async (t) => {
  const c = ctx();
  t.true(c.cluster.isRunning(0));
  const state = await c.raw.getJournalState(c.rpc, journalId);
  t.is(state.success?.promisedEpoch, 5, 'no hostile request changed the promise');
  const now = await committedState(c, 20 + bigEdits);
  t.is(now.edits, c.committed.edits, 'the committed edits are byte for byte the same');
  t.is(now.files, c.committed.files, 'the finalized segment files are byte for byte the same');
  const next = c.writer.nextTxId;
  await c.writer.write(next, [Buffer.from('after')]);
  t.is((await c.raw.getJournalState(c.rpc, journalId)).success?.lastTxId, next);
});
