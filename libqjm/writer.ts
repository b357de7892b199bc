/**
 * The journal writer of one epoch: starts and finalizes segments and pipelines batches of
 * edits to the JournalNode leader on one bidi `JournalStream`.
 *
 * Pipeline (every stage has a named bound):
 *
 * ```
 * write() --> waiting (backpressure) --> pending (admitted, counted in queueBytesMax)
 *         --> in flight (framed batches sent, unacknowledged, <= inflightBatchesMax)
 *         --> acknowledged (committed): the write's promise resolves, in txid order
 * ```
 * Pending chunks of several `write()` calls are framed together into one batch when an
 * in-flight slot frees up (many edits per message). A framed batch keeps its shape forever:
 * after a leader change or a broken stream the unacknowledged batches are re-sent, in order and
 * byte for byte, to the new leader, and the JournalNode acknowledges an exact retry without
 * applying it twice.
 *
 * Group commit: pending edits of at least {@link fullBatchBytesDefault} framed bytes (a full
 * batch) are sent whenever an in-flight slot is free; fewer (a partial batch) are sent only
 * while fewer than {@link partialBatchInflightMaxDefault} batches are in flight, and otherwise
 * wait for the next acknowledgement, which sends them together with everything written
 * meanwhile. A master that writes small batches at a steady rate thus makes one Raft round per
 * round trip, not one per call, the way an HDFS NameNode's edit log syncs while the previous
 * sync is out; large writes still fill every slot. Each round costs every JournalNode a fixed
 * amount of CPU (about 0.5 ms on 2 cores: the gRPC call, the WAL write and fdatasync, two peer
 * frames, the apply), so on a loaded machine fewer rounds are also faster ones. Measured in the
 * bench's tail-lag run (10,000 edits/s offered in calls every millisecond, 3 JournalNodes and
 * the writer on 2 cores), one partial batch in flight against sixteen: write acknowledgement
 * p50 3.8-6.0 against 8.9 ms, standby tail lag p99 5.5-9.6 against 15.1-24.1 ms, the machine
 * 69-70% busy against 82-83%; batches of 1,000 edits 120,600/124,500 against 103,300/107,300
 * edits/s (two alternated pairs). 256 KiB rather than 1 MiB: tail lag p99 5.0/5.3 against
 * 6.9/8.5 ms, batches of 1,000 106,500/119,600 against 98,200/90,200 (calls of 1,000 edits
 * frame 1.04 MB, below 1 MiB, and were held back).
 *
 * Ending: EPOCH_FENCED (or LEASE_EXPIRED) fences the writer: every pending and later call
 * rejects with {@link EpochFencedError}. A write not acknowledged within `writeTimeoutMs` of its
 * call, or a protocol violation, fails the writer: pending writes reject with that error, later
 * calls with {@link WriterClosedError}. A write's promise never resolves unless the JournalNode
 * acknowledged its edits as committed.
 */
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { JournalError } from './errors.ts';
import { crc32c } from '@node-rs/crc32';
import { FramingBufferPool, frameRecordsForRequest } from '../journalnode/protocol/journal-request.ts';
import { batchBytesMax, batchRecordsMax, recordBytesMax, recordHeaderBytes } from '../journalnode/protocol/limits.ts';
import { foldRecordCrcs } from '../journalnode/protocol/record-crcs.ts';
import type { JournalRequest } from '../journalnode/protocol/generated/qjournal/v1/JournalRequest.ts';
import type { JournalResponse__Output } from '../journalnode/protocol/generated/qjournal/v1/JournalResponse.ts';
import type { FinalizeResult__Output } from '../journalnode/protocol/generated/qjournal/v1/FinalizeResult.ts';
import type { PurgeResult__Output } from '../journalnode/protocol/generated/qjournal/v1/PurgeResult.ts';
import type { SegmentInfo__Output } from '../journalnode/protocol/generated/qjournal/v1/SegmentInfo.ts';
import {
  CorruptRecordsError,
  EpochFencedError,
  InvalidArgumentError,
  LeaseExpiredError,
  OutOfOrderError,
  ProtocolError,
  RpcError,
  SegmentAlreadyOpenError,
  SegmentNotOpenError,
  WriteQueueFullError,
  WriteTimeoutError,
  WriterClosedError,
  journalErrorFromWire,
  rpcErrorFrom,
} from './errors.ts';
import type { ChannelPool, SuccessOf, UnaryMethodName, UnaryMethods } from './channel.ts';
import type { RouteTable } from './route-table.ts';
import type { Clock } from './clock.ts';
import { deferred } from './clock.ts';
import type { Deferred } from './clock.ts';
import { Deque } from './deque.ts';
import type { Logger } from './log.ts';

