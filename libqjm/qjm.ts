/**
 * QuorumJournalManager: the client of one journal on one JournalNode group (design section 5).
 *
 * Writers: `openForWrite` fences every older writer by epoch (NewEpoch), recovers the in-progress
 * segment a dead writer left (Finalize at its last committed txid; an empty one is dropped) and
 * returns a {@link JournalWriter} that knows the last txid. Readers: manifest, bounded reads and
 * a tail (WebSocket push with polling fallback). Every call goes to the leader through the
 * route table, with deadlines and retries of retryable failures.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import { parseRecords } from '../journalnode/protocol/records.ts';
import type { EditRecord } from '../journalnode/protocol/records.ts';
import { batchBytesMax, batchRecordsMax, isSafeUint, isValidJournalId } from '../journalnode/protocol/limits.ts';
import type { NamespaceInfo } from '../journalnode/protocol/generated/qjournal/v1/NamespaceInfo.ts';
import type { FormatResult__Output } from '../journalnode/protocol/generated/qjournal/v1/FormatResult.ts';
import type { JournalState__Output } from '../journalnode/protocol/generated/qjournal/v1/JournalState.ts';
import type { EditLogManifest__Output } from '../journalnode/protocol/generated/qjournal/v1/EditLogManifest.ts';
import type { PurgeResult__Output } from '../journalnode/protocol/generated/qjournal/v1/PurgeResult.ts';
import type { LeaseResult__Output } from '../journalnode/protocol/generated/qjournal/v1/LeaseResult.ts';
import type { NewEpochResult__Output } from '../journalnode/protocol/generated/qjournal/v1/NewEpochResult.ts';
import { AbortedError, EpochFencedError, InvalidArgumentError, NotFormattedError, ProtocolError, RecoveryError, CorruptRecordsError } from './errors.ts';
import { ChannelPool } from './channel.ts';
import type { ChannelOptions, SuccessOf, UnaryMethodName, UnaryMethods } from './channel.ts';
import { RouteTable } from './route-table.ts';
import type { BackoffPolicy } from './route-table.ts';
import type { Clock } from './clock.ts';
import { monotonicClock } from './clock.ts';
import { JournalWriter, fullBatchBytesDefault, partialBatchInflightMaxDefault } from './writer.ts';
import { tailJournal } from './tail.ts';
import type { EditsPage, TailOptions } from './tail.ts';
import type { Logger } from './log.ts';
import { silentLogger } from './log.ts';

/** Options of a {@link QuorumJournalManager}. Times in milliseconds, sizes in bytes. */
export interface QuorumJournalManagerOptions {
  /** The journal: `[A-Za-z0-9_-]{1,64}`. */
  readonly journalId: string;
  /** QJournal gRPC addresses (host:port) of the JournalNodes. */
  readonly nodes: readonly string[];
  /** HTTP addresses (host:port) of the JournalNodes, for the WebSocket tail; none: tail polls. */
  readonly httpNodes?: readonly string[];
  /** The namespace this master belongs to; openForWrite uses the journal's own when absent. */
  readonly namespace?: NamespaceInfo;
  /** Time for one request, retries included. Default 5,000. */
  readonly requestTimeoutMs?: number;
  /** Time from write() to its acknowledgement before the writer fails. Default 20,000. */
  readonly writeTimeoutMs?: number;
  /** Framed bytes a writer queues before write() waits (backpressure). Default 64 MiB. */
  readonly queueBytesMax?: number;
  /** Batches a writer keeps in flight on its stream. Default 16. */
  readonly inflightBatchesMax?: number;
  /**
   * A writer's stream that acknowledges nothing for this long while batches are in flight is
   * dropped and the batches re-sent elsewhere (a paused leader). Default 3,000.
   */
  readonly streamStallTimeoutMs?: number;
  /** write() calls a writer keeps pending before rejecting more. Default 100,000. */
  readonly pendingWritesMax?: number;
  /** Framed bytes per batch sent (<= 8 MiB). Default 8 MiB. */
  readonly batchBytesMax?: number;
  /**
   * Pending framed bytes that a writer sends as a batch whenever an in-flight slot is free.
   * Fewer wait while `partialBatchInflightMax` batches are in flight. Default 256 KiB.
   */
  readonly fullBatchBytes?: number;
  /** Batches in flight at which a writer holds back a batch below `fullBatchBytes` until one is acknowledged. Default 1. */
  readonly partialBatchInflightMax?: number;
  /** Edits per GetJournaledEdits (tail polling, catch-up). Default 10,000. */
  readonly readRecordsMax?: number;
  /** Framed bytes per GetJournaledEdits. Default 4 MiB. */
  readonly readBytesMax?: number;
  /** Backoff between retries. */
  readonly backoff?: BackoffPolicy;
  /** A request's attempt unanswered this long (ms) is hedged on another node. Default 500. */
  readonly hedgeDelayMs?: number;
  readonly channel?: ChannelOptions;
  readonly log?: Logger;
  readonly clock?: Clock;
  /** Random numbers in [0, 1) (jitter). */
  readonly random?: () => number;
}

