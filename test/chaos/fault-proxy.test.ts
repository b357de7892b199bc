/**
 * The fault proxy on real loopback sockets: CONNECT admission, cut, one-way drop (and the
 * teardown of a damaged connection when it heals), ordered delay, and gRPC through `grpc_proxy`.
 */
import test, { type ExecutionContext } from 'ava';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ConnectProxy, FaultNetwork, FaultProxy } from '../../chaos/fault-proxy.ts';
import { loadJournalProtocol } from '../../journalnode/protocol/load.ts';
import { waitFor } from '../support/wait.ts';

/** An echo server that also records what it received. */
async function echoServer(): Promise<{ server: Server; port: number; received: () => string; sockets: Set<Socket> }> {
  let received = '';
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      socket.write(chunk);
    });
    socket.on('error', () => socket.destroy());
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { server, port, received: () => received, sockets };
}

/** Dial `port`, send a CONNECT to `target`, resolve with the socket and the status line. */
async function connectVia(port: number, target: string): Promise<{ socket: Socket; status: string; data: () => string; closed: () => boolean }> {
  const socket = createConnection({ host: '127.0.0.1', port });
  let text = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.once('close', () => (closed = true));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  await waitFor(() => text.includes('\r\n\r\n') || closed, { what: 'the CONNECT answer' });
  const end = text.indexOf('\r\n\r\n');
  const status = text.slice(0, text.indexOf('\r\n'));
  const bodyStart = end < 0 ? text.length : end + 4;
  return { socket, status, data: () => text.slice(bodyStart), closed: () => closed };
}

/** An echo server at `jn1` behind a CONNECT proxy of `m1`, both closed at teardown. */
async function proxiedEcho(t: ExecutionContext): Promise<{ echo: Awaited<ReturnType<typeof echoServer>>; network: FaultNetwork; proxy: ConnectProxy }> {
  const echo = await echoServer();
  const network = new FaultNetwork();
  network.setAddress(`127.0.0.1:${echo.port}`, 'jn1');
  const proxy = new ConnectProxy(network, 'm1');
  await proxy.start();
  t.teardown(async () => {
    await proxy.close();
    echo.server.close();
  });
  return { echo, network, proxy };
}

test('chaos - a CONNECT is spliced to the target and echoes both ways', async (t) => {
  const { echo, proxy } = await proxiedEcho(t);
  const c = await connectVia(proxy.port, `127.0.0.1:${echo.port}`);
  t.is(c.status, 'HTTP/1.1 200 Connection established');
  c.socket.write('hello');
  await waitFor(() => c.data() === 'hello', { what: 'the echo' });
  t.is(echo.received(), 'hello');
  c.socket.destroy();
});

test('chaos - a cut link refuses new connections and resets live ones; heal lets them through', async (t) => {
  const { echo, network, proxy } = await proxiedEcho(t);
  const live = await connectVia(proxy.port, `127.0.0.1:${echo.port}`);
  network.setLink('m1', 'jn1', { mode: 'cut' });
  await waitFor(() => live.closed(), { what: 'the reset of the live connection' });
  const refused = await connectVia(proxy.port, `127.0.0.1:${echo.port}`);
  t.is(refused.status, 'HTTP/1.1 403 Forbidden');
  // The reverse link is not cut: jn1 -> m1 connections would pass (nothing dials that way here).
  t.is(network.rule('jn1', 'm1').mode, 'pass');
  network.healAll();
  const again = await connectVia(proxy.port, `127.0.0.1:${echo.port}`);
  t.is(again.status, 'HTTP/1.1 200 Connection established');
  again.socket.destroy();
  t.true(network.stats.connectionsRefused >= 1);
  t.true(network.stats.connectionsReset >= 1);
});

test('chaos - a one-way drop loses bytes in one direction only, and the damaged connection is torn down on heal', async (t) => {
  const { echo, network, proxy } = await proxiedEcho(t);
  const c = await connectVia(proxy.port, `127.0.0.1:${echo.port}`);
  // Replies (jn1 -> m1) are dropped; requests (m1 -> jn1) arrive.
  network.partitionOneWay(['jn1'], ['m1'], 'drop');
  c.socket.write('ping');
  await waitFor(() => echo.received() === 'ping', { what: 'the request at the server' });
  await waitFor(() => network.stats.bytesDropped >= 4, { what: 'the dropped reply' });
  t.is(c.data(), '');
  t.false(c.closed());
  network.healAll();
  await waitFor(() => c.closed(), { what: 'the teardown of the damaged connection' });
});

test('chaos - delayed bytes keep their order when the delay shrinks', async (t) => {
  const { echo, network, proxy } = await proxiedEcho(t);
  const c = await connectVia(proxy.port, `127.0.0.1:${echo.port}`);
  network.setLink('m1', 'jn1', { delayMs: 300 });
  c.socket.write('a');
  // Wait until the first byte is held before the delay changes.
  await waitFor(() => network.stats.bytesDelayed >= 1, { what: 'the first byte held' });
  network.setLink('m1', 'jn1', { delayMs: 1 });
  c.socket.write('b');
  await waitFor(() => echo.received().length === 2, { what: 'both bytes' });
  t.is(echo.received(), 'ab');
  c.socket.destroy();
});

