import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { connect, createServer, type Socket } from 'node:net';
import { ConnectProxy, FaultNetwork, FaultProxy } from '../../chaos/fault-proxy.ts';
import { decodeAckFrame, encodeAckFrame, encodeBatchFrame } from '../../raft/transport/link-codec.ts';
import { dialPeerLink, FrameReader, PEER_LINK_PREFACE, proxyFor, writePieces } from '../../raft/transport/peer-link.ts';
import { WireFormatError } from '../../raft/transport/errors.ts';
import { waitFor } from '../support/wait.ts';
import { connectAll, msgApp, pseudoRandomBytes, linkFrame, startTrackedNodes } from './harness.ts';

const node = startTrackedNodes((stopAll) => test.after.always(stopAll));

test('peer link - frames cut at every byte boundary come out whole and in order; a long length is refused before buffering', (t) => {
  const payloads = [pseudoRandomBytes(300, 1), Buffer.alloc(0), pseudoRandomBytes(1, 2), pseudoRandomBytes(1000, 3)];
  const stream = Buffer.concat(payloads.map((p) => linkFrame(p)));
  for (let cut = 0; cut <= stream.length; cut += 7) {
    const decoder = new FrameReader(1000);
    const frames = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
    t.deepEqual(
      frames.map((f) => Buffer.from(f)),
      payloads.map((p) => Buffer.from(p)),
      `cut at ${cut}`,
    );
    t.is(decoder.bufferedBytes(), 0);
  }
  // One byte at a time.
  const decoder = new FrameReader(1000);
  const frames: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) frames.push(...decoder.push(stream.subarray(i, i + 1)));
  t.is(frames.length, payloads.length);
  t.deepEqual(Buffer.concat(frames), Buffer.concat(payloads.map((p) => Buffer.from(p))));
  const small = new FrameReader(999);
  t.throws(() => small.push(linkFrame(pseudoRandomBytes(1000, 4)).subarray(0, 5)), { instanceOf: WireFormatError });
});

test('peer link - a frame reader places reads where it says, and every frame comes out whole, in order, not aliased to its scratch', (t) => {
  // Frames shorter and longer than the scratch (1 KiB here), empty ones, after a preface.
  const payloads: Buffer[] = [];
  for (let i = 0; i < 120; i++) payloads.push(pseudoRandomBytes(i % 9 === 0 ? 0 : (i * 7919) % 5000, i));
  const stream = Buffer.concat([PEER_LINK_PREFACE, ...payloads.map((p) => linkFrame(p))]);
  for (const seed of [1, 2, 3]) {
    const reader = new FrameReader(5000, PEER_LINK_PREFACE, 1024);
    const frames: Buffer[] = [];
    let at = 0;
    let state = seed;
    let sawPreface = false;
    // A read fills some of what nextBuffer() offers (at most all of it), as the kernel does.
    while (at < stream.length) {
      const target = reader.nextBuffer();
      t.true(target.length > 0);
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      const n = Math.min(target.length, stream.length - at, 1 + (state % 1500));
      stream.copy(target, 0, at, at + n);
      at += n;
      frames.push(...reader.filled(n));
      sawPreface ||= reader.prefaceComplete;
      if (!reader.prefaceComplete) t.is(frames.length, 0);
    }
    t.true(sawPreface);
    t.is(reader.bufferedBytes(), 0);
    t.is(frames.length, payloads.length);
    // Compared only now: a frame still pointing into the scratch would have been overwritten.
    frames.forEach((frame, i) => t.true(frame.equals(payloads[i]!), `seed ${seed}, frame ${i}`));
  }
  // push() copies bytes read elsewhere through the same path, one byte at a time too.
  const pushed = new FrameReader(5000, PEER_LINK_PREFACE, 1024);
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 1) out.push(...pushed.push(stream.subarray(i, i + 1)));
  t.deepEqual(Buffer.concat(out), Buffer.concat(payloads));
  // A wrong preface and a length above the bound are refused before any frame buffer is taken.
  t.throws(() => new FrameReader(5000, PEER_LINK_PREFACE).push(Buffer.from('QJRAFT2\n')), { instanceOf: WireFormatError });
  const bounded = new FrameReader(999, PEER_LINK_PREFACE);
  t.throws(() => bounded.push(Buffer.concat([PEER_LINK_PREFACE, linkFrame(pseudoRandomBytes(1000, 4)).subarray(0, 5)])), { instanceOf: WireFormatError });
  t.throws(() => new FrameReader(10, PEER_LINK_PREFACE, 8), { instanceOf: RangeError });
});