/** Options of {@link QuorumJournalManager.openForWrite}. */
export interface OpenForWriteOptions {
  /** The epoch (a fencing token from an election); default: the promised epoch + 1. */
  readonly epoch?: number;
  /** This writer's identity (makes a retried NewEpoch idempotent); default host:pid:random. */
  readonly writerId?: string;
}

/** What {@link QuorumJournalManager.readEdits} returns. */
export type ReadEditsResult = EditsPage;

/** Times readEdits asks for one page whose answers fail their checks (CRC, txids, counts). */
export const readAttemptsMax = 5;

/** Each new attempt of a damaged read asks for a page this many times smaller (records and bytes). */
export const readRetryShrink = 8;

/** How many NewEpoch attempts openForWrite makes without an explicit epoch (racing writers). */
const autoEpochAttemptsMax = 5;

function checkTxId(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`${what}: ${value} is not a txid`);
}

/** The client of one journal. Safe to share; close() when done. */
export class QuorumJournalManager {
  readonly journalId: string;
  /** The leader cache (shared by every call and writer of this manager). */
  readonly routes: RouteTable;
  private readonly channels: ChannelPool;
  private readonly options: QuorumJournalManagerOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly requestTimeoutMs: number;
  private readonly writers = new Set<JournalWriter>();
  private readonly closing = new AbortController();

  constructor(options: QuorumJournalManagerOptions) {
    if (!isValidJournalId(options.journalId)) throw new InvalidArgumentError(`invalid journal id '${options.journalId}'`);
    if (options.nodes.length === 0) throw new InvalidArgumentError('no JournalNode addresses');
    this.options = options;
    this.journalId = options.journalId;
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? monotonicClock;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.channels = new ChannelPool(options.channel ?? {});
    this.routes = new RouteTable({
      nodes: options.nodes,
      ...(options.backoff !== undefined ? { backoff: options.backoff } : {}),
      ...(options.hedgeDelayMs !== undefined ? { hedgeDelayMs: options.hedgeDelayMs } : {}),
      clock: this.clock,
      ...(options.random !== undefined ? { random: options.random } : {}),
    });
  }

  /** Call `method` on the leader with retries; `leaderOnly` for writes. */
  private invoke<M extends UnaryMethodName>(
    method: M,
    request: UnaryMethods[M][0],
    options: { what: string; leaderOnly: boolean; signal?: AbortSignal | undefined },
  ): Promise<SuccessOf<UnaryMethods[M][1]>> {
    if (this.closing.signal.aborted) return Promise.reject(new AbortedError('the journal manager is closed'));
    const signal = options.signal === undefined ? this.closing.signal : AbortSignal.any([options.signal, this.closing.signal]);
    return this.routes.invoke((address, timeoutMs) => this.channels.get(address).call(method, request, timeoutMs), {
      timeoutMs: this.requestTimeoutMs,
      what: options.what,
      leaderOnly: options.leaderOnly,
      signal,
    });
  }