/**
 * Framing buffers of acknowledged batches a writer keeps for its next batches (each at most a
 * batch, 8 MiB): in steady writing one is freed per batch acknowledged and taken per batch framed.
 */
export const framingBuffersKeptMax = 4;

/** Default pending bytes that make a full batch (see the module comment). */
export const fullBatchBytesDefault = 256 * 1024;

/** Default in-flight batches at which a partial batch waits (see the module comment). */
export const partialBatchInflightMaxDefault = 1;

/** Where a writer is. Only 'open' accepts calls; the others are final. */
export type WriterState = 'open' | 'fenced' | 'failed' | 'closed';

/** How a writer ended: `error` is the fencing error or the failure ('closed': the abort reason, if any). */
export interface WriterEnd {
  readonly state: Exclude<WriterState, 'open'>;
  readonly error: Error | undefined;
}

/** Limits of one batch on the wire. */
export interface BatchLimits {
  /** Most framed bytes in one batch. */
  readonly bytesMax: number;
  /** Most records in one batch. */
  readonly recordsMax: number;
}

/** One contiguous slice `[start, end)` of a write's records that fits in one batch. */
export interface BatchSlice {
  readonly start: number;
  readonly end: number;
  /** Framed bytes of the slice. */
  readonly bytes: number;
}

/**
 * Split `records` into consecutive slices that each fit `limits` (pure). Every record must fit
 * on its own (`recordHeaderBytes + length <= limits.bytesMax`); asserts otherwise.
 */
export function splitIntoBatches(records: readonly Uint8Array[], limits: BatchLimits): BatchSlice[] {
  const slices: BatchSlice[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < records.length; i += 1) {
    const recordBytes = recordHeaderBytes + records[i]!.byteLength;
    if (recordBytes > limits.bytesMax) throw new RangeError(`record of ${recordBytes} framed bytes above the batch limit ${limits.bytesMax}`);
    if (i > start && (bytes + recordBytes > limits.bytesMax || i - start >= limits.recordsMax)) {
      slices.push({ start, end: i, bytes });
      start = i;
      bytes = 0;
    }
    bytes += recordBytes;
  }
  if (records.length > start) slices.push({ start, end: records.length, bytes });
  return slices;
}

/** Settings of a {@link JournalWriter}, given by QuorumJournalManager.openForWrite. */
export interface JournalWriterSettings {
  readonly journalId: string;
  readonly epoch: number;
  /** The journal's last txid when the writer was opened (after recovery). */
  readonly lastTxId: number;
  readonly routes: RouteTable;
  readonly channels: ChannelPool;
  /** Total time for one unary request with its retries, in milliseconds. */
  readonly requestTimeoutMs: number;
  /** Time from write() to acknowledgement after which the writer fails, in milliseconds. */
  readonly writeTimeoutMs: number;
  /** Most bytes (framed) admitted and not yet acknowledged; write() waits for room beyond. */
  readonly queueBytesMax: number;
  /** Most batches sent and not yet acknowledged. */
  readonly inflightBatchesMax: number;
  /**
   * With batches in flight, a stream that acknowledges nothing for this long is dropped and the
   * batches re-sent elsewhere (a paused or partitioned leader keeps its TCP connection open).
   */
  readonly streamStallTimeoutMs: number;
  /** Most write() calls not yet acknowledged; more reject with WriteQueueFullError. */
  readonly pendingWritesMax: number;
  /** Most framed bytes per batch (at most the protocol's batchBytesMax). */
  readonly batchBytesMax: number;
  /**
   * Pending bytes that make a full batch, sent whenever an in-flight slot is free. Below, the
   * pending edits are a partial batch, sent only while fewer than
   * {@link partialBatchInflightMax} batches are in flight (see the module comment).
   */
  readonly fullBatchBytes: number;
  /** Batches in flight at which a partial batch waits for an acknowledgement. */
  readonly partialBatchInflightMax: number;
  readonly clock: Clock;
  readonly log: Logger;
}

