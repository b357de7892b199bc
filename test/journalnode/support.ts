/**
 * Test support for the JournalNode tests: a small QJournal client over grpc-js and the generated
 * types (not libqjm: these tests check the server on its own), leader routing that follows
 * NOT_LEADER hints, deterministic edits, and file comparisons.
 */
import * as grpc from '@grpc/grpc-js';
import { crc32c } from '@node-rs/crc32';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadJournalProtocol } from '../../journalnode/protocol/load.ts';
import { grpcMessageBytesMax } from '../../journalnode/protocol/limits.ts';
import { frameRecords, parseRecords, type EditRecord } from '../../journalnode/protocol/records.ts';
import type { QJournalClient } from '../../journalnode/protocol/generated/qjournal/v1/QJournal.ts';
import type { JournalError__Output } from '../../journalnode/protocol/generated/qjournal/v1/JournalError.ts';
import type { JournalRequest } from '../../journalnode/protocol/generated/qjournal/v1/JournalRequest.ts';
import type { JournalResponse__Output } from '../../journalnode/protocol/generated/qjournal/v1/JournalResponse.ts';
import type { NamespaceInfo } from '../../journalnode/protocol/generated/qjournal/v1/NamespaceInfo.ts';
import { waitFor } from '../support/wait.ts';
import type { JournalCluster } from '../support/cluster.ts';

export const namespace: NamespaceInfo = { nsId: 'ns-1', clusterId: 'cluster-1', blockPoolId: 'bp-1', layoutVersion: -66 };

/** A client per address, with the protocol's message limits both ways. */
export function qjournalClient(address: string, options: { ownConnection?: boolean } = {}): QJournalClient {
  const { QJournal } = loadJournalProtocol().qjournal.v1;
  return new QJournal(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': grpcMessageBytesMax,
    'grpc.max_send_message_length': grpcMessageBytesMax,
    // grpc-js shares a connection (subchannel) among the clients of a process with the same
    // address and options, with its reconnect backoff: a new client of a node that was down
    // fails at once (UNAVAILABLE) until the shared backoff ends, unless it has its own.
    ...(options.ownConnection === true ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
  });
}

/** A oneof response. */
interface OneOf<S> {
  readonly success?: S | null;
  readonly error?: JournalError__Output | null;
  readonly result?: 'success' | 'error';
}

type UnaryFn<Req, Res> = (request: Req, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: Res) => void) => unknown;

/** Call a unary method with a deadline; rejects on a gRPC error. */
export function unary<Req, Res>(client: QJournalClient, method: string, request: Req, timeoutMs = 10_000): Promise<Res> {
  const fn = (client as unknown as Record<string, UnaryFn<Req, Res>>)[method]!.bind(client);
  return new Promise((resolve, reject) => {
    fn(request, { deadline: Date.now() + timeoutMs }, (error, response) => (error ? reject(error) : resolve(response!)));
  });
}

/** Routes calls to the leader: follows NOT_LEADER hints, retries UNAVAILABLE and dead nodes. */
export class LeaderRouter {
  private readonly clients = new Map<string, QJournalClient>();
  leader: string;

  constructor(readonly addresses: readonly string[]) {
    this.leader = addresses[0]!;
  }

  client(address: string): QJournalClient {
    let c = this.clients.get(address);
    if (c === undefined) this.clients.set(address, (c = qjournalClient(address)));
    return c;
  }

