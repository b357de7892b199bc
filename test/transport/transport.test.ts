import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { connect } from 'node:net';
import { waitFor } from '../support/wait.ts';
import { BATCH_HEADER_BYTES, encodeAckFrame, encodeBatchFrame } from '../../raft/transport/link-codec.ts';
import { FRAME_HEADER_BYTES, PEER_LINK_PREFACE } from '../../raft/transport/peer-link.ts';
import type { Message } from '../../raft/core/types.ts';
import { connectAll, GROUP, message, msgApp, pseudoRandomBytes, startNode, linkFrame, resealBatchFrame, startTrackedNodes } from './harness.ts';
import { ACK_BYTES_MIN, ACK_DELAY_MS } from '../../raft/transport/stream-receiver.ts';

const node = startTrackedNodes((stopAll) => test.after.always(stopAll));

/** Connect to `port`, write `bytes`, and collect what comes back until the server closes the connection. */
function exchange(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** A free loopback port with nothing listening on it. */
async function freePort(): Promise<number> {
  const server = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e === null ? resolve(p) : reject(e))),
  );
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  return port;
}

test('transport - a burst of 10,000 MsgApp arrives complete and in order, three nodes both ways', async (t) => {
  const [a, b, c] = [await node('a'), await node('b'), await node('c')];
  connectAll([a, b, c]);
  const count = 10_000;
  // Sent over several turns and in one call, interleaved with traffic the other way.
  for (let start = 1; start <= count; start += 2500) {
    const batch = [];
    for (let i = start; i < start + 2500; i++) batch.push(msgApp('a', 'b', i), msgApp('a', 'c', i));
    a.transport.send(batch);
    c.transport.send([message({ type: 'MsgAppResp', from: 'c', to: 'a', index: start })]);
    await new Promise((resolve) => setImmediate(resolve));
  }
  b.transport.send([message({ type: 'MsgHeartbeatResp', from: 'b', to: 'a' })]);
  await waitFor(() => b.received.length === count && c.received.length === count && a.received.length === 5, { what: 'all messages' });
  for (const n of [b, c]) {
    t.deepEqual(
      n.received.map((m) => m.entries[0]!.index),
      Array.from({ length: count }, (_, i) => i + 1),
    );
    t.true(n.received.every((m) => m.type === 'MsgApp' && m.from === 'a' && m.to === n.id && m.groupId === GROUP));
  }
  t.deepEqual(
    a.received.filter((m) => m.from === 'c').map((m) => m.index),
    [1, 2501, 5001, 7501],
  );
  t.deepEqual(a.unreachable, []);
  // Every inbound link read straight into its frames (direct-read.ts), none through 'data' copies.
  for (const n of [a, b, c]) t.is(n.transport.stats().copiedInbound, 0, n.id);
  const stats = a.transport.stats();
  t.is(stats.sentMessages, 2 * count);
  t.true(stats.sentBatches < 2 * count / 10, `batched: ${stats.sentBatches} batches`);
  await waitFor(() => a.transport.stats().pendingBytes['b'] === 0, { what: 'acknowledged' });
});

test('transport - entry data, context and every field survive the wire', async (t) => {
  const [a, b] = [await node('a'), await node('b')];
  connectAll([a, b]);
  const data = pseudoRandomBytes(3000, 7);
  const sent = message({
    type: 'MsgAppResp',
    from: 'a',
    to: 'b',
    term: Number.MAX_SAFE_INTEGER,
    logTerm: 5,
    index: 2 ** 40,
    commit: 3,
    reject: true,
    rejectHint: 17,
    context: new Uint8Array([1, 2, 3]),
    entries: [
      { term: 4, index: 9, type: 'confChange', data },
      { term: 4, index: 10, type: 'normal', data: new Uint8Array(0) },
    ],
  });
  a.transport.send([sent]);
  await waitFor(() => b.received.length === 1);
  const got = b.received[0]!;
  t.deepEqual({ ...got, context: [...got.context], entries: got.entries.map((e) => ({ ...e, data: [...e.data] })) }, {
    ...sent,
    context: [1, 2, 3],
    entries: sent.entries.map((e) => ({ ...e, data: [...e.data] })),
  });
});

test('transport - a restarted peer receives again after reconnect, unreachable reported while it is down', async (t) => {
  const a = await node('a');
  let b = await startNode('b');
  connectAll([a, b]);
  a.transport.send([msgApp('a', 'b', 1)]);
  await waitFor(() => b.received.length === 1, { what: 'first message' });
  const port = b.port;
  await b.stop();
  // While b is down, sends fail and b is reported unreachable.
  await waitFor(
    () => {
      a.transport.send([msgApp('a', 'b', 2)]);
      return a.unreachable.includes('b');
    },
    { what: 'unreachable b' },
  );
  b = await node('b', { port });
  t.is(b.port, port);
  await waitFor(
    () => {
      a.transport.send([msgApp('a', 'b', 3)]);
      return b.received.length > 0;
    },
    { what: 'messages after restart' },
  );
  t.true(b.received.every((m) => m.from === 'a' && m.type === 'MsgApp'));
  t.true(a.transport.stats().streamFailures >= 1, JSON.stringify(a.transport.stats()));
});