test('peer link - the proxy comes from the environment as for grpc-js', (t) => {
  t.is(proxyFor('10.0.0.1', {}), null);
  t.deepEqual(proxyFor('10.0.0.1', { grpc_proxy: 'http://127.0.0.1:3128', http_proxy: 'http://127.0.0.2:1' }), { host: '127.0.0.1', port: 3128 });
  t.deepEqual(proxyFor('10.0.0.1', { https_proxy: 'http://proxy.example' }), { host: 'proxy.example', port: 80 });
  t.deepEqual(proxyFor('10.0.0.1', { http_proxy: 'http://[::1]:8080' }), { host: '::1', port: 8080 });
  t.is(proxyFor('10.0.0.1', { grpc_proxy: 'https://127.0.0.1:3128' }), null, 'only http: proxies');
  t.is(proxyFor('10.0.0.1', { grpc_proxy: 'not a url' }), null);
  const proxied = (host: string, noProxy: string): boolean => proxyFor(host, { grpc_proxy: 'http://127.0.0.1:3128', no_grpc_proxy: noProxy }) !== null;
  t.false(proxied('10.0.0.1', 'a, 10.0.0.1'));
  t.true(proxied('10.0.0.1', '10.0.0.2'));
  t.false(proxied('jn1.example.org', '.example.org'), 'a suffix');
  t.true(proxied('jn1.example.com', '.example.org'));
  t.false(proxied('10.1.2.3', '10.0.0.0/8'), 'an IPv4 range');
  t.true(proxied('11.1.2.3', '10.0.0.0/8'));
  t.false(proxied('192.168.7.9', '192.168.7.0/24'));
  t.true(proxied('192.168.8.9', '192.168.7.0/24'));
  t.false(proxied('1.2.3.4', '0.0.0.0/0'));
  t.is(proxyFor('10.0.0.1', { grpc_proxy: 'http://127.0.0.1:3128', no_proxy: '10.0.0.1' }), null, 'no_proxy when no_grpc_proxy is unset');
  // An empty grpc_proxy falls through to the next variable, as in grpc-js.
  t.deepEqual(proxyFor('h', { grpc_proxy: '', http_proxy: 'http://127.0.0.1:9' }), { host: '127.0.0.1', port: 9 });
});

/** Dial `address` with `env`; resolves with the socket once the acceptor's first ack (sequence 0) arrived, or rejects when it closes. */
function dialAndGreet(address: string, env: NodeJS.ProcessEnv): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const decoder = new FrameReader(64);
    const socket: Socket = dialPeerLink(address, 5000, () => {
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) if (decodeAckFrame(frame) === 0) resolve(socket);
      });
    }, env);
    socket.on('error', () => {});
    socket.on('close', () => reject(new Error('closed before the greeting')));
  });
}

test('peer link - dialled through an HTTP CONNECT proxy, and refused when the proxy refuses', async (t) => {
  const b = await node('b');
  const network = new FaultNetwork();
  network.setAddress(b.address, 'b');
  const proxy = new ConnectProxy(network, 'a');
  await proxy.start();
  t.teardown(() => proxy.close());
  const env = { grpc_proxy: proxy.url };
  const socket = await dialAndGreet(b.address, env);
  t.is(network.stats.connectionsAccepted, 1, 'the link went through the proxy');
  writePieces(socket, encodeBatchFrame(1, [msgApp('a', 'b', 7)]).pieces);
  await waitFor(() => b.received.length === 1, { what: 'the batch through the tunnel' });
  t.is(b.received[0]!.entries[0]!.index, 7);
  socket.destroy();
  // A cut link: the proxy answers 403, the dial fails.
  network.setLink('a', 'b', { mode: 'cut' });
  await t.throwsAsync(dialAndGreet(b.address, env), { message: /closed before/ });
  t.true(network.stats.connectionsRefused >= 1);
});