interface PendingWrite {
  readonly firstTxId: number;
  readonly lastTxId: number;
  readonly deadlineMs: number;
  readonly done: Deferred<void>;
}

/** Records of one write that fit in one batch, not yet framed. */
interface Chunk {
  readonly firstTxId: number;
  readonly records: readonly Uint8Array[];
  readonly bytes: number;
}

/** A framed batch, sent at least once on some stream, not yet acknowledged. Its bytes never change. */
interface Batch {
  readonly firstTxId: number;
  readonly count: number;
  readonly framed: Buffer;
  readonly crc32c: number;
  /** Sequence number on the current stream, 0 when not sent on it. */
  sequence: number;
  /** Times sent (on any stream). */
  sends: number;
}

/**
 * Writes one journal under one epoch. Obtain it from `QuorumJournalManager.openForWrite`.
 * Ordering duties of the caller: txids are consecutive across `startLogSegment`, `write` and
 * `finalizeLogSegment`; `write` may be called again before earlier writes resolve (pipelining)
 * and its promises resolve in txid order.
 */
export class JournalWriter {
  /** The journal written. */
  readonly journalId: string;
  /** This writer's epoch (its fencing token). */
  readonly epoch: number;

  private readonly settings: JournalWriterSettings;
  private readonly routes: RouteTable;
  private readonly log: Logger;
  private writerState: WriterState = 'open';
  private endError: Error | undefined;
  private readonly endDeferred = deferred<WriterEnd>();

  /** First txid of the open segment, undefined when none is open. */
  private segmentFirstTxId: number | undefined;
  /** The next txid write() accepts. Invariant: lastAckedTxId < nextTxIdValue. */
  private nextTxIdValue: number;
  /** The last acknowledged (committed) txid. */
  private lastAckedTxId: number;

  /** Unresolved writes, in txid order (<= pendingWritesMax). */
  private readonly owners = new Deque<PendingWrite>();
  /** Chunks waiting for room in the queue (backpressure). */
  private readonly waiting = new Deque<Chunk>();
  /** Chunks admitted, not yet framed. */
  private readonly pending = new Deque<Chunk>();
  /** Framed bytes and records of the pending chunks. */
  private pendingBytesValue = 0;
  private pendingRecordsValue = 0;
  /** Framed batches sent and unacknowledged, in txid order (<= inflightBatchesMax). */
  private readonly inflight = new Deque<Batch>();
  /** Bytes of pending chunks plus in-flight batches. Invariant: <= queueBytesMax, except one oversize chunk alone. */
  private queuedBytesValue = 0;

  private stream: ClientDuplexStream<JournalRequest, JournalResponse__Output> | undefined;
  private streamAddress = '';
  /** Incremented whenever the stream is replaced: events of older streams are ignored. */
  private generation = 0;
  private nextSequence = 1;
  /** Number of in-flight batches (from the head) sent on the current stream. */
  private sentOnStream = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectFailures = 0;
  private hintsFollowed = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** When the current stream last made progress (an acknowledgement, or the first send), ms. */
  private progressAtMs = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private deadlineArmedAtMs = 0;
  private flushWaiters: Deferred<void>[] = [];
  /** Framing memory of acknowledged batches, reused for the next ones. */
  private readonly framingPool = new FramingBufferPool(framingBuffersKeptMax);

  /** @internal Use QuorumJournalManager.openForWrite. */
  constructor(settings: JournalWriterSettings) {
    if (settings.queueBytesMax < recordHeaderBytes + recordBytesMax) {
      throw new RangeError(`queueBytesMax ${settings.queueBytesMax} below one largest record (${recordHeaderBytes + recordBytesMax} bytes)`);
    }
    if (settings.batchBytesMax < recordHeaderBytes + recordBytesMax || settings.batchBytesMax > batchBytesMax) {
      throw new RangeError(`batchBytesMax ${settings.batchBytesMax} outside ${recordHeaderBytes + recordBytesMax} .. ${batchBytesMax}`);
    }
    if (!(settings.inflightBatchesMax >= 1) || !(settings.pendingWritesMax >= 1)) throw new RangeError('inflightBatchesMax and pendingWritesMax must be >= 1');
    if (!(settings.streamStallTimeoutMs >= 1)) throw new RangeError('streamStallTimeoutMs must be >= 1');
    if (!(settings.fullBatchBytes >= 1) || !(settings.partialBatchInflightMax >= 1)) throw new RangeError('fullBatchBytes and partialBatchInflightMax must be >= 1');
    this.settings = settings;
    this.journalId = settings.journalId;
    this.epoch = settings.epoch;
    this.routes = settings.routes;
    this.log = settings.log;
    this.lastAckedTxId = settings.lastTxId;
    this.nextTxIdValue = settings.lastTxId + 1;
  }