test('transport - unreachable is reported for a peer that is down or has no address', async (t) => {
  const a = await node('a');
  a.transport.setPeer('z', `127.0.0.1:${await freePort()}`);
  a.transport.send([msgApp('a', 'z', 1), msgApp('a', 'nobody', 1)]);
  t.deepEqual(a.unreachable, [], 'never reported synchronously');
  await waitFor(() => a.unreachable.includes('z') && a.unreachable.includes('nobody'), { what: 'unreachable reports' });
  t.pass();
});

test('transport - an oversized message is refused by the sender and by the receiver, without crashing', async (t) => {
  const a = await node('a');
  const small = await node('small', { messageBytesMax: 64 * 1024 });
  connectAll([a, small]);
  // The receiver's limit is smaller than the sender's: its server refuses the batch.
  a.transport.send([msgApp('a', 'small', 1, new Uint8Array(200 * 1024))]);
  await waitFor(() => a.unreachable.includes('small'), { what: 'stream broken by the receiver' });
  t.deepEqual(small.received, []);
  // The link recovers: a small message goes through after the backoff.
  await waitFor(
    () => {
      a.transport.send([msgApp('a', 'small', 2)]);
      return small.received.length > 0;
    },
    { what: 'small message after the refusal' },
  );
  t.is(small.received[0]!.entries[0]!.index, 2);
  // The sender refuses a message over its own limit locally.
  small.transport.send([msgApp('small', 'a', 1, new Uint8Array(100 * 1024))]);
  await waitFor(() => small.unreachable.includes('a'));
  t.is(small.transport.stats().droppedOversize, 1);
});