test('peer link - gRPC and peer links share the port', async (t) => {
  const [a, b] = [await node('a'), await node('b')];
  connectAll([a, b]);
  a.transport.send([msgApp('a', 'b', 1)]);
  await waitFor(() => b.received.length === 1, { what: 'a message over the peer link' });
  // A gRPC call on the same port reaches grpc-js (an unknown method answers UNIMPLEMENTED).
  const client = new grpc.Client(b.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const status = await new Promise<grpc.ServiceError | null>((resolve) =>
    client.makeUnaryRequest('/no.Such/Method', (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(1), (error) => resolve(error)),
  );
  t.is(status?.code, grpc.status.UNIMPLEMENTED);
});

test('peer link - a path that goes silent breaks the link after the ack timeout; it comes back once healed', async (t) => {
  const b = await node('b');
  const a = await node('a', { ackTimeoutMs: 300 });
  const proxy = new FaultProxy('127.0.0.1', b.port);
  await proxy.start();
  t.teardown(() => proxy.close());
  a.transport.setPeer('b', proxy.address);
  a.transport.send([msgApp('a', 'b', 1)]);
  await waitFor(() => b.received.length === 1, { what: 'first message' });
  const failuresBefore = a.transport.stats().streamFailures;
  // Silent: bytes vanish both ways, the connection stays open.
  proxy.setMode('blackhole');
  a.transport.send([msgApp('a', 'b', 2)]);
  await waitFor(() => a.unreachable.includes('b'), { what: 'b reported unreachable', timeoutMs: 10_000 });
  t.true(a.transport.stats().streamFailures > failuresBefore);
  t.is(b.received.length, 1);
  proxy.setMode('pass');
  // Raft retries what was lost; here the test sends again until one arrives.
  await waitFor(
    () => {
      if (b.received.some((m) => m.entries[0]?.index === 3)) return true;
      a.transport.send([msgApp('a', 'b', 3)]);
      return false;
    },
    { what: 'a message after healing', timeoutMs: 10_000, intervalMs: 100 },
  );
  t.pass();
});

test('peer link - an address that cannot be dialled is reported unreachable, not thrown', async (t) => {
  const a = await node('a');
  a.transport.setPeer('b', 'no port here');
  a.transport.send([msgApp('a', 'b', 1)]);
  await waitFor(() => a.unreachable.includes('b'), { what: 'b reported unreachable' });
  t.true(a.transport.stats().streamFailures >= 1);
});

/** A raw peer link to `port`: preface written; resolves once connected. */
function rawLink(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(PEER_LINK_PREFACE);
      resolve({ socket, closed });
    });
    socket.on('data', () => {});
    socket.on('error', () => {});
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.once('error', reject);
  });
}

test('peer link - a newer link of the same sender replaces the older one; one link speaks for one sender', async (t) => {
  const b = await node('b');
  const first = await rawLink(b.port);
  writePieces(first.socket, encodeBatchFrame(1, [msgApp('a', 'b', 1)]).pieces);
  await waitFor(() => b.received.length === 1, { what: 'the first link delivers' });
  // The sender gave the first link up without its close reaching b (a silent path), then dialled again.
  const second = await rawLink(b.port);
  writePieces(second.socket, encodeBatchFrame(1, [msgApp('a', 'b', 2)]).pieces);
  await first.closed;
  await waitFor(() => b.received.length === 2, { what: 'the second link delivers' });
  t.is(b.transport.stats().replacedInbound, 1);
  t.false(second.socket.destroyed);
  // Another sender's link is not touched; a batch claiming two senders closes its link.
  const other = await rawLink(b.port);
  writePieces(other.socket, encodeBatchFrame(1, [msgApp('c', 'b', 1)]).pieces);
  await waitFor(() => b.received.length === 3, { what: 'c delivers' });
  const mixed = await rawLink(b.port);
  const rejected = b.transport.stats().rejectedInbound;
  writePieces(mixed.socket, encodeBatchFrame(1, [msgApp('d', 'b', 1), msgApp('e', 'b', 1)]).pieces);
  await mixed.closed;
  t.is(b.transport.stats().rejectedInbound, rejected + 1);
  t.is(b.received.length, 3);
  t.false(second.socket.destroyed || other.socket.destroyed);
  for (const link of [second, other]) link.socket.destroy();
});

test('peer link - an acknowledgement of a batch never sent breaks the link', async (t) => {
  // A fake acceptor: takes the link, then acknowledges sequence 0 and a batch far ahead.
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.on('error', () => socket.destroy());
    socket.once('data', () => socket.write(Buffer.concat([linkFrame(encodeAckFrame(0)), linkFrame(encodeAckFrame(99))])));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const a = await node('a');
  a.transport.setPeer('b', `127.0.0.1:${port}`);
  a.transport.send([msgApp('a', 'b', 1)]);
  await waitFor(() => a.unreachable.includes('b'), { what: 'b reported unreachable' });
  t.true(connections >= 1);
});