  /** 'open' until fenced, failed or closed. */
  get state(): WriterState {
    return this.writerState;
  }

  /** The last committed txid this writer knows of: the recovered last txid, then the last acknowledged write. */
  get lastTxId(): number {
    return this.lastAckedTxId;
  }

  /** The txid the next write() must start at. */
  get nextTxId(): number {
    return this.nextTxIdValue;
  }

  /** First txid of the open segment, or undefined. */
  get openSegmentFirstTxId(): number | undefined {
    return this.segmentFirstTxId;
  }

  /** Bytes admitted and not yet acknowledged (framed size). */
  get queuedBytes(): number {
    return this.queuedBytesValue;
  }

  /** Batches framed into the memory of an acknowledged one (see FramingBufferPool). */
  get framingBuffersReused(): number {
    return this.framingPool.reused;
  }

  /** Batches sent and not yet acknowledged. */
  get inflightBatches(): number {
    return this.inflight.length;
  }

  /** Resolves once the writer is no longer open, with how it ended. Never rejects. */
  get ended(): Promise<WriterEnd> {
    return this.endDeferred.promise;
  }

  /**
   * Open segment `edits_inprogress_<txid>`. `txid` must be {@link nextTxId} and no segment may be
   * open. Resolves once committed.
   */
  async startLogSegment(txid: number): Promise<SegmentInfo__Output | undefined> {
    this.assertOpen();
    if (this.segmentFirstTxId !== undefined) throw new SegmentAlreadyOpenError(`segment ${this.segmentFirstTxId} is open`);
    if (txid !== this.nextTxIdValue) throw new OutOfOrderError({ expectedTxId: this.nextTxIdValue }, `startLogSegment(${txid}): the next txid is ${this.nextTxIdValue}`);
    const result = await this.unary('startSegment', { journalId: this.journalId, epoch: this.epoch, txId: txid }, `startSegment(${txid})`);
    this.assertOpen();
    if (result.segment !== null && result.segment.firstTxId !== txid) {
      throw this.failWith(new ProtocolError(`startSegment(${txid}) answered segment ${result.segment.firstTxId}`));
    }
    this.segmentFirstTxId = txid;
    return result.segment ?? undefined;
  }

