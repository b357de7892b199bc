/**
 * A Raft node process for the runtime's tests: a RaftNode with the KV state machine, the raft
 * transport and admin service on one gRPC port, and a tiny HTTP API:
 *   POST /put  (body `key=value`)  -> 200 {index} once applied here (leader), 421 {leader} otherwise
 *   GET  /get?key=K                 -> after a ReadIndex barrier: {value}
 *   GET  /dump                      -> {data, lastIndex} (no barrier)
 *   GET  /status                    -> the node's status
 * Configuration comes as JSON in argv[2]. Prints `kv-node: id=ID rpc=ADDR http=ADDR` when up.
 */
import * as grpc from '@grpc/grpc-js';
import { SharedPort } from '../../raft/transport/index.ts';
import { createServer, type ServerResponse } from 'node:http';
import { RaftNode } from '../../raft/node.ts';
import { addAdminService } from '../../raft/admin/service.ts';
import { NotLeaderError } from '../../raft/errors.ts';
import { KvStateMachine } from './kv-state-machine.ts';

interface KvNodeConfig {
  id: string;
  dataDir: string;
  rpc: string;
  peers: Record<string, string>;
  join?: boolean;
  tickMs?: number;
  electionTicks?: number;
  snapshotEntries?: number;
  snapshotKeepEntries?: number;
  laggingFollowerCacheBytes?: number;
  dialOverrides?: Record<string, string>;
}

const config = JSON.parse(process.argv[2] ?? '{}') as KvNodeConfig;
const sm = new KvStateMachine();
const node = new RaftNode({
  id: config.id,
  groupId: 'kv',
  dataDir: config.dataDir,
  initialPeers: new Map(Object.entries(config.peers)),
  join: config.join ?? false,
  stateMachine: sm,
  tickMs: config.tickMs ?? 50,
  electionTicks: config.electionTicks ?? 10,
  snapshotEntries: config.snapshotEntries ?? 100_000,
  snapshotKeepEntries: config.snapshotKeepEntries ?? 1000,
  laggingFollowerCacheBytes: config.laggingFollowerCacheBytes,
  dialOverrides: new Map(Object.entries(config.dialOverrides ?? {})),
  onFatal: (e) => {
    console.error(`kv-node: fatal: ${e.message}`);
    process.exit(1);
  },
});
await node.start();
const server = new grpc.Server({ 'grpc.max_receive_message_length': 32 * 1024 * 1024, 'grpc.max_send_message_length': 32 * 1024 * 1024 });
node.addToServer(server, await SharedPort.listenAt(server, config.rpc));
addAdminService(server, (g) => (g === '' || g === 'kv' ? node : undefined));

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const http = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'POST' && url.pathname === '/put') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      node.propose(Buffer.concat(chunks)).then(
        (result) => send(res, 200, result),
        (e: unknown) => {
          if (e instanceof NotLeaderError) send(res, 421, { error: 'not leader', leader: e.leaderId });
          else send(res, 503, { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
        },
      );
    });
    return;
  }
  if (url.pathname === '/get') {
    node.readIndex(2000).then(
      () => send(res, 200, { value: sm.data.get(url.searchParams.get('key') ?? '') ?? null }),
      (e: unknown) => send(res, 503, { error: e instanceof Error ? e.message : String(e) }),
    );
    return;
  }
  if (url.pathname === '/dump') return send(res, 200, { data: Object.fromEntries(sm.data), lastIndex: sm.lastIndex, writes: sm.writes });
  if (url.pathname === '/status') return send(res, 200, node.status());
  send(res, 404, { error: 'not found' });
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const address = http.address();
const httpPort = typeof address === 'object' && address ? address.port : 0;
console.log(`kv-node: id=${config.id} rpc=${config.rpc} http=127.0.0.1:${httpPort}`);

const shutdown = (): void => {
  void node.stop().then(() => {
    server.forceShutdown();
    http.close();
    process.exit(0);
  });
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
