/** Reads of accepted sockets taken over (raft/transport/direct-read.ts), and the receiver's fallback. */
import test from 'ava';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { stopReads, takeOverReads } from '../../raft/transport/direct-read.ts';
import { decodeAckFrame, encodeBatchFrame } from '../../raft/transport/link-codec.ts';
import { FrameReader, PEER_LINK_PREFACE } from '../../raft/transport/peer-link.ts';
import { newTransportStats } from '../../raft/transport/stats.ts';
import { StreamReceiver } from '../../raft/transport/stream-receiver.ts';
import type { Message } from '../../raft/core/types.ts';
import { waitFor } from '../support/wait.ts';
import { GROUP, msgApp, pseudoRandomBytes } from './harness.ts';

/** A server whose first 'data' of each connection goes to `onFirst`; resolves with it and its port. */
async function listen(onFirst: (socket: Socket, chunk: Buffer) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => onFirst(socket, chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

test('direct read - a taken-over socket reads into the buffers it names; its server no longer counts the old one', async (t) => {
  const received = Buffer.alloc(300_000);
  let filled = 0;
  let taken: Socket | undefined;
  let firstChunk: Buffer = Buffer.alloc(0);
  const { server, port } = await listen((socket, chunk) => {
    stopReads(socket);
    firstChunk = chunk;
    // Each read goes into the next free part of `received`, at most 1,000 bytes at a time.
    taken = takeOverReads(socket, {
      buffer: () => received.subarray(filled, Math.min(received.length, filled + 1000)),
      callback: (bytes, buffer) => {
        t.is(buffer.byteOffset, received.byteOffset + filled, 'the read landed where it was told');
        filled += bytes;
        return true;
      },
    });
  });
  const payload = pseudoRandomBytes(250_000, 7);
  const client = connect(port, '127.0.0.1');
  client.on('error', () => {});
  client.write(payload);
  await waitFor(() => taken !== undefined && firstChunk.length + filled === payload.length, { what: 'every byte' });
  t.true(Buffer.concat([firstChunk, received.subarray(0, filled)]).equals(payload));
  // The taken socket writes too, and owns the connection: the server closes once it is gone.
  const echoed = new Promise<Buffer>((resolve) => client.once('data', resolve));
  taken!.write('pong');
  t.is((await echoed).toString(), 'pong');
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  taken!.destroy();
  await closed;
  client.destroy();
  // Nothing to take over: a closed socket, or one holding bytes not read yet.
  const idle = connect(port, '127.0.0.1');
  idle.on('error', () => {});
  t.is(takeOverReads(idle.destroy(), { buffer: () => Buffer.alloc(1), callback: () => true }), undefined);
});

test('direct read - a socket that cannot be taken over is read by data events: every batch arrives, counted as copied', async (t) => {
  const delivered: Message[] = [];
  const stats = newTransportStats();
  const receiver = new StreamReceiver({ id: 'b', groupId: GROUP, stats, frameBytesMax: 1 << 20, keepaliveTimeMs: 60_000, deliver: (messages) => delivered.push(...messages) });
  const { server, port } = await listen((socket, chunk) => {
    stopReads(socket);
    // Bytes left unread in the socket: Node will not hand its reads over.
    socket.unshift(chunk.subarray(3));
    receiver.handle(socket, chunk.subarray(0, 3));
  });
  t.teardown(() => {
    receiver.close();
    server.close();
  });
  const client = connect(port, '127.0.0.1');
  client.on('error', () => {});
  const acks: number[] = [];
  const decoder = new FrameReader(64);
  client.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) acks.push(decodeAckFrame(frame));
  });
  const frames: Uint8Array[] = [PEER_LINK_PREFACE];
  for (let sequence = 1; sequence <= 20; sequence++) {
    const { pieces } = encodeBatchFrame(sequence, [msgApp('a', 'b', sequence, pseudoRandomBytes(20_000, sequence))]);
    frames.push(...pieces);
  }
  client.write(Buffer.concat(frames));
  await waitFor(() => delivered.length === 20, { what: 'all batches' });
  t.deepEqual(
    delivered.map((m) => m.entries[0]!.index),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  t.true(delivered.every((m, i) => Buffer.from(m.entries[0]!.data).equals(pseudoRandomBytes(20_000, i + 1))));
  t.is(stats.copiedInbound, 1);
  t.is(stats.rejectedInbound, 0);
  await waitFor(() => acks.includes(0) && acks.includes(20), { what: 'the greeting and the last ack' });
  client.destroy();
});