  /**
   * Append `records` with txids `firstTxId ..` to the open segment. Resolves once every record
   * is committed. `firstTxId` must be {@link nextTxId} at the time of the call (reserved at
   * once, so calls may overlap). Waits for room when `queueBytesMax` bytes are queued.
   * Rejects with EpochFencedError when fenced, WriteTimeoutError when not acknowledged in time.
   */
  write(firstTxId: number, records: readonly Uint8Array[]): Promise<void> {
    try {
      this.assertOpen();
      if (this.segmentFirstTxId === undefined) throw new SegmentNotOpenError('write: no segment is open (call startLogSegment first)');
      if (firstTxId !== this.nextTxIdValue) throw new OutOfOrderError({ expectedTxId: this.nextTxIdValue }, `write(${firstTxId}): the next txid is ${this.nextTxIdValue}`);
      if (records.length === 0) throw new InvalidArgumentError('write: no records');
      for (const record of records) {
        if (!(record instanceof Uint8Array)) throw new InvalidArgumentError('write: records must be Uint8Array');
        if (record.byteLength > recordBytesMax) throw new InvalidArgumentError(`write: a record of ${record.byteLength} bytes is above ${recordBytesMax}`);
      }
      if (!Number.isSafeInteger(firstTxId + records.length)) throw new InvalidArgumentError('write: txids above 2^53 - 1');
      if (this.owners.length >= this.settings.pendingWritesMax) {
        throw new WriteQueueFullError(`write: ${this.owners.length} writes pending (pendingWritesMax); await earlier writes`);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const lastTxId = firstTxId + records.length - 1;
    const owner: PendingWrite = { firstTxId, lastTxId, deadlineMs: this.settings.clock.nowMs() + this.settings.writeTimeoutMs, done: deferred<void>() };
    this.owners.push(owner);
    const slices = splitIntoBatches(records, this.batchLimits());
    for (const slice of slices) {
      this.waiting.push({ firstTxId: firstTxId + slice.start, records: records.slice(slice.start, slice.end), bytes: slice.bytes });
    }
    this.nextTxIdValue = lastTxId + 1;
    this.pump();
    return owner.done.promise;
  }

  /** Resolves once every write so far is committed (rejects if the writer ends first). */
  flush(): Promise<void> {
    if (this.writerState !== 'open') return Promise.reject(this.callError());
    if (this.owners.length === 0) return Promise.resolve();
    const waiter = deferred<void>();
    this.flushWaiters.push(waiter);
    return waiter.promise;
  }

  /**
   * Finalize the open segment `first .. last` (`last = first - 1` drops an empty segment).
   * Waits for every write to commit first; `last` must be the last txid written.
   */
  async finalizeLogSegment(first: number, last: number): Promise<FinalizeResult__Output> {
    this.assertOpen();
    if (this.segmentFirstTxId !== first) throw new SegmentNotOpenError(`finalize(${first}, ${last}): the open segment is ${this.segmentFirstTxId ?? 'none'}`);
    if (last !== this.nextTxIdValue - 1) throw new OutOfOrderError({ expectedTxId: this.nextTxIdValue }, `finalize(${first}, ${last}): the last txid written is ${this.nextTxIdValue - 1}`);
    await this.flush();
    const result = await this.unary('finalize', { journalId: this.journalId, epoch: this.epoch, firstTxId: first, lastTxId: last }, `finalize(${first}, ${last})`);
    this.assertOpen();
    this.segmentFirstTxId = undefined;
    return result;
  }

  /** Delete finalized segments that end before `minTxIdToKeep`, under this writer's epoch. */
  async purgeLogsOlderThan(minTxIdToKeep: number): Promise<PurgeResult__Output> {
    this.assertOpen();
    return this.unary('purge', { journalId: this.journalId, epoch: this.epoch, minTxIdToKeep }, `purge(${minTxIdToKeep})`);
  }

  /**
   * Wait for every write to commit, then close (the open segment stays open: the next writer
   * recovers it, or call finalizeLogSegment first). Rejects if a pending write fails.
   */
  async close(): Promise<void> {
    if (this.writerState !== 'open') {
      if (this.writerState === 'closed') return;
      throw this.callError();
    }
    await this.flush();
    this.end('closed', undefined);
  }

  /**
   * Stop at once: pending writes reject with WriterClosedError (their edits may or may not be
   * committed), later calls too. For a master that lost its leadership. Idempotent.
   */
  abort(reason?: Error): void {
    this.end('closed', reason);
  }

  // ------------------------------------------------------------------------------------------
  // Pipeline

  private batchLimits(): { bytesMax: number; recordsMax: number } {
    return { bytesMax: Math.min(this.settings.batchBytesMax, this.settings.queueBytesMax), recordsMax: batchRecordsMax };
  }

  /** Move work forward: admit, connect, send, arm the deadline. Called after every event. */
  private pump(): void {
    if (this.writerState !== 'open') return;
    this.admit();
    if (this.stream === undefined && this.reconnectTimer === undefined && (this.inflight.length > 0 || this.pending.length > 0)) this.connect();
    this.send();
    this.armDeadline();
    this.armStallCheck();
  }

  /** Admit waiting chunks while they fit in queueBytesMax (one chunk is always admitted into an empty queue). */
  private admit(): void {
    for (;;) {
      const chunk = this.waiting.peek();
      if (chunk === undefined) return;
      if (this.queuedBytesValue > 0 && this.queuedBytesValue + chunk.bytes > this.settings.queueBytesMax) return;
      this.waiting.shift();
      this.pending.push(chunk);
      this.pendingBytesValue += chunk.bytes;
      this.pendingRecordsValue += chunk.records.length;
      this.queuedBytesValue += chunk.bytes;
    }
  }

  /** Re-send in-flight batches not yet sent on this stream, then frame and send new ones. */
  private send(): void {
    const stream = this.stream;
    if (stream === undefined) return;
    while (this.sentOnStream < this.inflight.length) {
      this.sendBatch(stream, this.inflight.at(this.sentOnStream)!);
      this.sentOnStream += 1;
    }
    const limits = this.batchLimits();
    const fullBytes = Math.min(this.settings.fullBatchBytes, limits.bytesMax);
    while (this.inflight.length < this.settings.inflightBatchesMax && this.pending.length > 0) {
      const full = this.pendingBytesValue >= fullBytes || this.pendingRecordsValue >= limits.recordsMax;
      if (!full && this.inflight.length >= this.settings.partialBatchInflightMax) break; // sent when an acknowledgement frees a slot
      const first = this.pending.shift()!;
      const records: Uint8Array[] = [...first.records];
      let bytes = first.bytes;
      for (;;) {
        const next = this.pending.peek();
        if (next === undefined || bytes + next.bytes > limits.bytesMax || records.length + next.records.length > limits.recordsMax) break;
        this.pending.shift();
        for (const record of next.records) records.push(record);
        bytes += next.bytes;
      }
      this.pendingBytesValue -= bytes;
      this.pendingRecordsValue -= records.length;
      const framed = frameRecordsForRequest(first.firstTxId, records, this.framingPool.reuse);
      // The batch's CRC from its records' (journalnode/protocol/record-crcs.ts), not a second
      // pass over its bytes; the JournalNode checks it against the bytes it received.
      const batchCrc = foldRecordCrcs(framed);
      if (batchCrc < 0) throw new Error(`assertion failed: a batch framed here does not fold (${framed.byteLength} bytes)`);
      const batch: Batch = { firstTxId: first.firstTxId, count: records.length, framed, crc32c: batchCrc, sequence: 0, sends: 0 };
      this.inflight.push(batch);
      this.sendBatch(stream, batch);
      this.sentOnStream += 1;
    }
  }

  private sendBatch(stream: ClientDuplexStream<JournalRequest, JournalResponse__Output>, batch: Batch): void {
    if (this.sentOnStream === 0) this.progressAtMs = this.settings.clock.nowMs();
    batch.sequence = this.nextSequence;
    this.nextSequence += 1;
    batch.sends += 1;
    stream.write({
      sequence: batch.sequence,
      journalId: this.journalId,
      epoch: this.epoch,
      firstTxId: batch.firstTxId,
      count: batch.count,
      records: batch.framed,
      crc32c: batch.crc32c,
    });
  }

  private connect(): void {
    const address = this.routes.target();
    let stream: ClientDuplexStream<JournalRequest, JournalResponse__Output>;
    try {
      stream = this.settings.channels.get(address).journalStream();
    } catch (error) {
      this.failWith(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.generation += 1;
    const generation = this.generation;
    this.stream = stream;
    this.streamAddress = address;
    this.nextSequence = 1;
    this.sentOnStream = 0;
    this.log.debug({ journalId: this.journalId, epoch: this.epoch, address, resend: this.inflight.length }, 'journal stream opened');
    stream.on('data', (response: JournalResponse__Output) => this.onResponse(generation, response));
    stream.on('error', (error: unknown) => this.onStreamBroken(generation, rpcErrorFrom(address, error)));
    stream.on('end', () => this.onStreamBroken(generation, new RpcError({ address, grpcCode: 14, retryable: true }, `${address}: journal stream ended by the server`)));
  }

  /** Drop the current stream; reconnect after `delayMs` if there is work. */
  private dropStream(delayMs: number): void {
    const stream = this.stream;
    this.stream = undefined;
    this.generation += 1;
    this.sentOnStream = 0;
    if (stream !== undefined) stream.cancel();
    if (this.writerState !== 'open') return;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.pump();
    }, delayMs);
  }

  /** A failed attempt on the stream: follow a hint at once, or back off. */
  private retryElsewhere(error: unknown): void {
    const outcome = this.routes.failed(this.streamAddress, error);
    if (outcome.kind === 'fail') {
      this.failWith(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    let delayMs = 0;
    if (outcome.kind === 'follow-hint' && this.hintsFollowed < this.routes.state.nodes.length + 1) {
      this.hintsFollowed += 1;
    } else {
      this.hintsFollowed = 0;
      this.reconnectFailures += 1;
      delayMs = this.routes.delayMs(this.reconnectFailures);
    }
    this.log.debug({ journalId: this.journalId, address: this.streamAddress, error: String(error), delayMs }, 'journal stream retry');
    this.dropStream(delayMs);
  }

  private onStreamBroken(generation: number, error: RpcError): void {
    if (generation !== this.generation || this.writerState !== 'open') return;
    if (this.inflight.length === 0 && this.pending.length === 0) {
      // Idle: nothing to resend; the next write reconnects.
      this.stream = undefined;
      this.generation += 1;
      return;
    }
    this.retryElsewhere(error);
  }

  private onResponse(generation: number, response: JournalResponse__Output): void {
    if (generation !== this.generation || this.writerState !== 'open') return;
    const head = this.inflight.peek();
    if (head === undefined || this.sentOnStream === 0) {
      this.failWith(new ProtocolError(`${this.streamAddress}: journal response ${response.sequence} with no batch in flight`));
      return;
    }
    if (response.sequence !== head.sequence) {
      this.failWith(new ProtocolError(`${this.streamAddress}: journal response sequence ${response.sequence}, expected ${head.sequence}`));
      return;
    }
    if (response.error !== undefined && response.error !== null) {
      this.onBatchError(head, journalErrorFromWire(response.error));
      return;
    }
    const result = response.success;
    if (result === undefined || result === null) {
      this.failWith(new ProtocolError(`${this.streamAddress}: journal response ${response.sequence} without a result`));
      return;
    }
    const headLast = head.firstTxId + head.count - 1;
    if (result.firstTxId !== head.firstTxId || result.count !== head.count || !(result.lastTxId >= headLast)) {
      this.failWith(new ProtocolError(`${this.streamAddress}: batch ${head.firstTxId}+${head.count} acknowledged as ${result.firstTxId}+${result.count} (last ${result.lastTxId})`));
      return;
    }
    this.acknowledgeHead();
  }

  private onBatchError(head: Batch, error: JournalError): void {
    if (error instanceof EpochFencedError) {
      this.fence(error);
      return;
    }
    if (error instanceof LeaseExpiredError) {
      this.fence(new EpochFencedError({ promisedEpoch: 0 }, `fenced: ${error.message}`, { cause: error }));
      return;
    }
    const headLast = head.firstTxId + head.count - 1;
    if (error instanceof OutOfOrderError && head.sends > 1 && error.expectedTxId > headLast) {
      // A re-sent batch the JournalNode no longer recognises as a retry, but its txids are below
      // the journal's next txid. Our epoch is still the writer's (EPOCH_FENCED is checked
      // first), so those txids were written by this writer, which sends each txid once with
      // one content: the batch is committed.
      this.log.debug({ journalId: this.journalId, firstTxId: head.firstTxId, expectedTxId: error.expectedTxId }, 're-sent batch already committed');
      this.acknowledgeHead();
      return;
    }
    if (error instanceof CorruptRecordsError && crc32c(head.framed) === head.crc32c) {
      // The JournalNode saw other bytes than these, which still match their checksum: damaged on
      // the way (HTTP/2 has no checksum of its own). Nothing was proposed; send again on a new
      // stream. The write's deadline bounds how long a path that keeps damaging bytes is tried.
      this.log.warn({ journalId: this.journalId, address: this.streamAddress, firstTxId: head.firstTxId, error: error.message }, 'batch damaged on the way; sending it again');
      this.reconnectFailures += 1;
      this.dropStream(this.routes.delayMs(this.reconnectFailures));
      return;
    }
    if (error.retryable) {
      this.retryElsewhere(error);
      return;
    }
    this.failWith(error);
  }

  private acknowledgeHead(): void {
    const head = this.inflight.shift()!;
    this.sentOnStream -= 1;
    this.framingPool.give(head.framed);
    this.queuedBytesValue -= head.framed.byteLength;
    this.lastAckedTxId = head.firstTxId + head.count - 1;
    this.reconnectFailures = 0;
    this.hintsFollowed = 0;
    this.progressAtMs = this.settings.clock.nowMs();
    this.routes.leaderConfirmed(this.streamAddress);
    for (;;) {
      const owner = this.owners.peek();
      if (owner === undefined || owner.lastTxId > this.lastAckedTxId) break;
      this.owners.shift();
      owner.done.resolve();
    }
    if (this.owners.length === 0) {
      const waiters = this.flushWaiters;
      this.flushWaiters = [];
      for (const waiter of waiters) waiter.resolve();
    }
    this.pump();
  }

  /** Arm one timer for the oldest unacknowledged write's deadline. */
  private armDeadline(): void {
    const oldest = this.owners.peek();
    if (oldest === undefined) {
      if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
      return;
    }
    if (this.deadlineTimer !== undefined && this.deadlineArmedAtMs === oldest.deadlineMs) return;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineArmedAtMs = oldest.deadlineMs;
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      this.checkDeadline();
    }, Math.max(0, oldest.deadlineMs - this.settings.clock.nowMs()));
  }

  /** Arm one timer for the current stream's stall deadline (batches in flight, no progress). */
  private armStallCheck(): void {
    if (this.stallTimer !== undefined) return;
    if (this.stream === undefined || this.sentOnStream === 0) return;
    const generation = this.generation;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      if (this.writerState !== 'open' || generation !== this.generation || this.sentOnStream === 0) {
        this.pump();
        return;
      }
      if (this.settings.clock.nowMs() - this.progressAtMs >= this.settings.streamStallTimeoutMs) {
        const stalled = new RpcError(
          { address: this.streamAddress, grpcCode: 4, retryable: true },
          `${this.streamAddress}: journal stream stalled: no acknowledgement for ${this.settings.streamStallTimeoutMs} ms`,
        );
        this.retryElsewhere(stalled);
        return;
      }
      this.armStallCheck();
    }, Math.max(1, this.progressAtMs + this.settings.streamStallTimeoutMs - this.settings.clock.nowMs()));
  }

