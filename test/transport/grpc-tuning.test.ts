/**
 * raft/transport/grpc-tuning.ts: a tuned grpc-js server advertises the wide per-stream window
 * and raises each connection's window; bad window sizes are refused.
 */
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import { flowControlChannelOptions, http2WindowBytes, tuneGrpcServer } from '../../raft/transport/grpc-tuning.ts';

function bind(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))));
}

async function sessionWindows(tune: boolean): Promise<{ stream: number; connection: number }> {
  const server = new grpc.Server();
  const tuned = tune ? tuneGrpcServer(server) : undefined;
  const port = await bind(server);
  tuned?.();
  const http2Servers = (server as unknown as { http2Servers: Map<Http2Server, unknown> }).http2Servers;
  const session = new Promise<ServerHttp2Session>((resolve) => {
    for (const http2Server of http2Servers.keys()) http2Server.once('session', resolve);
  });
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), flowControlChannelOptions());
  try {
    // Any call opens the connection; it fails (no such method), which does not matter here.
    await new Promise<void>((resolve) => {
      client.makeUnaryRequest('/none/None', (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0), () => resolve());
    });
    const s = await session;
    return { stream: s.localSettings.initialWindowSize ?? 0, connection: s.state.localWindowSize ?? 0 };
  } finally {
    client.close();
    server.forceShutdown();
  }
}

test('grpc tuning - a tuned server advertises the wide stream window and widens the connection window; an untuned one keeps 64 KiB', async (t) => {
  const tuned = await sessionWindows(true);
  t.is(tuned.stream, http2WindowBytes);
  t.true(tuned.connection >= http2WindowBytes - 65_535, `connection window ${tuned.connection}`);
  const plain = await sessionWindows(false);
  t.is(plain.stream, 65_535);
  t.true(plain.connection <= 65_535, `connection window ${plain.connection}`);
});

test('grpc tuning - window sizes outside HTTP/2 limits are refused', (t) => {
  t.throws(() => flowControlChannelOptions(1000), { instanceOf: RangeError });
  t.throws(() => flowControlChannelOptions(2 ** 31), { instanceOf: RangeError });
  t.throws(() => tuneGrpcServer(new grpc.Server(), 1.5), { instanceOf: RangeError });
});
