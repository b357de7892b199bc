/**
 * Test support for raft/transport: transports on real loopback gRPC servers, a small
 * file-based snapshot sink (the receiving side of a snapshot store), message builders.
 */
import * as grpc from '@grpc/grpc-js';
import { crc32c } from '@node-rs/crc32';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { makeMessage, EMPTY_BYTES, EMPTY_CONF_STATE, type Message, type NodeId, type SnapshotMeta } from '../../raft/core/types.ts';
import {
  GrpcRaftTransport,
  raftTransportChannelOptions,
  SharedPort,
  type GrpcRaftTransportOptions,
  type SnapshotFileInfo,
  type SnapshotReceiveLike,
  type SnapshotSinkLike,
} from '../../raft/transport/index.ts';
import { FRAME_HEADER_BYTES } from '../../raft/transport/peer-link.ts';

export const GROUP = 'g1';

/** Temporary directories made by {@link tempDir}, removed when the test process exits. */
const tempDirs: string[] = [];
process.on('exit', () => {
  if (process.env['QJ_KEEP_DATA'] !== undefined) return;
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory (removed when the test process exits, unless QJ_KEEP_DATA is set). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `qj-transport-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** A message with zero values everywhere but what `fields` sets. */
export function message(fields: Partial<Message> & Pick<Message, 'type' | 'from' | 'to'>): Message {
  return makeMessage({ groupId: GROUP, term: 1, ...fields });
}

/** A MsgApp carrying one entry of `data` at `index`. */
export function msgApp(from: NodeId, to: NodeId, index: number, data: Uint8Array = new Uint8Array(16)): Message {
  return message({ type: 'MsgApp', from, to, index: index - 1, logTerm: 1, commit: index - 1, entries: [{ term: 1, index, type: 'normal', data }] });
}

/** Deterministic pseudo-random bytes (xorshift32), so a failing run replays. */
export function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A file-based snapshot sink: receives into `<root>/receiving-<index>-<term>/`, verifies
 * sizes and CRC-32C at finish, publishes by renaming to `<root>/snapshot-<index>-<term>/`.
 * Records every chunk write for the tests to inspect.
 */
export class FileSnapshotSink implements SnapshotSinkLike {
  readonly writes: { name: string; offset: number; bytes: number }[] = [];
  readonly published: { meta: SnapshotMeta; dir: string }[] = [];
  /** Test hook run before each chunk write: throw to fail it, await to hold it. */
  beforeWrite: ((name: string, offset: number) => Promise<void> | void) | null = null;

  constructor(readonly root: string) {}

  async beginReceive(meta: SnapshotMeta, files: readonly SnapshotFileInfo[]): Promise<SnapshotReceiveLike> {
    const staging = join(this.root, `receiving-${meta.index}-${meta.term}`);
    await mkdir(staging, { recursive: true });
    /** Durable bytes per file, and the end of the last accepted chunk (writes may be pipelined). */
    const durable = new Map<string, number>();
    for (const f of files) durable.set(f.name, await stat(join(staging, f.name)).then((s) => s.size, () => 0));
    const accepted = new Map(durable);
    let chain: Promise<void> = Promise.resolve();
    let failed: { error: unknown } | null = null;
    return {
      offsetOf: (name) => durable.get(name) ?? 0,
      writeChunk: (name, offset, data) => {
        if (offset !== accepted.get(name)) return Promise.reject(new Error(`test sink: write of ${name} at ${offset}, expected ${accepted.get(name)}`));
        accepted.set(name, offset + data.length);
        const write = async (): Promise<void> => {
          if (failed !== null) throw failed.error; // nothing after a failed write: no holes
          try {
            await this.beforeWrite?.(name, offset);
          } catch (error) {
            failed = { error };
            throw error;
          }
          await mkdir(dirname(join(staging, name)), { recursive: true });
          const handle = await open(join(staging, name), offset === 0 ? 'w' : 'r+');
          try {
            await handle.write(data, 0, data.length, offset);
            await handle.sync();
          } finally {
            await handle.close();
          }
          durable.set(name, offset + data.length);
          this.writes.push({ name, offset, bytes: data.length });
        };
        const done = chain.then(write);
        chain = done.catch(() => {});
        return done;
      },
      finish: async () => {
        for (const f of files) {
          const path = join(staging, f.name);
          const content = await readFile(path).catch(() => Buffer.alloc(0));
          if (content.length !== f.bytes || crc32c(content) !== f.crc32c) {
            await rm(path, { force: true });
            throw new Error(`test sink: ${f.name} does not match its manifest`);
          }
          if (f.bytes === 0) {
            await mkdir(dirname(path), { recursive: true });
            await writeFile(path, EMPTY_BYTES);
          }
        }
        const dir = join(this.root, `snapshot-${meta.index}-${meta.term}`);
        await rename(staging, dir);
        this.published.push({ meta, dir });
        return { meta, dir, files };
      },
    };
  }
}

/** Write `contents` as files under a new directory; returns the directory and its manifest. */
export async function writeFileSet(contents: Record<string, Buffer>): Promise<{ dir: string; files: SnapshotFileInfo[] }> {
  const dir = tempDir('source');
  const files: SnapshotFileInfo[] = [];
  for (const [name, data] of Object.entries(contents)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), data);
    files.push({ name, bytes: data.length, crc32c: crc32c(data) });
  }
  return { dir, files };
}

/** The names and contents of the files of `dir`. */
export async function readFileSet(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out[relative(dir, join(entry.parentPath, entry.name))] = await readFile(join(entry.parentPath, entry.name));
  }
  return out;
}

export const SNAPSHOT_META: SnapshotMeta = { index: 100, term: 3, confState: { ...EMPTY_CONF_STATE, voters: ['a', 'b'] } };

/** One transport on its own loopback server, with everything its handlers saw. */
export interface TestNode {
  readonly id: NodeId;
  readonly transport: GrpcRaftTransport;
  readonly server: grpc.Server;
  readonly port: number;
  readonly address: string;
  readonly received: Message[];
  readonly unreachable: NodeId[];
  readonly snapshotStatus: { peer: NodeId; ok: boolean }[];
  readonly sink: FileSnapshotSink;
  /** Snapshot sources by snapshot index, for the sender side. */
  readonly sources: Map<number, { dir: string; files: SnapshotFileInfo[] }>;
  stop(): Promise<void>;
}

export interface StartNodeOptions extends Partial<Omit<GrpcRaftTransportOptions, 'id' | 'handlers'>> {
  /** Port to bind (0: any free port). */
  readonly port?: number;
}

/** Start a transport `id` on a new server bound to 127.0.0.1. */
export async function startNode(id: NodeId, options: StartNodeOptions = {}): Promise<TestNode> {
  const messageBytesMax = options.messageBytesMax;
  const server = new grpc.Server(raftTransportChannelOptions(messageBytesMax));
  const received: Message[] = [];
  const unreachable: NodeId[] = [];
  const snapshotStatus: { peer: NodeId; ok: boolean }[] = [];
  const sink = new FileSnapshotSink(tempDir(`sink-${id}`));
  const sources = new Map<number, { dir: string; files: SnapshotFileInfo[] }>();
  const { port: requestedPort, ...rest } = options;
  const transport = new GrpcRaftTransport({
    reconnectBackoffMs: { initial: 20, max: 200 },
    peers: new Map(),
    groupId: GROUP,
    ...rest,
    id,
    handlers: {
      onMessages: (messages) => received.push(...messages),
      onUnreachable: (peer) => unreachable.push(peer),
      onSnapshotStatus: (peer, ok) => snapshotStatus.push({ peer, ok }),
      snapshotSource: async (meta) => {
        const source = sources.get(meta.index);
        if (source === undefined) throw new Error(`no source for snapshot ${meta.index}`);
        return source;
      },
      snapshotSink: sink,
    },
  });
  const shared = await SharedPort.listen(server, '127.0.0.1', requestedPort ?? 0);
  transport.addToServer(server, shared);
  const port = shared.port;
  return {
    id,
    transport,
    server,
    port,
    address: `127.0.0.1:${port}`,
    received,
    unreachable,
    snapshotStatus,
    sink,
    sources,
    async stop() {
      await transport.close();
      server.forceShutdown();
      await shared.close();
    },
  };
}

/**
 * A startNode whose nodes are all stopped once the file's tests are done: `register` receives
 * the function that stops them (`(stopAll) => test.after.always(stopAll)`).
 */
export function startTrackedNodes(register: (stopAll: () => Promise<void>) => void): typeof startNode {
  const nodes: TestNode[] = [];
  register(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });
  return async (...args) => {
    const n = await startNode(...args);
    nodes.push(n);
    return n;
  };
}

/** A peer-link frame holding `payload` (its length prefix, then the payload). */
export function linkFrame(payload: Uint8Array): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32LE(payload.length);
  return Buffer.concat([header, payload]);
}

/**
 * Recompute the CRC of a batch frame (length prefix included) whose entries are all small (no
 * data of their own CRC), after a test changed its bytes on purpose: the frame then reaches the
 * checks that come after the CRC's.
 */
export function resealBatchFrame(frame: Buffer): Buffer {
  frame.writeUInt32LE(crc32c(frame.subarray(FRAME_HEADER_BYTES + 5)), FRAME_HEADER_BYTES + 1);
  return frame;
}

/** Make every node a peer of every other. */
export function connectAll(nodes: readonly TestNode[]): void {
  for (const a of nodes) for (const b of nodes) if (a !== b) a.transport.setPeer(b.id, b.address);
}