  private checkDeadline(): void {
    if (this.writerState !== 'open') return;
    const oldest = this.owners.peek();
    if (oldest !== undefined && this.settings.clock.nowMs() >= oldest.deadlineMs) {
      this.failWith(new WriteTimeoutError({ firstTxId: oldest.firstTxId, timeoutMs: this.settings.writeTimeoutMs }));
      return;
    }
    this.armDeadline();
  }

  // ------------------------------------------------------------------------------------------
  // Unary calls and ending

  private async unary<M extends UnaryMethodName>(method: M, request: UnaryMethods[M][0], what: string): Promise<SuccessOf<UnaryMethods[M][1]>> {
    this.assertOpen();
    try {
      return await this.routes.invoke((address, timeoutMs) => this.settings.channels.get(address).call(method, request, timeoutMs), {
        timeoutMs: this.settings.requestTimeoutMs,
        what,
        leaderOnly: true,
      });
    } catch (error) {
      if (error instanceof EpochFencedError) throw this.fence(error);
      if (error instanceof LeaseExpiredError) throw this.fence(new EpochFencedError({ promisedEpoch: 0 }, `fenced: ${error.message}`, { cause: error }));
      throw error;
    }
  }

  private assertOpen(): void {
    if (this.writerState !== 'open') throw this.callError();
  }

