/**
 * TEST DOUBLE. An in-memory QJournal service on real loopback ports, implementing the proto
 * minimally, to test libqjm's CLIENT-SIDE logic (pipelining, backpressure, retries, fencing,
 * routing, recovery calls, tail fallback, leases) before the real JournalNode exists.
 *
 * It is NOT a JournalNode: no Raft, no files, no durability; the "nodes" share one in-memory
 * state and only the node marked leader accepts writes (the others answer NOT_LEADER with a
 * hint). Fault knobs let a test break streams, hold or drop answers, and move the leadership.
 * Tests against real JournalNodes live in test/libqjm/integration/.
 */
import { createServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { crc32c } from '@node-rs/crc32';
import { loadJournalProtocol } from '../../journalnode/protocol/load.ts';
import { grpcMessageBytesMax } from '../../journalnode/protocol/limits.ts';
import { frameRecords, parseRecords } from '../../journalnode/protocol/records.ts';
import { journalErrorWire } from '../../journalnode/protocol/errors.ts';
import type { JournalErrorCode, JournalErrorFields, JournalErrorWire } from '../../journalnode/protocol/errors.ts';
import type { QJournalHandlers } from '../../journalnode/protocol/generated/qjournal/v1/QJournal.ts';
import type { JournalRequest__Output } from '../../journalnode/protocol/generated/qjournal/v1/JournalRequest.ts';
import type { JournalResponse } from '../../journalnode/protocol/generated/qjournal/v1/JournalResponse.ts';
import type { NamespaceInfo__Output } from '../../journalnode/protocol/generated/qjournal/v1/NamespaceInfo.ts';
import type { SegmentInfo } from '../../journalnode/protocol/generated/qjournal/v1/SegmentInfo.ts';
import type { Lease } from '../../journalnode/protocol/generated/qjournal/v1/Lease.ts';

/** A segment of the fake journal. */
export interface FakeSegment {
  firstTxId: number;
  lastTxId: number;
  inProgress: boolean;
  epoch: number;
}

/** The state of one fake journal. */
export interface FakeJournal {
  namespace: NamespaceInfo__Output;
  promisedEpoch: number;
  writerEpoch: number;
  writerIdByEpoch: Map<number, string>;
  segments: FakeSegment[];
  /** Edit data by txid (committed). */
  data: Map<number, Buffer>;
  lastTxId: number;
  /** Applied batches by first txid: for exact-retry detection. */
  batches: Map<number, { epoch: number; count: number; crc32c: number }>;
}

interface FakeLease {
  holder: string;
  token: number;
  expiresAtMs: number;
}

/** Every batch the fake applied (or acknowledged as duplicate), in order. */
export interface AppliedBatch {
  readonly epoch: number;
  readonly firstTxId: number;
  readonly count: number;
  readonly duplicate: boolean;
}

/** Per-batch decision of a stream fault hook. */
export type StreamFault =
  /** Apply and answer normally. */
  | 'normal'
  /** Apply, then break the stream without answering (leader crashed after commit). */
  | 'apply-then-break'
  /** Apply, then answer NOT_LEADER (leadership moved before the answer), moving the leadership. */
  | 'apply-then-not-leader'
  /** Do not apply; break the stream. */
  | 'break'
  /** Do not apply and never answer. */
  | 'swallow'
  /** Do not apply; answer INTERNAL (a non-retryable failure). */
  | 'internal-error'
  /** Do not apply; answer LEASE_EXPIRED (the writer's leadership is gone). */
  | 'lease-expired'
  /** Do not apply; answer CORRUPT_RECORDS (the bytes were damaged on the way). */
  | 'corrupt-records';

type Handlers = QJournalHandlers;

function ok<T>(success: T): { success: T } {
  return { success };
}

function fail(code: JournalErrorCode, message: string, fields: JournalErrorFields = {}): { error: JournalErrorWire } {
  return { error: journalErrorWire(code, message, fields) };
}

/** One fake node: a gRPC server and optionally an HTTP/WebSocket server. */
class FakeNode {
  rpcAddress = '';
  httpAddress = '';
  server: grpc.Server | undefined;
  http: HttpServer | undefined;
  wss: WebSocketServer | undefined;
  readonly sockets = new Set<WebSocket>();
  readonly streams = new Set<grpc.ServerDuplexStream<JournalRequest__Output, JournalResponse>>();
}

/** Options of {@link FakeJournalCluster.start}. */
export interface FakeClusterOptions {
  readonly nodes?: number;
  /** Start HTTP servers with the WebSocket tail. */
  readonly http?: boolean;
  /** Records per backlog frame on the tail. Default 50. */
  readonly tailFrameRecords?: number;
}

/** TEST DOUBLE: a set of fake QJournal nodes sharing one in-memory state. */
export class FakeJournalCluster {
  readonly journals = new Map<string, FakeJournal>();
  readonly leases = new Map<string, FakeLease>();
  readonly nodes: FakeNode[] = [];
  /** Index of the node that accepts writes; -1: none (every node answers NOT_LEADER without hint). */
  leaderIndex = 0;
  /** Nodes that answer nothing at all (as a SIGSTOPped process: connections stay open). */
  readonly paused = new Set<number>();
  /** Every Journal batch handled, in order. */
  readonly applied: AppliedBatch[] = [];
  /** Journal requests received on streams (including re-sends). */
  streamRequests = 0;
  /** Largest number of stream requests received and not yet answered, over the run. */
  maxUnanswered = 0;
  private unanswered = 0;
  /** Decide the fate of each stream batch (default: normal). */
  streamFault: (request: JournalRequest__Output, nodeIndex: number) => StreamFault = () => 'normal';
  /** When set, stream answers are queued until {@link releaseHeld} (requests are applied on release). */
  holdStream = false;
  private held: Array<() => void> = [];
  /** Answer exact retries with OUT_OF_ORDER instead of a duplicate acknowledgement. */
  forgetRetries = false;
  /** Before each unary call: return a wire error to fail it (the call is not applied). */
  unaryFault: (method: string, nodeIndex: number) => JournalErrorWire | undefined = () => undefined;
  /** Before each GetJournaledEdits answer: true flips one bit of its records (damage on the way). */
  damageRead: (nodeIndex: number) => boolean = () => false;
  /** Count of unary calls by method. */
  readonly unaryCalls = new Map<string, number>();
  /** The lease clock, in ms (tests may replace it). */
  nowMs: () => number = () => performance.now();
  /** Knobs of the WebSocket tail. */
  tail = {
    /** Terminate each socket after this many record frames (undefined: never). */
    dropAfterFrames: undefined as number | undefined,
    /** Repeat the previous record at the start of every live frame (tests deduplication). */
    overlap: false,
    /** Refuse WebSocket upgrades (HTTP 503). */
    refuse: false,
    /** Socket connections accepted so far. */
    connections: 0,
  };
  private raftIndex = 0;
  private readonly tailFrameRecords: number;
  private readonly listeners = new Set<(journalId: string, firstTxId: number, count: number) => void>();

  private constructor(options: FakeClusterOptions) {
    this.tailFrameRecords = options.tailFrameRecords ?? 50;
  }

  /** Start `nodes` fake nodes on loopback port 0. */
  static async start(options: FakeClusterOptions = {}): Promise<FakeJournalCluster> {
    const cluster = new FakeJournalCluster(options);
    const count = options.nodes ?? 1;
    for (let i = 0; i < count; i += 1) cluster.nodes.push(new FakeNode());
    for (let i = 0; i < count; i += 1) {
      await cluster.startRpc(i, 0);
      if (options.http === true) await cluster.startHttp(i);
    }
    return cluster;
  }

  get rpcAddresses(): string[] {
    return this.nodes.map((node) => node.rpcAddress);
  }

  get httpAddresses(): string[] {
    return this.nodes.map((node) => node.httpAddress);
  }

  private leaderHint(): string {
    return this.leaderIndex >= 0 ? (this.nodes[this.leaderIndex]?.rpcAddress ?? '') : '';
  }

  private notLeader(): { error: JournalErrorWire } {
    return fail('NOT_LEADER', 'not the leader (fake)', { leaderHint: this.leaderHint() });
  }

  private async startRpc(index: number, port: number): Promise<void> {
    const node = this.nodes[index]!;
    const server = new grpc.Server({ 'grpc.max_receive_message_length': grpcMessageBytesMax, 'grpc.max_send_message_length': grpcMessageBytesMax });
    server.addService(loadJournalProtocol().qjournal.v1.QJournal.service, this.handlers(index));
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, actual) => (error === null ? resolve(actual) : reject(error)));
    });
    node.server = server;
    node.rpcAddress = `127.0.0.1:${bound}`;
  }

  /** Stop node `index`'s gRPC server at once (its streams break). */
  stopNode(index: number): void {
    const node = this.nodes[index]!;
    node.server?.forceShutdown();
    node.server = undefined;
    node.streams.clear();
  }

  /** Restart node `index`'s gRPC server on the same port. */
  async restartNode(index: number): Promise<void> {
    const port = Number(this.nodes[index]!.rpcAddress.split(':')[1]);
    await this.startRpc(index, port);
  }

  /** Break every open JournalStream on every node (UNAVAILABLE). */
  breakStreams(): void {
    for (const node of this.nodes) {
      for (const stream of node.streams) stream.emit('error', { code: grpc.status.UNAVAILABLE, details: 'stream broken (fake)' });
      node.streams.clear();
    }
  }

  /** Answer (and apply) every held stream request, in order. */
  releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const run of held) run();
  }

  /** Held stream requests. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Forget a lease's holder (as if it expired). */
  expireLease(journalId: string, leaseName: string): void {
    const lease = this.leases.get(`${journalId}/${leaseName}`);
    if (lease !== undefined) lease.expiresAtMs = this.nowMs() - 1;
  }

  /** The lease as stored. */
  leaseOf(journalId: string, leaseName: string): FakeLease | undefined {
    return this.leases.get(`${journalId}/${leaseName}`);
  }

  /** Committed data of txids `from .. last` of a journal. */
  editsOf(journalId: string, from = 1): Array<{ txid: number; data: Buffer }> {
    const journal = this.journals.get(journalId);
    const out: Array<{ txid: number; data: Buffer }> = [];
    if (journal === undefined) return out;
    for (let txid = from; txid <= journal.lastTxId; txid += 1) {
      const data = journal.data.get(txid);
      if (data !== undefined) out.push({ txid, data });
    }
    return out;
  }

  /** Shut everything down. */
  async stop(): Promise<void> {
    for (const node of this.nodes) {
      node.server?.forceShutdown();
      for (const socket of node.sockets) socket.terminate();
      node.wss?.close();
      node.http?.closeAllConnections();
      await new Promise<void>((resolve) => (node.http === undefined ? resolve() : node.http.close(() => resolve())));
    }
  }

  // ------------------------------------------------------------------------------------------
  // The journal state machine (minimal, in memory)

  private journalOf(journalId: string): FakeJournal | undefined {
    return this.journals.get(journalId);
  }

  private segmentInfo(segment: FakeSegment): SegmentInfo {
    return { ...segment, sizeBytes: 0 };
  }

  private epochCheck(journal: FakeJournal, epoch: number): { error: JournalErrorWire } | undefined {
    if (epoch < journal.promisedEpoch) return fail('EPOCH_FENCED', `epoch ${epoch} fenced by ${journal.promisedEpoch}`, { promisedEpoch: journal.promisedEpoch });
    if (epoch > journal.promisedEpoch) return fail('EPOCH_NOT_PROMISED', `epoch ${epoch} not promised`, { promisedEpoch: journal.promisedEpoch });
    return undefined;
  }

  /** Apply one Journal request; returns the response body (without sequence). */
  applyJournal(request: JournalRequest__Output): Omit<JournalResponse, 'sequence'> {
    this.raftIndex += 1;
    const journal = this.journalOf(request.journalId);
    if (journal === undefined) return fail('NOT_FORMATTED', 'not formatted');
    const bad = this.epochCheck(journal, request.epoch);
    if (bad !== undefined) return bad;
    if (request.epoch !== journal.writerEpoch) return fail('EPOCH_FENCED', 'not the writer epoch', { promisedEpoch: journal.promisedEpoch });
    const previous = journal.batches.get(request.firstTxId);
    if (request.firstTxId <= journal.lastTxId) {
      if (!this.forgetRetries && previous !== undefined && previous.epoch === request.epoch && previous.count === request.count && previous.crc32c === request.crc32c) {
        this.applied.push({ epoch: request.epoch, firstTxId: request.firstTxId, count: request.count, duplicate: true });
        return ok({ firstTxId: request.firstTxId, count: request.count, lastTxId: journal.lastTxId, duplicate: true });
      }
      return fail('OUT_OF_ORDER', `expected ${journal.lastTxId + 1}`, { expectedTxId: journal.lastTxId + 1 });
    }
    const open = journal.segments.at(-1);
    if (open === undefined || !open.inProgress) return fail('SEGMENT_NOT_OPEN', 'no open segment');
    if (request.firstTxId !== journal.lastTxId + 1) return fail('OUT_OF_ORDER', `expected ${journal.lastTxId + 1}`, { expectedTxId: journal.lastTxId + 1 });
    if (crc32c(request.records) !== request.crc32c) return fail('CORRUPT_RECORDS', 'batch crc');
    let records;
    try {
      records = parseRecords(request.records, { firstTxId: request.firstTxId });
    } catch (error) {
      return fail('CORRUPT_RECORDS', String(error));
    }
    if (records.length !== request.count) return fail('CORRUPT_RECORDS', 'count');
    for (const record of records) journal.data.set(record.txid, Buffer.from(record.data));
    journal.lastTxId = request.firstTxId + request.count - 1;
    open.lastTxId = journal.lastTxId;
    journal.batches.set(request.firstTxId, { epoch: request.epoch, count: request.count, crc32c: request.crc32c });
    this.applied.push({ epoch: request.epoch, firstTxId: request.firstTxId, count: request.count, duplicate: false });
    for (const listener of this.listeners) listener(request.journalId, request.firstTxId, request.count);
    return ok({ firstTxId: request.firstTxId, count: request.count, lastTxId: journal.lastTxId, duplicate: false });
  }

  private leaseKey(journalId: string, leaseName: string): string {
    return `${journalId}/${leaseName}`;
  }

  private leaseAnswer(journalId: string, leaseName: string, lease: FakeLease | undefined, released = false): { success: { lease: Lease; released: boolean } } {
    const now = this.nowMs();
    const live = lease !== undefined && lease.expiresAtMs > now;
    return ok({
      lease: {
        journalId,
        leaseName,
        holder: live ? lease.holder : '',
        token: lease?.token ?? 0,
        expiresAtMs: Math.round(lease?.expiresAtMs ?? 0),
        remainingMs: live ? Math.round(lease.expiresAtMs - now) : 0,
      },
      released,
    });
  }

  private countUnary(method: string): void {
    this.unaryCalls.set(method, (this.unaryCalls.get(method) ?? 0) + 1);
  }

  private handlers(index: number): Handlers {
    const isLeader = (): boolean => this.leaderIndex === index;
    // Wrap a unary handler: fault injection, NOT_LEADER for writes on followers.
    const unary = <Q, R>(method: string, write: boolean, body: (request: Q) => R) => {
      return (call: grpc.ServerUnaryCall<Q, R>, callback: grpc.sendUnaryData<R>): void => {
        this.countUnary(method);
        if (this.paused.has(index)) return; // never answers
        const fault = this.unaryFault(method, index);
        if (fault !== undefined) {
          callback(null, { error: fault } as R);
          return;
        }
        if (write && !isLeader()) {
          callback(null, this.notLeader() as R);
          return;
        }
        if (write) this.raftIndex += 1;
        callback(null, body(call.request));
      };
    };
    return {
      Format: unary('format', true, (request) => {
        const existing = this.journalOf(request.journalId);
        const ns = request.namespace!;
        if (existing !== undefined && !request.force) {
          const same = existing.namespace.nsId === ns.nsId && existing.namespace.clusterId === ns.clusterId;
          if (same && existing.lastTxId === 0 && existing.segments.length === 0) return ok({ alreadyFormatted: true });
          return fail('ALREADY_FORMATTED', 'already formatted');
        }
        this.journals.set(request.journalId, {
          namespace: ns,
          promisedEpoch: existing?.promisedEpoch ?? 0,
          writerEpoch: 0,
          writerIdByEpoch: new Map(),
          segments: [],
          data: new Map(),
          lastTxId: 0,
          batches: new Map(),
        });
        return ok({ alreadyFormatted: false });
      }),
      GetJournalState: unary('getJournalState', false, (request) => {
        const journal = this.journalOf(request.journalId);
        if (journal === undefined) return fail('NOT_FORMATTED', 'not formatted');
        const open = journal.segments.at(-1);
        return ok({
          journalId: request.journalId,
          namespace: journal.namespace,
          promisedEpoch: journal.promisedEpoch,
          writerEpoch: journal.writerEpoch,
          lastTxId: journal.lastTxId,
          firstTxId: journal.segments[0]?.firstTxId ?? 0,
          openSegment: open !== undefined && open.inProgress ? this.segmentInfo(open) : null,
          appliedIndex: this.raftIndex,
        });
      }),
      NewEpoch: unary('newEpoch', true, (request) => {
        const journal = this.journalOf(request.journalId);
        if (journal === undefined) return fail('NOT_FORMATTED', 'not formatted');
        const ns = request.namespace!;
        if (ns.nsId !== journal.namespace.nsId || ns.clusterId !== journal.namespace.clusterId) return fail('NAMESPACE_MISMATCH', 'namespace');
        const retry = request.epoch === journal.promisedEpoch && request.writerId !== '' && journal.writerIdByEpoch.get(request.epoch) === request.writerId;
        if (request.epoch <= journal.promisedEpoch && !retry) {
          return fail('EPOCH_FENCED', `epoch ${request.epoch} <= promised ${journal.promisedEpoch}`, { promisedEpoch: journal.promisedEpoch });
        }
        journal.promisedEpoch = request.epoch;
        journal.writerIdByEpoch.set(request.epoch, request.writerId);
        const last = journal.segments.at(-1);
        return ok({ lastSegment: last === undefined ? null : this.segmentInfo(last), lastTxId: journal.lastTxId, promisedEpoch: journal.promisedEpoch });
      }),
      StartSegment: unary('startSegment', true, (request) => {
        const journal = this.journalOf(request.journalId);
        if (journal === undefined) return fail('NOT_FORMATTED', 'not formatted');
        const bad = this.epochCheck(journal, request.epoch);
        if (bad !== undefined) return bad;
        const open = journal.segments.at(-1);
        if (open !== undefined && open.inProgress) {
          if (open.firstTxId === request.txId && open.lastTxId === open.firstTxId - 1 && open.epoch === request.epoch) return ok({ segment: this.segmentInfo(open), duplicate: true });
          return fail('SEGMENT_ALREADY_OPEN', 'segment open');
        }
        if (request.txId !== journal.lastTxId + 1) return fail('OUT_OF_ORDER', 'start', { expectedTxId: journal.lastTxId + 1 });
        const segment: FakeSegment = { firstTxId: request.txId, lastTxId: request.txId - 1, inProgress: true, epoch: request.epoch };
        journal.segments.push(segment);
        journal.writerEpoch = request.epoch;
        return ok({ segment: this.segmentInfo(segment), duplicate: false });
      }),
      Journal: (call, callback) => {
        if (!isLeader()) callback(null, { sequence: call.request.sequence, ...this.notLeader() });
        else callback(null, { sequence: call.request.sequence, ...this.applyJournal(call.request) });
      },
      Finalize: unary('finalize', true, (request) => {
        const journal = this.journalOf(request.journalId);
        if (journal === undefined) return fail('NOT_FORMATTED', 'not formatted');
        if (request.epoch < journal.promisedEpoch) return fail('EPOCH_FENCED', 'fenced', { promisedEpoch: journal.promisedEpoch });
        if (request.epoch > journal.promisedEpoch) return fail('EPOCH_NOT_PROMISED', 'not promised', { promisedEpoch: journal.promisedEpoch });
        const index = journal.segments.findIndex((segment) => segment.firstTxId === request.firstTxId);
        const segment = journal.segments[index];
        if (segment === undefined) return fail('SEGMENT_NOT_OPEN', 'no such segment');
        if (!segment.inProgress) {
          if (segment.lastTxId === request.lastTxId) return ok({ segment: this.segmentInfo(segment), alreadyFinalized: true, dropped: false });
          return fail('SEGMENT_MISMATCH', 'finalized differently', { expectedTxId: segment.lastTxId });
        }
        if (segment.lastTxId !== request.lastTxId) return fail('SEGMENT_MISMATCH', 'last', { expectedTxId: segment.lastTxId });
        if (segment.lastTxId === segment.firstTxId - 1) {
          journal.segments.splice(index, 1);
          return ok({ segment: null, alreadyFinalized: false, dropped: true });
        }
        segment.inProgress = false;
        return ok({ segment: this.segmentInfo(segment), alreadyFinalized: false, dropped: false });
      }),
      Purge: unary('purge', true, (request) => {
        const journal = this.journalOf(request.journalId);
        if (journal === undefined) return fail('NOT_FORMATTED', 'not formatted');
        if (request.epoch !== 0 && request.epoch !== journal.promisedEpoch) return fail('EPOCH_FENCED', 'fenced', { promisedEpoch: journal.promisedEpoch });
        let purged = 0;
        journal.segments = journal.segments.filter((segment) => {
          const drop = !segment.inProgress && segment.lastTxId < request.minTxIdToKeep;
          if (drop) {
            purged += 1;
            for (let txid = segment.firstTxId; txid <= segment.lastTxId; txid += 1) journal.data.delete(txid);
          }
          return !drop;
        });
        return ok({ purgedSegments: purged, firstTxId: journal.segments[0]?.firstTxId ?? 0 });
      }),
      GetEditLogManifest: unary('getEditLogManifest', false, (request) => {
        const journal = this.journalOf(request.journalId);
        if (journal === undefined) return fail('NOT_FORMATTED', 'not formatted');
        const segments = journal.segments.filter((segment) => segment.inProgress || segment.lastTxId >= request.sinceTxId).map((segment) => this.segmentInfo(segment));
        return ok({ segments, lastTxId: journal.lastTxId });
      }),
      GetJournaledEdits: unary('getJournaledEdits', false, (request) => {
        const journal = this.journalOf(request.journalId);
        if (journal === undefined) return fail('NOT_FORMATTED', 'not formatted');
        const first = journal.segments[0]?.firstTxId ?? journal.lastTxId + 1;
        if (request.fromTxId < first && journal.data.get(request.fromTxId) === undefined && request.fromTxId <= journal.lastTxId) {
          return fail('EDITS_UNAVAILABLE', 'purged', { expectedTxId: first });
        }
        const datas: Buffer[] = [];
        let bytes = 0;
        for (let txid = request.fromTxId; txid <= journal.lastTxId && datas.length < request.maxCount; txid += 1) {
          const data = journal.data.get(txid)!;
          if (datas.length > 0 && bytes + 16 + data.byteLength > request.maxBytes) break;
          datas.push(data);
          bytes += 16 + data.byteLength;
        }
        if (datas.length === 0) return ok({ firstTxId: 0, count: 0, records: Buffer.alloc(0), crc32c: 0, lastTxId: journal.lastTxId });
        const records = frameRecords(request.fromTxId, datas);
        const crc = crc32c(records);
        if (this.damageRead(index)) records[records.byteLength >> 1]! ^= 0x10;
        return ok({ firstTxId: request.fromTxId, count: datas.length, records, crc32c: crc, lastTxId: journal.lastTxId });
      }),
      AcquireLease: unary('acquireLease', true, (request) => {
        const key = this.leaseKey(request.journalId, request.leaseName);
        const current = this.leases.get(key);
        const now = this.nowMs();
        if (current !== undefined && current.holder !== request.candidate && current.expiresAtMs > now) return fail('LEASE_HELD', `held by ${current.holder}`);
        const lease: FakeLease = { holder: request.candidate, token: this.raftIndex, expiresAtMs: now + request.ttlMs };
        this.leases.set(key, lease);
        return this.leaseAnswer(request.journalId, request.leaseName, lease);
      }),
      RenewLease: unary('renewLease', true, (request) => {
        const key = this.leaseKey(request.journalId, request.leaseName);
        const current = this.leases.get(key);
        const now = this.nowMs();
        if (current === undefined || current.holder !== request.candidate || current.token !== request.token || current.expiresAtMs <= now) {
          return fail('LEASE_EXPIRED', 'lease expired');
        }
        current.expiresAtMs = now + request.ttlMs;
        return this.leaseAnswer(request.journalId, request.leaseName, current);
      }),
      ReleaseLease: unary('releaseLease', true, (request) => {
        const key = this.leaseKey(request.journalId, request.leaseName);
        const current = this.leases.get(key);
        if (current !== undefined && current.holder === request.candidate && current.token === request.token) {
          this.leases.delete(key);
          return this.leaseAnswer(request.journalId, request.leaseName, undefined, true);
        }
        return this.leaseAnswer(request.journalId, request.leaseName, current, false);
      }),
      GetLease: unary('getLease', false, (request) => {
        return this.leaseAnswer(request.journalId, request.leaseName, this.leases.get(this.leaseKey(request.journalId, request.leaseName)));
      }),
      JournalStream: (call) => this.serveStream(index, call),
    } as Handlers;
  }

  private serveStream(index: number, call: grpc.ServerDuplexStream<JournalRequest__Output, JournalResponse>): void {
    const node = this.nodes[index]!;
    node.streams.add(call);
    let broken = false;
    const breakStream = (): void => {
      if (broken) return;
      broken = true;
      node.streams.delete(call);
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'stream broken (fake)' });
    };
    call.on('error', () => {
      broken = true;
      node.streams.delete(call);
    });
    call.on('end', () => {
      node.streams.delete(call);
      if (!broken) call.end();
    });
    call.on('data', (request: JournalRequest__Output) => {
      this.streamRequests += 1;
      this.unanswered += 1;
      this.maxUnanswered = Math.max(this.maxUnanswered, this.unanswered);
      if (this.paused.has(index)) return; // never answers
      const handle = (): void => {
        this.unanswered -= 1;
        if (broken) return;
        if (this.leaderIndex !== index) {
          call.write({ sequence: request.sequence, ...this.notLeader() });
          return;
        }
        const fault = this.streamFault(request, index);
        if (fault === 'swallow') return;
        if (fault === 'break') {
          breakStream();
          return;
        }
        if (fault === 'internal-error' || fault === 'lease-expired' || fault === 'corrupt-records') {
          const code = fault === 'internal-error' ? 'INTERNAL' : fault === 'lease-expired' ? 'LEASE_EXPIRED' : 'CORRUPT_RECORDS';
          call.write({ sequence: request.sequence, ...fail(code, 'injected failure (fake)') });
          return;
        }
        const result = this.applyJournal(request);
        if (fault === 'apply-then-break') {
          breakStream();
          return;
        }
        if (fault === 'apply-then-not-leader') {
          this.leaderIndex = (index + 1) % this.nodes.length;
          call.write({ sequence: request.sequence, ...this.notLeader() });
          return;
        }
        call.write({ sequence: request.sequence, ...result });
      };
      if (this.holdStream) this.held.push(handle);
      else handle();
    });
  }

  // ------------------------------------------------------------------------------------------
  // WebSocket tail (the format documented in libqjm/README.md)

  private async startHttp(index: number): Promise<void> {
    const node = this.nodes[index]!;
    const http = createServer((_request, response) => {
      response.statusCode = 404;
      response.end();
    });
    const wss = new WebSocketServer({ noServer: true });
    http.on('upgrade', (request, socket, head) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const match = /^\/journals\/([A-Za-z0-9_-]{1,64})\/tail$/.exec(url.pathname);
      if (this.tail.refuse || match === null) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
        return;
      }
      const from = Number(url.searchParams.get('from'));
      wss.handleUpgrade(request, socket, head, (ws) => this.serveTail(node, ws, match[1]!, from));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
    node.http = http;
    node.wss = wss;
    node.httpAddress = `127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  private serveTail(node: FakeNode, ws: WebSocket, journalId: string, from: number): void {
    this.tail.connections += 1;
    node.sockets.add(ws);
    const journal = this.journalOf(journalId);
    if (journal === undefined) {
      ws.send(JSON.stringify({ type: 'error', code: 'NOT_FORMATTED', message: 'not formatted' }));
      ws.close(1008);
      return;
    }
    const first = journal.segments[0]?.firstTxId ?? 1;
    if (from < first && journal.data.get(from) === undefined) {
      ws.send(JSON.stringify({ type: 'error', code: 'EDITS_UNAVAILABLE', message: 'purged', expectedTxId: first }));
      ws.close(1008);
      return;
    }
    let frames = 0;
    let next = from;
    const sendFrame = (firstTxId: number, lastTxId: number): boolean => {
      const datas: Buffer[] = [];
      for (let txid = firstTxId; txid <= lastTxId; txid += 1) datas.push(journal.data.get(txid)!);
      if (datas.length === 0) return true;
      ws.send(frameRecords(firstTxId, datas), { binary: true });
      frames += 1;
      if (this.tail.dropAfterFrames !== undefined && frames >= this.tail.dropAfterFrames) {
        ws.terminate();
        return false;
      }
      return true;
    };
    ws.send(JSON.stringify({ type: 'hello', journalId, fromTxId: from, firstTxId: first, lastTxId: journal.lastTxId }));
    while (next <= journal.lastTxId) {
      const last = Math.min(journal.lastTxId, next + this.tailFrameRecords - 1);
      if (!sendFrame(next, last)) return;
      next = last + 1;
    }
    ws.send(JSON.stringify({ type: 'caught-up', lastTxId: journal.lastTxId }));
    const listener = (id: string, firstTxId: number, count: number): void => {
      if (id !== journalId || ws.readyState !== ws.OPEN) return;
      const last = firstTxId + count - 1;
      if (last < next) return;
      const start = this.tail.overlap && next > from ? next - 1 : next;
      if (!sendFrame(start, last)) return;
      next = last + 1;
    };
    this.listeners.add(listener);
    ws.on('close', () => {
      this.listeners.delete(listener);
      node.sockets.delete(ws);
    });
  }
}
