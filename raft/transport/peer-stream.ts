/**
 * The outbound half of one peer link: a send queue and one long-lived TCP connection
 * (peer-link.ts) that carries it in order, batched per synchronous run (flushed in a microtask).
 *
 * States: `idle` (no connection; the next message dials one) -> `connecting` (messages queue)
 * -> `open` -> on a broken connection `backoff` (messages are refused until the reconnect delay
 * passes) -> `idle`; `closed` is final.
 *
 * Memory bound: bytes queued plus bytes written but not yet acknowledged by the receiver stay
 * under `sendQueueBytesMax` (estimated with messageBytesUpperBound).
 *
 * Liveness: a written batch not acknowledged within `ackTimeoutMs` breaks the connection (a
 * peer or path gone silent without closing it; the receiver acknowledges within
 * ACK_DELAY_MS of a batch). An idle link is watched by TCP keepalive only.
 */
import type { Socket } from 'node:net';
import type { Message, NodeId } from '../core/types.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { ACK_BYTES, BATCH_HEADER_BYTES, decodeAckFrame, encodeBatchFrame } from './link-codec.ts';
import { dialPeerLink, FRAME_HEADER_BYTES, FrameReader, writePieces } from './peer-link.ts';
import type { TransportStats } from './stats.ts';

/** Bytes a batch frame adds around its messages (length prefix and batch header). */
export const BATCH_OVERHEAD_BYTES = FRAME_HEADER_BYTES + BATCH_HEADER_BYTES;
/** Scratch of the reader of a link's acknowledgements (frames of ACK_BYTES). */
const ACK_READ_SCRATCH_BYTES = 1024;

/** What became of a message handed to `enqueue`. */
export type EnqueueResult = 'queued' | 'full' | 'unreachable';

export interface PeerStreamOptions {
  readonly peer: NodeId;
  /** The peer's `host:port`. */
  readonly address: string;
  /** Largest encoded MessageBatch, in bytes; every enqueued message must fit alone. */
  readonly messageBytesMax: number;
  /** Bound of queued plus unacknowledged bytes for this peer. */
  readonly sendQueueBytesMax: number;
  readonly backoff: BackoffOptions;
  /** A batch unacknowledged this long, or a connection not up this long, breaks the link (ms). */
  readonly ackTimeoutMs: number;
  /** TCP keepalive probe delay of the connection (ms). */
  readonly keepaliveTimeMs: number;
  readonly stats: TransportStats;
  /** The link broke: messages may have been lost. Called from socket callbacks, never from enqueue. */
  readonly onBroken: (peer: NodeId) => void;
}

interface QueuedMessage {
  readonly message: Message;
  readonly bytes: number;
}

interface InflightBatch {
  readonly sequence: number;
  readonly bytes: number;
  /** performance.now() when written. */
  readonly sentAt: number;
}

export class PeerStream {
  private state: 'idle' | 'connecting' | 'open' | 'backoff' | 'closed' = 'idle';
  private socket: Socket | null = null;
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
  /** Watches the oldest unacknowledged batch (see the module comment). */
  private ackTimer: NodeJS.Timeout | null = null;
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

  /** Close the connection and drop everything queued. Final. */
  close(): void {
    this.state = 'closed';
    if (this.backoffTimer !== null) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    const socket = this.socket;
    this.resetLink();
    socket?.destroy();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.state === 'closed' || this.state === 'backoff' || this.queue.length === 0) return;
    if (this.state === 'idle') this.dial();
    if (this.state !== 'open') return; // connecting: flushed once the link is up
    const socket = this.socket!;
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
      this.inflight.push({ sequence, bytes, sentAt: performance.now() });
      this.inflightBytes += bytes;
      const frame = encodeBatchFrame(sequence, taken.map((q) => q.message));
      this.options.stats.sentMessages += taken.length;
      this.options.stats.sentBatches += 1;
      this.options.stats.sentBytes += frame.bytes;
      if (!writePieces(socket, frame.pieces)) this.writeBlocked = true;
    }
    // New batches are never the oldest unacknowledged one while the timer runs: it stays.
    if (this.ackTimer === null) this.armAckTimer();
  }

  private dial(): void {
    this.state = 'connecting';
    const decoder = new FrameReader(ACK_BYTES, undefined, ACK_READ_SCRATCH_BYTES);
    let socket: Socket;
    try {
      socket = dialPeerLink(this.options.address, this.options.ackTimeoutMs, () => {
        if (socket !== this.socket) return;
        socket.setKeepAlive(true, this.options.keepaliveTimeMs);
        socket.on('data', (chunk: Buffer) => {
          if (socket !== this.socket) return;
          let frames: Buffer[];
          try {
            frames = decoder.push(chunk);
          } catch {
            socket.destroy(); // a peer that answers garbage: start the link again
            return;
          }
          for (const frame of frames) this.onAck(socket, frame);
        });
        this.state = 'open';
        this.flush();
      });
    } catch {
      // An address that cannot be dialled at all (not host:port): broken like a refused link,
      // and tried again after the backoff.
      this.linkBroken();
      return;
    }
    this.socket = socket;
    socket.on('drain', () => {
      if (socket !== this.socket) return;
      this.writeBlocked = false;
      this.flush();
    });
    socket.on('error', () => {}); // 'close' follows and does the work
    socket.on('close', () => this.onClose(socket));
  }

  private onAck(socket: Socket, frame: Buffer): void {
    let sequence: number;
    try {
      sequence = decodeAckFrame(frame);
    } catch {
      socket.destroy(); // a peer that acknowledges garbage: start the link again
      return;
    }
    if (sequence >= this.nextSequence) {
      // Acknowledges a batch this link never sent: damaged on the way, or a confused peer.
      socket.destroy(new Error(`peer ${this.options.peer}: acknowledgement of batch ${sequence}, never sent`));
      return;
    }
    // The acceptor's first frame (sequence 0) says it took the link.
    if (sequence === 0) this.backoff.success();
    let released = 0;
    let bytes = 0;
    while (released < this.inflight.length && this.inflight[released]!.sequence <= sequence) {
      bytes += this.inflight[released]!.bytes;
      released += 1;
    }
    if (released > 0) {
      this.inflight = released === this.inflight.length ? [] : this.inflight.slice(released);
      this.inflightBytes -= bytes;
      this.armAckTimer();
    }
  }

  /** (Re)arm the timer for the oldest unacknowledged batch; clear it when none is left. */
  private armAckTimer(): void {
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const oldest = this.inflight[0];
    if (oldest === undefined || this.socket === null) return;
    const socket = this.socket;
    const delay = Math.max(0, oldest.sentAt + this.options.ackTimeoutMs - performance.now());
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      if (socket === this.socket) socket.destroy(new Error(`peer ${this.options.peer}: no acknowledgement within ${this.options.ackTimeoutMs} ms`));
    }, delay);
    this.ackTimer.unref();
  }

  private onClose(socket: Socket): void {
    if (socket === this.socket) this.linkBroken();
  }

  /** The link broke (or could not be dialled): drop what is queued, back off, report. */
  private linkBroken(): void {
    const dropped = this.queue.length;
    this.resetLink();
    if (this.state === 'closed') return;
    this.options.stats.streamFailures += 1;
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
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.socket = null;
    this.queue = [];
    this.queuedBytes = 0;
    this.inflight = [];
    this.inflightBytes = 0;
    this.nextSequence = 1;
    this.writeBlocked = false;
  }
}
