/**
 * The outbound half of one peer link: a send queue and one long-lived `Stream` call that
 * carries it in order, batched per synchronous run (flushed in a microtask).
 *
 * States: `idle` (no call; the next message opens one) -> `open` -> on a broken call
 * `backoff` (messages are refused until the reconnect delay passes) -> `idle`; `closed` is final.
 *
 * Memory bound: bytes queued plus bytes written but not yet acknowledged by the receiver stay
 * under `sendQueueBytesMax` (estimated with messageBytesUpperBound).
 */
import type * as grpc from '@grpc/grpc-js';
import type { Message, NodeId } from '../core/types.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { decodeUint64, encodeMessage } from './codec.ts';
import type { MessageBatch } from './generated/qjournal/raft/v1/MessageBatch.ts';
import type { RaftTransportClient } from './generated/qjournal/raft/v1/RaftTransport.ts';
import type { StreamAck__Output } from './generated/qjournal/raft/v1/StreamAck.ts';
import type { TransportStats } from './stats.ts';

/** Bytes a MessageBatch adds around its messages (the sequence field), upper bound. */
export const BATCH_OVERHEAD_BYTES = 11;

/** What became of a message handed to `enqueue`. */
export type EnqueueResult = 'queued' | 'full' | 'unreachable';

export interface PeerStreamOptions {
  readonly peer: NodeId;
  readonly client: RaftTransportClient;
  /** Largest encoded MessageBatch, in bytes; every enqueued message must fit alone. */
  readonly messageBytesMax: number;
  /** Bound of queued plus unacknowledged bytes for this peer. */
  readonly sendQueueBytesMax: number;
  readonly backoff: BackoffOptions;
  readonly stats: TransportStats;
  /** The call broke: messages may have been lost. Called from grpc-js callbacks, never from enqueue. */
  readonly onBroken: (peer: NodeId) => void;
}

interface QueuedMessage {
  readonly message: Message;
  readonly bytes: number;
}

interface InflightBatch {
  readonly sequence: number;
  readonly bytes: number;
}

type StreamCall = grpc.ClientDuplexStream<MessageBatch, StreamAck__Output>;

export class PeerStream {
  private state: 'idle' | 'open' | 'backoff' | 'closed' = 'idle';
  private call: StreamCall | null = null;
  /** Messages not yet written, in send order. Bounded with inflight by sendQueueBytesMax. */
  private queue: QueuedMessage[] = [];
  private queuedBytes = 0;
  /** Written batches not yet acknowledged, by ascending sequence. */
  private inflight: InflightBatch[] = [];
  private inflightBytes = 0;
  private nextSequence = 1;
  private flushScheduled = false;
  private writeBlocked = false;
  private backoffTimer: NodeJS.Timeout | null = null;
  private readonly backoff: Backoff;

  constructor(private readonly options: PeerStreamOptions) {
    this.backoff = new Backoff(options.backoff);
  }

  /**
   * Queue `m` (whose messageBytesUpperBound is `bytes`) for the next batch. Never blocks and
   * never calls back synchronously. `unreachable`: the link is backing off after a failure;
   * `full`: the queue bound would be passed. The caller reports both as unreachable.
   */
  enqueue(m: Message, bytes: number): EnqueueResult {
    if (bytes + BATCH_OVERHEAD_BYTES > this.options.messageBytesMax) throw new Error(`peer stream: message of ${bytes} bytes cannot fit a batch`);
    if (this.state === 'backoff' || this.state === 'closed') return 'unreachable';
    if (this.queuedBytes + this.inflightBytes + bytes > this.options.sendQueueBytesMax) return 'full';
    this.queue.push({ message: m, bytes });
    this.queuedBytes += bytes;
    if (!this.flushScheduled) {
      // A microtask, not the next event-loop turn: everything sent in the current synchronous
      // run still goes in one batch, and a Raft round trip does not wait for a loop turn per hop.
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
    return 'queued';
  }

  /** Bytes queued plus bytes written and not yet acknowledged. */
  pendingBytes(): number {
    return this.queuedBytes + this.inflightBytes;
  }

  /** Cancel the call and drop everything queued. Final. */
  close(): void {
    this.state = 'closed';
    if (this.backoffTimer !== null) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    const call = this.call;
    this.resetLink();
    call?.cancel();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.state === 'closed' || this.state === 'backoff' || this.queue.length === 0) return;
    const call = this.call ?? this.openCall();
    const bytesMax = this.options.messageBytesMax;
    while (this.queue.length > 0 && !this.writeBlocked) {
      // Cut the longest prefix that fits one batch (at least one message: enqueue checked it fits).
      let end = 0;
      let bytes = BATCH_OVERHEAD_BYTES;
      while (end < this.queue.length) {
        const next = this.queue[end]!.bytes;
        if (end > 0 && bytes + next > bytesMax) break;
        bytes += next;
        end += 1;
      }
      const taken = end === this.queue.length ? this.queue : this.queue.slice(0, end);
      this.queue = end === this.queue.length ? [] : this.queue.slice(end);
      this.queuedBytes -= bytes - BATCH_OVERHEAD_BYTES;
      const sequence = this.nextSequence;
      this.nextSequence += 1;
      this.inflight.push({ sequence, bytes });
      this.inflightBytes += bytes;
      const messages = taken.map((q) => encodeMessage(q.message));
      this.options.stats.sentMessages += messages.length;
      this.options.stats.sentBatches += 1;
      if (!call.write({ sequence, messages })) this.writeBlocked = true;
    }
  }

  private openCall(): StreamCall {
    const call = this.options.client.Stream();
    this.call = call;
    this.state = 'open';
    call.on('data', (ack: StreamAck__Output) => this.onAck(call, ack));
    // The receiver answers the headers at once (acks are lazy): the link works.
    call.on('metadata', () => {
      if (call === this.call) this.backoff.success();
    });
    call.on('drain', () => {
      if (call !== this.call) return;
      this.writeBlocked = false;
      this.flush();
    });
    // grpc-js emits 'error' for a non-OK status, then 'status' for every status: 'status' does the work.
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => this.onStatus(call, status));
    return call;
  }

  private onAck(call: StreamCall, ack: StreamAck__Output): void {
    if (call !== this.call) return;
    let sequence: number;
    try {
      sequence = decodeUint64(ack.sequence, 'ack.sequence');
    } catch {
      call.cancel(); // a peer that acknowledges garbage: start the link again
      return;
    }
    let released = 0;
    let bytes = 0;
    while (released < this.inflight.length && this.inflight[released]!.sequence <= sequence) {
      bytes += this.inflight[released]!.bytes;
      released += 1;
    }
    if (released > 0) {
      this.inflight = released === this.inflight.length ? [] : this.inflight.slice(released);
      this.inflightBytes -= bytes;
    }
  }

  private onStatus(call: StreamCall, status: grpc.StatusObject): void {
    if (call !== this.call) return;
    const dropped = this.queue.length;
    this.resetLink();
    if (this.state === 'closed') return;
    if (status.code !== 0) this.options.stats.streamFailures += 1;
    this.options.stats.droppedUnreachable += dropped;
    this.state = 'backoff';
    const delayMs = this.backoff.failure();
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      if (this.state === 'backoff') this.state = 'idle';
    }, delayMs);
    this.backoffTimer.unref();
    this.options.onBroken(this.options.peer);
  }

  private resetLink(): void {
    this.call = null;
    this.queue = [];
    this.queuedBytes = 0;
    this.inflight = [];
    this.inflightBytes = 0;
    this.nextSequence = 1;
    this.writeBlocked = false;
  }
}