test('chaos - a CONNECT to a non-loopback host or a malformed request is refused', async (t) => {
  const network = new FaultNetwork();
  const proxy = new ConnectProxy(network, 'm1');
  await proxy.start();
  t.teardown(() => proxy.close());
  const remote = await connectVia(proxy.port, '192.0.2.1:80');
  t.is(remote.status, 'HTTP/1.1 400 Bad Request');
  const junk = await connectVia(proxy.port, 'not an address');
  t.is(junk.status, 'HTTP/1.1 400 Bad Request');
});

test('chaos - the plain forwarder keeps the tests API: cut, blackhole, pass', async (t) => {
  const echo = await echoServer();
  const proxy = new FaultProxy('127.0.0.1', echo.port);
  await proxy.start();
  t.teardown(async () => {
    await proxy.close();
    echo.server.close();
  });
  const socket = createConnection({ host: '127.0.0.1', port: proxy.port });
  let text = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.once('close', () => (closed = true));
  socket.write('x');
  await waitFor(() => text === 'x', { what: 'the echo' });
  proxy.setMode('blackhole');
  socket.write('y');
  await waitFor(() => proxy.network.stats.bytesDropped >= 1, { what: 'the swallowed byte' });
  t.is(text, 'x');
  proxy.setMode('cut');
  await waitFor(() => closed, { what: 'the reset' });
  proxy.setMode('pass');
});

test('chaos - grpc-js dials through the CONNECT proxy when grpc_proxy is set, and a cut fails the call', async (t) => {
  // A QJournal server that answers GetJournalState with NOT_FORMATTED-like errors is enough:
  // any answer proves the path.
  const protocol = loadJournalProtocol();
  const server = new grpc.Server();
  server.addService(protocol.qjournal.v1.QJournal.service, {
    GetJournalState: (_call: unknown, callback: (error: null, response: object) => void) => callback(null, { error: { code: 'NOT_FORMATTED', message: 'x' } }),
  } as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  const network = new FaultNetwork();
  network.setAddress(`127.0.0.1:${port}`, 'jn1');
  const proxy = new ConnectProxy(network, 'm1');
  await proxy.start();
  const previous = process.env['grpc_proxy'];
  process.env['grpc_proxy'] = proxy.url;
  const client = new protocol.qjournal.v1.QJournal(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.teardown(async () => {
    client.close();
    if (previous === undefined) delete process.env['grpc_proxy'];
    else process.env['grpc_proxy'] = previous;
    await proxy.close();
    server.forceShutdown();
  });
  const call = (): Promise<string> =>
    new Promise((resolve) => {
      client.getJournalState({ journalId: 'j1' }, { deadline: Date.now() + 2000 }, (error, response) => {
        resolve(error !== null ? `error ${grpc.status[error.code]}` : `answer ${response?.error?.code ?? 'success'}`);
      });
    });
  t.is(await call(), 'answer NOT_FORMATTED');
  t.true(network.stats.connectionsAccepted >= 1);
  network.setLink('m1', 'jn1', { mode: 'cut' });
  t.regex(await call(), /^error /);
  network.healAll();
  await waitFor(async () => (await call()) === 'answer NOT_FORMATTED', { timeoutMs: 10_000, what: 'the call after the heal' });
  t.pass();
});

test('chaos - a corrupt link flips single bits at about the rate asked, loses and adds nothing, and spares connections that start with another byte', async (t) => {
  const { echo, network, proxy } = await proxiedEcho(t);
  network.setLink('m1', 'jn1', { corrupt: { everyBytes: 1000, firstByte: 'Q'.charCodeAt(0) } });
  t.deepEqual(network.describe(), ['m1->jn1 pass corrupt/1000B']);
  const bytes = 100_000;
  const send = async (first: string): Promise<Buffer> => {
    const before = echo.received().length;
    const c = await connectVia(proxy.port, `127.0.0.1:${echo.port}`);
    t.is(c.status, 'HTTP/1.1 200 Connection established');
    c.socket.write(Buffer.concat([Buffer.from(first, 'latin1'), Buffer.alloc(bytes)]));
    await waitFor(() => echo.received().length - before === bytes + 1, { what: `${bytes + 1} bytes at the server` });
    c.socket.destroy();
    return Buffer.from(echo.received().slice(before), 'latin1');
  };
  const ones = (buf: Buffer): number => {
    let n = 0;
    for (const byte of buf) for (let v = byte; v !== 0; v &= v - 1) n += 1;
    return n;
  };
  // Peer links start with 'Q': bits flipped, one at a time (zeros were sent), gaps of 500..1500 bytes.
  const damaged = await send('Q');
  const flipped = ones(damaged.subarray(1));
  t.is(flipped, network.stats.bitsFlipped);
  t.true(flipped >= Math.floor(bytes / 1500) && flipped <= Math.ceil(bytes / 500), `${flipped} bits flipped in ${bytes} bytes`);
  // gRPC connections start with 'P': untouched.
  const clean = await send('P');
  t.is(ones(clean.subarray(1)), 0);
  t.is(network.stats.bitsFlipped, flipped);
  network.healAll();
  t.deepEqual(network.describe(), []);
  t.throws(() => network.setLink('m1', 'jn1', { corrupt: { everyBytes: 1 } }), { instanceOf: RangeError });
});
