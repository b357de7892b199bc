/**
 * Transport throughput between two GrpcRaftTransports in one process, on loopback:
 * - small messages (MsgHeartbeat, no entries): messages/s;
 * - MsgApp carrying 1 KiB entries (64 per message): MB/s of entry data.
 * The sender keeps at most `inflightBytesMax` unacknowledged, as the core's pipelining would.
 * Run: node --import tsx bench/transport.ts [--seconds N]
 */
import * as grpc from '@grpc/grpc-js';
import { makeMessage, type Message } from '../raft/core/types.ts';
import { GrpcRaftTransport, raftTransportChannelOptions, SharedPort } from '../raft/transport/index.ts';

const secondsArg = process.argv.indexOf('--seconds');
const durationMs = 1000 * (secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 3);
const inflightBytesMax = 8 * 1024 * 1024;

function base(type: Message['type']): Message {
  return makeMessage({ groupId: 'bench', type, from: 'a', to: 'b', term: 7, logTerm: 7 });
}

async function start(id: string, onMessages: (messages: Message[]) => void): Promise<{ transport: GrpcRaftTransport; server: grpc.Server; address: string }> {
  const server = new grpc.Server(raftTransportChannelOptions());
  const transport = new GrpcRaftTransport({
    id,
    groupId: 'bench',
    peers: new Map(),
    handlers: {
      onMessages,
      onUnreachable: (peer) => console.error(`unreachable ${peer}`),
      onSnapshotStatus: () => {},
      snapshotSource: () => Promise.reject(new Error('no snapshots in this bench')),
      snapshotSink: { beginReceive: () => Promise.reject(new Error('no snapshots in this bench')) },
    },
  });
  const { port } = await SharedPort.listen(server, '127.0.0.1', 0).then((shared) => {
    transport.addToServer(server, shared);
    return shared;
  });
  return { transport, server, address: `127.0.0.1:${port}` };
}

async function run(name: string, messagesPerTurn: number, make: (i: number) => Message, payloadBytes: (m: Message) => number): Promise<void> {
  let receivedMessages = 0;
  let receivedPayloadBytes = 0;
  const b = await start('b', (messages) => {
    receivedMessages += messages.length;
    for (const m of messages) receivedPayloadBytes += payloadBytes(m);
  });
  const a = await start('a', () => {});
  a.transport.setPeer('b', b.address);
  let sent = 0;
  const startedAt = performance.now();
  const cpuAtStart = process.cpuUsage();
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  while (performance.now() - startedAt < durationMs) {
    if ((a.transport.stats().pendingBytes['b'] ?? 0) < inflightBytesMax) {
      const batch: Message[] = [];
      for (let i = 0; i < messagesPerTurn; i++) batch.push(make(sent + i));
      a.transport.send(batch);
      sent += batch.length;
    }
    await turn();
  }
  while (receivedMessages < sent) await turn();
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const stats = a.transport.stats();
  console.log(
    `${name}: ${sent} messages in ${seconds.toFixed(2)} s = ${Math.round(sent / seconds).toLocaleString('en')} messages/s, ` +
      `${(receivedPayloadBytes / seconds / 1e6).toFixed(1)} MB/s payload, ${(stats.sentBytes / seconds / 1e6).toFixed(1)} MB/s on the wire, ` +
      `${stats.sentBatches} batches (${Math.round(sent / stats.sentBatches)} messages/batch); ` +
      `CPU ${cpuSeconds.toFixed(2)} s (both ends): ${Math.round(sent / cpuSeconds).toLocaleString('en')} messages/CPU-s, ` +
      `${(receivedPayloadBytes / cpuSeconds / 1e6).toFixed(1)} MB/CPU-s payload`,
  );
  await Promise.all([a.transport.close(), b.transport.close()]);
  a.server.forceShutdown();
  b.server.forceShutdown();
}

const entryData = new Uint8Array(1024).fill(7);
const entriesPerMessage = 64;

await run('small (MsgHeartbeat)', 1000, (i) => ({ ...base('MsgHeartbeat'), commit: i }), () => 0);
await run(
  `MsgApp ${entriesPerMessage} x 1 KiB entries`,
  32,
  (i) => ({
    ...base('MsgApp'),
    index: i * entriesPerMessage,
    entries: Array.from({ length: entriesPerMessage }, (_, j) => ({ term: 7, index: i * entriesPerMessage + j + 1, type: 'normal' as const, data: entryData })),
  }),
  (m) => m.entries.reduce((sum, e) => sum + e.data.length, 0),
);