  /**
   * Call `method` on the leader until it answers something other than NOT_LEADER/UNAVAILABLE
   * (or a transport error); returns that answer.
   */
  async call<S>(method: string, request: object, timeoutMs = 30_000): Promise<OneOf<S>> {
    const deadline = Date.now() + timeoutMs;
    let attempt = 0;
    for (;;) {
      let response: OneOf<S> | undefined;
      try {
        response = await unary<object, OneOf<S>>(this.client(this.leader), method, request, 5_000);
      } catch {
        response = undefined;
      }
      if (response !== undefined && response.error?.code !== 'NOT_LEADER' && response.error?.code !== 'UNAVAILABLE') return response;
      if (Date.now() > deadline) throw new Error(`${method}: no leader answered within ${timeoutMs} ms (last: ${JSON.stringify(response?.error)})`);
      const hint = response?.error?.leaderHint;
      if (hint !== undefined && hint !== '' && hint !== this.leader) {
        this.leader = hint;
      } else {
        attempt += 1;
        this.leader = this.addresses[attempt % this.addresses.length]!;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Like `call`, but the answer must be a success. */
  async ok<S>(method: string, request: object, timeoutMs?: number): Promise<S> {
    const response = await this.call<S>(method, request, timeoutMs);
    if (response.success === undefined || response.success === null) throw new Error(`${method} failed: ${JSON.stringify(response.error)}`);
    return response.success;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** The data of edit `txid`: ~`bytes` deterministic bytes naming the txid. */
export function editData(txid: number, bytes = 100): Buffer {
  const head = Buffer.from(`edit-${txid}-`, 'utf8');
  const out = Buffer.alloc(bytes, 0x61 + (txid % 26));
  head.copy(out, 0, 0, Math.min(head.byteLength, bytes));
  return out;
}

/** A JournalRequest for `count` edits from `firstTxId`. */
export function journalRequest(journalId: string, epoch: number, firstTxId: number, count: number, bytes = 100, sequence = 0): JournalRequest {
  const records = frameRecords(firstTxId, Array.from({ length: count }, (_, i) => editData(firstTxId + i, bytes)));
  return { sequence, journalId, epoch, firstTxId, count, records, crc32c: crc32c(records) };
}

/**
 * A pipelined JournalStream: `send` returns the answer of that request. Rejects every pending
 * answer when the stream fails.
 */
export class JournalStreamClient {
  private readonly call: grpc.ClientDuplexStream<JournalRequest, JournalResponse__Output>;
  private readonly pending = new Map<number, { resolve: (r: JournalResponse__Output) => void; reject: (e: Error) => void }>();
  private sequence = 0;
  private failure: Error | undefined;
  readonly order: number[] = [];

  constructor(client: QJournalClient) {
    this.call = client.journalStream();
    this.call.on('data', (response: JournalResponse__Output) => {
      this.order.push(response.sequence);
      const waiter = this.pending.get(response.sequence);
      this.pending.delete(response.sequence);
      waiter?.resolve(response);
    });
    const fail = (error: Error): void => {
      this.failure ??= error;
      for (const w of this.pending.values()) w.reject(error);
      this.pending.clear();
    };
    this.call.on('error', fail);
    this.call.on('end', () => fail(new Error('stream ended')));
  }

  send(request: JournalRequest): Promise<JournalResponse__Output> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const sequence = ++this.sequence;
    return new Promise((resolve, reject) => {
      this.pending.set(sequence, { resolve, reject });
      this.call.write({ ...request, sequence });
    });
  }

  end(): void {
    this.call.end();
  }

  cancel(): void {
    this.call.cancel();
  }
}

/** Read every committed edit of `journalId` from one node (GetJournaledEdits, in pages). */
export async function readAllEdits(client: QJournalClient, journalId: string, fromTxId = 1): Promise<EditRecord[]> {
  const out: EditRecord[] = [];
  let next = fromTxId;
  for (;;) {
    const response = await unary<object, OneOf<{ firstTxId: number; count: number; records: Buffer; crc32c: number; lastTxId: number }>>(
      client,
      'getJournaledEdits',
      { journalId, fromTxId: next, maxCount: 0, maxBytes: 0 },
    );
    if (!response.success) throw new Error(`getJournaledEdits from ${next}: ${JSON.stringify(response.error)}`);
    const page = response.success;
    if (page.count === 0) return out;
    if (crc32c(page.records) !== page.crc32c) throw new Error('page checksum mismatch');
    const records = parseRecords(page.records, { firstTxId: next });
    if (records.length !== page.count) throw new Error(`page of ${page.count} records holds ${records.length}`);
    out.push(...records);
    next += records.length;
    if (next > page.lastTxId) return out;
  }
}

/** name -> sha256 of every file in a journal's segment directory of a node's data dir. */
export async function segmentDigests(dataDir: string, journalId: string): Promise<Map<string, string>> {
  const dir = join(dataDir, 'journals', journalId, 'current');
  const out = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    out.set(name, createHash('sha256').update(await readFile(join(dir, name))).digest('hex'));
  }
  return out;
}

/** Wait until every running node of `cluster` has applied the same index as the leader's commit. */
export async function waitConverged(cluster: JournalCluster, timeoutMs = 30_000): Promise<number> {
  return waitFor(
    async () => {
      const statuses = await Promise.all(cluster.ids.map((_, i) => (cluster.isRunning(i) ? cluster.status(i) : undefined)));
      const live = statuses.filter((s) => s !== undefined);
      const leader = live.find((s) => s.raft.role === 'leader');
      if (leader === undefined) return undefined;
      const target = leader.raft.commitIndex;
      return live.every((s) => s.raft.appliedIndex === target && s.stateMachine.appliedIndex <= target) ? target : undefined;
    },
    { timeoutMs, intervalMs: 100, what: 'every node to apply the same index' },
  );
}