  /** The error a call on an ended writer rejects with. */
  private callError(): Error {
    if (this.writerState === 'fenced') return this.endError!;
    if (this.writerState === 'failed') return new WriterClosedError(`the journal writer failed: ${this.endError?.message ?? ''}`, { cause: this.endError });
    return new WriterClosedError('the journal writer is closed', { cause: this.endError });
  }

  private fence(error: EpochFencedError): EpochFencedError {
    this.log.warn({ journalId: this.journalId, epoch: this.epoch, promisedEpoch: error.promisedEpoch }, 'journal writer fenced');
    this.end('fenced', error);
    return this.writerState === 'fenced' ? (this.endError as EpochFencedError) : error;
  }

  private failWith(error: Error): Error {
    this.log.error({ journalId: this.journalId, epoch: this.epoch, error: error.message }, 'journal writer failed');
    this.end('failed', error);
    return error;
  }

  private end(state: Exclude<WriterState, 'open'>, error: Error | undefined): void {
    if (this.writerState !== 'open') return;
    this.writerState = state;
    this.endError = error;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.deadlineTimer = undefined;
    this.reconnectTimer = undefined;
    this.stallTimer = undefined;
    this.dropStream(0);
    const rejection = state === 'closed' ? this.callError() : error!;
    for (const owner of this.owners.drain()) owner.done.reject(rejection);
    this.waiting.drain();
    this.pending.drain();
    this.pendingBytesValue = 0;
    this.pendingRecordsValue = 0;
    this.inflight.drain();
    this.queuedBytesValue = 0;
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const waiter of waiters) waiter.reject(rejection);
    this.endDeferred.resolve({ state, error });
  }
}