  /** Set the journal's namespace (once per journal); `force` wipes an existing journal. */
  format(namespace: NamespaceInfo, options: { force?: boolean } = {}): Promise<FormatResult__Output> {
    return this.invoke('format', { journalId: this.journalId, namespace, force: options.force ?? false }, { what: 'format', leaderOnly: true });
  }

  /**
   * The journal's epochs, namespace and txid range. Any JournalNode may answer, and a follower
   * may not have applied the latest writes yet; with `linearizable` the answering node first
   * catches up with the leader's commit index (a Raft read index), so the answer holds every
   * write acknowledged before the call.
   */
  async getJournalState(options: { linearizable?: boolean } = {}): Promise<JournalState__Output> {
    const linearizable = options.linearizable ?? false;
    const state = await this.invoke('getJournalState', { journalId: this.journalId, linearizable }, { what: 'getJournalState', leaderOnly: false });
    if (!isSafeUint(state.promisedEpoch) || !isSafeUint(state.lastTxId)) throw new ProtocolError('getJournalState: numbers above 2^53 - 1');
    return state;
  }

  /**
   * Become the journal's writer: NewEpoch with `epoch` (or the promised epoch + 1), which fences
   * every lower epoch; then recover the last segment if it is in progress (Finalize at its last
   * committed txid; an empty one is dropped). The writer's `lastTxId` is where the caller
   * continues (its first segment starts at lastTxId + 1).
   * Throws EpochFencedError when `epoch` is not above the promised epoch, RecoveryError when the
   * in-progress segment cannot be finalized.
   */
  async openForWrite(options: OpenForWriteOptions = {}): Promise<JournalWriter> {
    // Linearizable: a lagging follower could miss a format (or an epoch) just acknowledged.
    const state = await this.getJournalState({ linearizable: true });
    if (state.namespace === null || (state.namespace.nsId === '' && state.namespace.clusterId === '')) {
      throw new NotFormattedError(`journal ${this.journalId} is not formatted`);
    }
    const namespace = this.options.namespace ?? state.namespace;
    let epoch = options.epoch ?? state.promisedEpoch + 1;
    if (!Number.isSafeInteger(epoch) || epoch < 1) throw new InvalidArgumentError(`invalid epoch ${epoch}`);
    const writerId = options.writerId ?? `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;

    let promised: NewEpochResult__Output | undefined;
    for (let attempt = 1; promised === undefined; attempt += 1) {
      try {
        promised = await this.invoke('newEpoch', { journalId: this.journalId, namespace, epoch, writerId }, { what: `newEpoch(${epoch})`, leaderOnly: true });
      } catch (error) {
        if (error instanceof EpochFencedError && options.epoch === undefined && attempt < autoEpochAttemptsMax) {
          epoch = Math.max(epoch, error.promisedEpoch) + 1;
          continue;
        }
        throw error;
      }
    }
    if (!isSafeUint(promised.lastTxId)) throw new ProtocolError('newEpoch: last txid above 2^53 - 1');
    this.log.info({ journalId: this.journalId, epoch, lastTxId: promised.lastTxId, lastSegment: promised.lastSegment }, 'epoch promised');

    const segment = promised.lastSegment;
    if (segment !== null && segment.inProgress) {
      try {
        const finalized = await this.invoke(
          'finalize',
          { journalId: this.journalId, epoch, firstTxId: segment.firstTxId, lastTxId: segment.lastTxId },
          { what: `recover segment ${segment.firstTxId}`, leaderOnly: true },
        );
        this.log.info({ journalId: this.journalId, epoch, firstTxId: segment.firstTxId, lastTxId: segment.lastTxId, dropped: finalized.dropped }, 'in-progress segment recovered');
      } catch (error) {
        if (error instanceof EpochFencedError) throw error;
        throw new RecoveryError(`recovery of in-progress segment ${segment.firstTxId}..${segment.lastTxId} under epoch ${epoch} failed`, { cause: error });
      }
    }
    const lastTxId = segment !== null && segment.inProgress ? segment.lastTxId : promised.lastTxId;
    if (lastTxId !== promised.lastTxId) {
      throw new RecoveryError(`newEpoch: last segment ends at ${segment?.lastTxId} but the journal's last txid is ${promised.lastTxId}`);
    }
    const writer = new JournalWriter({
      journalId: this.journalId,
      epoch,
      lastTxId,
      routes: this.routes,
      channels: this.channels,
      requestTimeoutMs: this.requestTimeoutMs,
      writeTimeoutMs: this.options.writeTimeoutMs ?? 20_000,
      queueBytesMax: this.options.queueBytesMax ?? 64 * 1024 * 1024,
      inflightBatchesMax: this.options.inflightBatchesMax ?? 16,
      streamStallTimeoutMs: this.options.streamStallTimeoutMs ?? 3_000,
      pendingWritesMax: this.options.pendingWritesMax ?? 100_000,
      batchBytesMax: this.options.batchBytesMax ?? batchBytesMax,
      fullBatchBytes: this.options.fullBatchBytes ?? fullBatchBytesDefault,
      partialBatchInflightMax: this.options.partialBatchInflightMax ?? partialBatchInflightMaxDefault,
      clock: this.clock,
      log: this.log,
    });
    this.writers.add(writer);
    void writer.ended.then(() => this.writers.delete(writer));
    return writer;
  }

  /** Segments holding txids >= sinceTxId: finalized ones, then the in-progress one. */
  getEditLogManifest(sinceTxId: number): Promise<EditLogManifest__Output> {
    checkTxId(sinceTxId, 'getEditLogManifest');
    return this.invoke('getEditLogManifest', { journalId: this.journalId, sinceTxId }, { what: 'getEditLogManifest', leaderOnly: false });
  }

  /**
   * Committed edits from `fromTxId`, at most `maxCount` records and `maxBytes` framed bytes (one
   * record is always returned when one is available). Checks every CRC. An answer that fails
   * its checks (damaged on the way: HTTP/2 has no checksum) is asked for again, for a page
   * {@link readRetryShrink} times smaller each time (a smaller answer is less likely to be hit),
   * up to {@link readAttemptsMax} times in all, before its error is thrown.
   */
  async readEdits(fromTxId: number, limits: { maxCount?: number; maxBytes?: number; signal?: AbortSignal | undefined } = {}): Promise<ReadEditsResult> {
    if (!Number.isSafeInteger(fromTxId) || fromTxId < 1) throw new InvalidArgumentError(`readEdits: invalid txid ${fromTxId}`);
    const maxCount = Math.min(limits.maxCount ?? this.options.readRecordsMax ?? 10_000, batchRecordsMax);
    const maxBytes = Math.min(limits.maxBytes ?? this.options.readBytesMax ?? 4 * 1024 * 1024, batchBytesMax);
    for (let attempt = 1; ; attempt++) {
      try {
        const shrink = readRetryShrink ** (attempt - 1);
        return await this.readEditsOnce(fromTxId, Math.max(1, Math.floor(maxCount / shrink)), Math.max(1, Math.floor(maxBytes / shrink)), limits.signal);
      } catch (error) {
        const damaged = error instanceof CorruptRecordsError || error instanceof ProtocolError;
        if (!damaged || attempt >= readAttemptsMax || limits.signal?.aborted === true) throw error;
        this.log.warn({ journalId: this.journalId, fromTxId, attempt, err: error }, 'read answer failed its checks; asking again');
      }
    }
  }

  private async readEditsOnce(fromTxId: number, maxCount: number, maxBytes: number, signal: AbortSignal | undefined): Promise<ReadEditsResult> {
    const edits = await this.invoke('getJournaledEdits', { journalId: this.journalId, fromTxId, maxCount, maxBytes }, {
      what: `getJournaledEdits(${fromTxId})`,
      leaderOnly: false,
      signal,
    });
    if (!isSafeUint(edits.lastTxId)) throw new ProtocolError('getJournaledEdits: last txid above 2^53 - 1');
    if (edits.count === 0) return { records: [], lastTxId: edits.lastTxId };
    if (edits.firstTxId !== fromTxId) throw new ProtocolError(`getJournaledEdits(${fromTxId}) answered from txid ${edits.firstTxId}`);
    if (crc32c(edits.records) !== edits.crc32c) throw new CorruptRecordsError({}, `getJournaledEdits(${fromTxId}): batch checksum mismatch`);
    const records: EditRecord[] = parseRecords(edits.records, { firstTxId: fromTxId });
    if (records.length !== edits.count) throw new ProtocolError(`getJournaledEdits(${fromTxId}): ${records.length} records, ${edits.count} announced`);
    return { records, lastTxId: edits.lastTxId };
  }

  /**
   * Committed edits from `from` on, each once, in txid order, for as long as the caller
   * iterates: WebSocket push from `httpNodes` (backlog, then live), polling GetJournaledEdits
   * when the socket is unavailable. Ends when `signal` aborts or the manager closes.
   */
  tail(options: TailOptions): AsyncIterable<EditRecord> {
    const signal = options.signal === undefined ? this.closing.signal : AbortSignal.any([options.signal, this.closing.signal]);
    return tailJournal(
      {
        journalId: this.journalId,
        httpNodes: this.options.httpNodes ?? [],
        readEdits: (fromTxId, readSignal) => this.readEdits(fromTxId, { signal: readSignal }),
        clock: this.clock,
        log: this.log,
        random: this.options.random ?? Math.random,
      },
      { ...options, signal },
    );
  }

  /** Operator purge (epoch 0): delete finalized segments that end before `minTxIdToKeep`. */
  purgeLogsOlderThan(minTxIdToKeep: number): Promise<PurgeResult__Output> {
    checkTxId(minTxIdToKeep, 'purgeLogsOlderThan');
    return this.invoke('purge', { journalId: this.journalId, epoch: 0, minTxIdToKeep }, { what: 'purge', leaderOnly: true });
  }

  /** Acquire lease `leaseName` for `candidate` for `ttlMs` (embedded election). */
  acquireLease(leaseName: string, candidate: string, ttlMs: number, signal?: AbortSignal): Promise<LeaseResult__Output> {
    return this.invoke('acquireLease', { journalId: this.journalId, leaseName, candidate, ttlMs }, { what: 'acquireLease', leaderOnly: true, signal });
  }

  /** Renew a held lease (candidate and token of the holding). */
  renewLease(leaseName: string, candidate: string, token: number, ttlMs: number, signal?: AbortSignal): Promise<LeaseResult__Output> {
    return this.invoke('renewLease', { journalId: this.journalId, leaseName, candidate, token, ttlMs }, { what: 'renewLease', leaderOnly: true, signal });
  }

  /** Release a held lease; `released` is false when it was not held by candidate/token. */
  releaseLease(leaseName: string, candidate: string, token: number): Promise<LeaseResult__Output> {
    return this.invoke('releaseLease', { journalId: this.journalId, leaseName, candidate, token }, { what: 'releaseLease', leaderOnly: true });
  }

  /** The lease as a JournalNode sees it (holder '' when free). */
  getLease(leaseName: string): Promise<LeaseResult__Output> {
    return this.invoke('getLease', { journalId: this.journalId, leaseName }, { what: 'getLease', leaderOnly: false });
  }

  /** Abort every writer and tail of this manager and close the connections. Idempotent. */
  close(): void {
    if (this.closing.signal.aborted) return;
    this.closing.abort(new AbortedError('the journal manager is closed'));
    for (const writer of this.writers) writer.abort(new AbortedError('the journal manager is closed'));
    this.writers.clear();
    this.channels.close();
  }
}