test('transport - garbage on the port and malformed requests get errors, the server keeps serving', async (t) => {
  const [a, b] = [await node('a'), await node('b')];
  connectAll([a, b]);
  // Raw TCP garbage, then an HTTP/2 preface followed by garbage.
  for (const prefix of [Buffer.alloc(0), Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')]) {
    await new Promise<void>((resolve) => {
      const socket = connect(b.port, '127.0.0.1', () => {
        socket.write(Buffer.concat([prefix, pseudoRandomBytes(64 * 1024, 99)]));
        socket.end();
      });
      socket.on('data', () => {}); // consume what the server answers (SETTINGS, GOAWAY), so 'close' comes
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
  }
  // Peer links: after the preface, a frame that is not protobuf, frames with well-formed but
  // invalid fields, a batch out of sequence, a frame longer than allowed, a wrong preface. The
  // acceptor answers a good preface with the ack of sequence 0, then closes the link.
  const hello = linkFrame(encodeAckFrame(0));
  const frame = (sequence: number, messages: Message[]): Buffer => Buffer.concat(encodeBatchFrame(sequence, messages).pieces);
  const unknownType = frame(1, [msgApp('x', 'b', 1)]);
  unknownType[FRAME_HEADER_BYTES + BATCH_HEADER_BYTES] = 99; // the first message's type byte
  resealBatchFrame(unknownType);
  const flipped = frame(1, [msgApp('x', 'b', 1)]);
  flipped[flipped.length - 1]! ^= 1; // the last byte of the entry's data, CRC left as sent
  const cases: { what: string; bytes: Buffer; hello: boolean }[] = [
    { what: 'not a batch', bytes: Buffer.concat([PEER_LINK_PREFACE, linkFrame(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]))]), hello: true },
    { what: 'unsafe term', bytes: Buffer.concat([PEER_LINK_PREFACE, frame(1, [{ ...msgApp('x', 'b', 1), term: 2 ** 54 }])]), hello: true },
    { what: 'unknown type', bytes: Buffer.concat([PEER_LINK_PREFACE, unknownType]), hello: true },
    { what: 'a bit flipped', bytes: Buffer.concat([PEER_LINK_PREFACE, flipped]), hello: true },
    { what: 'bad sequence', bytes: Buffer.concat([PEER_LINK_PREFACE, frame(5, [])]), hello: true },
    { what: 'frame too long', bytes: Buffer.concat([PEER_LINK_PREFACE, Buffer.from([0xff, 0xff, 0xff, 0xff])]), hello: true },
    { what: 'wrong preface', bytes: Buffer.from('QJRAFT9\n'), hello: false },
  ];
  const rejectedBefore = b.transport.stats().rejectedInbound;
  for (const c of cases) {
    const answer = await exchange(b.port, c.bytes);
    t.deepEqual(answer, c.hello ? hello : Buffer.alloc(0), c.what);
  }
  t.is(b.transport.stats().rejectedInbound - rejectedBefore, cases.length);
  t.deepEqual(b.received, []);
  // Still serving.
  a.transport.send([msgApp('a', 'b', 1)]);
  await waitFor(() => b.received.length === 1, { what: 'message after garbage' });
});

test('transport - messages of another group or for another node are dropped and counted', async (t) => {
  const b = await node('b');
  const other = await node('x', { groupId: 'other-group' });
  const a = await node('a');
  other.transport.setPeer('b', b.address);
  a.transport.setPeer('c', b.address); // b listens where a believes c is
  other.transport.send([message({ type: 'MsgHeartbeat', from: 'x', to: 'b', groupId: 'other-group' })]);
  a.transport.send([message({ type: 'MsgHeartbeat', from: 'a', to: 'c' })]);
  await waitFor(() => b.transport.stats().droppedWrongGroup === 1 && b.transport.stats().droppedWrongRecipient === 1, { what: 'drops counted' });
  t.deepEqual(b.received, []);
  t.is(b.transport.stats().rejectedInbound, 0);
});

test('transport - setPeer to a new address moves the link; removePeer stops it', async (t) => {
  const [a, b1, b2] = [await node('a'), await node('b'), await node('b')];
  a.transport.setPeer('b', b1.address);
  a.transport.send([msgApp('a', 'b', 1)]);
  await waitFor(() => b1.received.length === 1);
  a.transport.setPeer('b', b2.address);
  a.transport.send([msgApp('a', 'b', 2)]);
  await waitFor(() => b2.received.length === 1);
  t.is(b1.received.length, 1);
  a.transport.removePeer('b');
  a.transport.send([msgApp('a', 'b', 3)]);
  await waitFor(() => a.unreachable.includes('b'));
  t.is(a.transport.stats().peers, 0);
});

test('transport - a full send queue drops messages and reports unreachable', async (t) => {
  const a = await node('a', { messageBytesMax: 64 * 1024, sendQueueBytesMax: 64 * 1024 });
  const b = await node('b');
  connectAll([a, b]);
  const burst = Array.from({ length: 20 }, (_, i) => msgApp('a', 'b', i + 1, new Uint8Array(8 * 1024)));
  a.transport.send(burst);
  const dropped = a.transport.stats().droppedQueueFull;
  t.true(dropped > 0 && dropped < 20, `dropped ${dropped}`);
  await waitFor(() => a.unreachable.includes('b') && b.received.length === 20 - dropped, { what: 'queued part delivered' });
  t.deepEqual(
    b.received.map((m) => m.entries[0]!.index),
    Array.from({ length: 20 - dropped }, (_, i) => i + 1),
  );
});

test('transport - acknowledgements are lazy: many small batches, few acks; the sender\'s bound is still released', async (t) => {
  const [a, b] = [await node('a'), await node('b')];
  connectAll([a, b]);
  // One small batch per event-loop turn (one per write in a journal under light load).
  const startedMs = performance.now();
  for (let i = 1; i <= 50; i++) {
    a.transport.send([msgApp('a', 'b', i)]);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await waitFor(() => b.received.length === 50, { what: 'the small batches' });
  const elapsedMs = performance.now() - startedMs;
  await waitFor(() => a.transport.stats().pendingBytes['b'] === 0, { what: 'small batches acknowledged (after ACK_DELAY_MS)' });
  const small = b.transport.stats();
  t.true(small.receivedBatches >= 40, `batches ${small.receivedBatches}`);
  // At most one ack per ACK_DELAY_MS of the run (plus the last): on a loaded machine the turns
  // spread out and more acks are due, but never one per batch.
  const acksAllowed = 2 + Math.ceil(elapsedMs / ACK_DELAY_MS);
  t.true(small.sentAcks <= acksAllowed, `${small.sentAcks} acks for ${small.receivedBatches} batches in ${Math.round(elapsedMs)} ms`);
  t.true(small.sentAcks < small.receivedBatches, `${small.sentAcks} acks for ${small.receivedBatches} batches`);
  // A batch of at least ACK_BYTES_MIN is acknowledged at the next turn, not after the delay.
  const acksBefore = small.sentAcks;
  a.transport.send([msgApp('a', 'b', 51, new Uint8Array(ACK_BYTES_MIN))]);
  await waitFor(() => b.transport.stats().sentAcks > acksBefore, { what: 'the large batch acknowledged' });
  await waitFor(() => a.transport.stats().pendingBytes['b'] === 0, { what: 'the bound released' });
  t.is(b.received.length, 51);
});
