/**
 * The gRPC peer transport of one Raft group member (design sections 3 and 9).
 *
 * Outbound: one ordered peer link per peer (a TCP connection to the peer's gRPC port,
 * peer-link.ts) carries every message, batched per synchronous run, flushed in a microtask
 * (pipelining without reordering). MsgSnap messages do not travel on it: they start a file-set
 * transfer over gRPC (`SnapshotOffsets` then `InstallSnapshot`, on a connection of its own so
 * heartbeats are not stuck behind file chunks), and the receiver hands the MsgSnap to its core
 * only once the files are published.
 *
 * Inbound: the `RaftTransport` service, registered on a server the caller owns, and the peer
 * links of the caller's shared port (`addToServer`). Everything from the wire is checked
 * before it reaches the core.
 *
 * Handlers are never called synchronously from `send`, `setPeer`, `removePeer` or `close`:
 * unreachable reports are deferred to a microtask, and nothing is reported after `close`.
 */
import { flowControlChannelOptions } from './grpc-tuning.ts';
import * as grpc from '@grpc/grpc-js';
import type { Message, NodeId, SnapshotMeta } from '../core/types.ts';
import { messageBytesUpperBound, isNodeId, type SnapshotFileInfo } from './codec.ts';
import type { RaftTransportClient, RaftTransportDefinition, RaftTransportHandlers } from './generated/qjournal/raft/v1/RaftTransport.ts';
import { BATCH_OVERHEAD_BYTES, PeerStream } from './peer-stream.ts';
import { clientConstructorFor, hookedServiceDefinition } from './proto.ts';
import type { SharedPort } from './shared-port.ts';
import { SnapshotReceiver, type SnapshotSinkLike } from './snapshot-receiver.ts';
import { sendSnapshotFileSet } from './snapshot-sender.ts';
import { newTransportStats, type TransportStats } from './stats.ts';
import { StreamReceiver } from './stream-receiver.ts';

/** Default largest gRPC message (one MessageBatch, one snapshot chunk), in bytes: 16 MiB. */
export const DEFAULT_MESSAGE_BYTES_MAX = 16 * 1024 * 1024;
/** Default bound of queued plus unacknowledged bytes per peer: 64 MiB. */
export const DEFAULT_SEND_QUEUE_BYTES_MAX = 64 * 1024 * 1024;
/** Default snapshot file chunk, in bytes: 1 MiB. */
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
/** Default time a written batch may wait for its acknowledgement before its link is broken, ms. */
export const DEFAULT_ACK_TIMEOUT_MS = 5_000;
/** Default reconnect backoff, in ms. */
export const DEFAULT_RECONNECT_BACKOFF_MS = { initial: 100, max: 3000 } as const;
/** Room left in a gRPC message for the fields around a snapshot chunk's data, in bytes. */
const SNAPSHOT_CHUNK_OVERHEAD_BYTES = 1024;

/** What the transport needs from the runtime. Called from grpc-js callbacks, in event order. */
export interface TransportHandlers {
  /** Inbound messages, already checked (our group, addressed to us, safe integers, known enums), in arrival order per peer. */
  onMessages(messages: Message[]): void;
  /** Messages to `peer` were dropped or may have been lost (no address, queue full, stream broke): raft retries. */
  onUnreachable(peer: NodeId): void;
  /** Outcome of sending a MsgSnap's file set to `peer` (true: the receiver published it and stepped the MsgSnap). */
  onSnapshotStatus(peer: NodeId, ok: boolean): void;
  /** Sender side: where the file set of the snapshot `meta` lives (a directory and its manifest). */
  snapshotSource(meta: SnapshotMeta): Promise<{ dir: string; files: readonly SnapshotFileInfo[] }>;
  /** Receiver side: the snapshot store's receiving part. */
  snapshotSink: SnapshotSinkLike;
}

/** Options of a GrpcRaftTransport. Sizes in bytes, durations in ms. */
export interface GrpcRaftTransportOptions {
  readonly id: NodeId;
  readonly groupId: string;
  /** Peer id -> `host:port`. Our own id, if present, is ignored. */
  readonly peers: ReadonlyMap<NodeId, string>;
  readonly handlers: TransportHandlers;
  /**
   * Largest gRPC message, both ways (default 16 MiB): one MessageBatch or snapshot chunk. A
   * single message above it is dropped (reported unreachable): keep the core's
   * `messageBytesMax` (entry bytes per MsgApp) well below it.
   */
  readonly messageBytesMax?: number;
  /** Bound of queued plus unacknowledged bytes per peer (default 64 MiB, >= messageBytesMax). Overflow drops and reports unreachable. */
  readonly sendQueueBytesMax?: number;
  /** Snapshot file chunk size (default 1 MiB, at most messageBytesMax - 1 KiB). */
  readonly snapshotChunkBytes?: number;
  /** Delay before a broken peer stream is opened again: doubles per failure up to `max` (default 100..3000 ms). */
  readonly reconnectBackoffMs?: { readonly initial: number; readonly max: number };
  /** An inbound snapshot receive with no chunk for this long is aborted (default 30 s). */
  readonly snapshotIdleTimeoutMs?: number;
  /** Snapshot chunk writes handed to the sink and not yet durable, at most (default 4). */
  readonly snapshotWritesInflightMax?: number;
  /** Deadline of the SnapshotOffsets call (default 10 s). */
  readonly snapshotOffsetsTimeoutMs?: number;
  /** Keepalive interval of peer connections (default 10 s; HTTP/2 pings for snapshots, TCP keepalive for links). */
  readonly keepaliveTimeMs?: number;
  /**
   * A batch written to a peer link and not acknowledged this long (or a link not connected this
   * long) breaks the link, which reports the peer unreachable and dials again (default 5 s).
   */
  readonly ackTimeoutMs?: number;
}

/**
 * gRPC channel options with the message size limits of `messageBytesMax`, for the server the
 * runtime creates and hands to `addToServer` (grpc-js's default receive limit is 4 MiB). A
 * server shared with other services should use the largest limit any of them needs; the
 * transport also enforces `messageBytesMax` itself on its own methods.
 */
export function raftTransportChannelOptions(messageBytesMax: number = DEFAULT_MESSAGE_BYTES_MAX): grpc.ChannelOptions {
  return { 'grpc.max_receive_message_length': messageBytesMax, 'grpc.max_send_message_length': messageBytesMax, ...flowControlChannelOptions() };
}

/** An inbound request above messageBytesMax: answered with an error status by grpc-js. */
class InboundTooLargeError extends Error {
  override readonly name = 'InboundTooLargeError';
}

interface PeerLink {
  readonly address: string;
  readonly stream: PeerStream;
  /** A separate connection for snapshot chunks, opened on first use. */
  snapshotClient: RaftTransportClient | null;
  /** The file-set transfer in flight (at most one). */
  snapshot: { readonly abort: AbortController; readonly done: Promise<void> } | null;
}

export class GrpcRaftTransport {
  readonly id: NodeId;
  readonly groupId: string;
  private readonly handlers: TransportHandlers;
  private readonly messageBytesMax: number;
  private readonly sendQueueBytesMax: number;
  private readonly snapshotChunkBytes: number;
  private readonly reconnectBackoffMs: { readonly initial: number; readonly max: number };
  private readonly snapshotOffsetsTimeoutMs: number;
  private readonly keepaliveTimeMs: number;
  private readonly ackTimeoutMs: number;
  private readonly counters: TransportStats = newTransportStats();
  private readonly definition: RaftTransportDefinition;
  private readonly Client: ReturnType<typeof clientConstructorFor>;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly streamReceiver: StreamReceiver;
  private readonly snapshotReceiver: SnapshotReceiver;
  /** Snapshot transfers cut short by removePeer/setPeer, still settling. */
  private readonly abandonedTransfers = new Set<Promise<void>>();
  private readonly pendingUnreachable = new Set<NodeId>();
  private closed = false;

  constructor(options: GrpcRaftTransportOptions) {
    if (!isNodeId(options.id)) throw new RangeError(`raft transport: invalid node id ${JSON.stringify(options.id)}`);
    this.id = options.id;
    this.groupId = options.groupId;
    this.handlers = options.handlers;
    this.messageBytesMax = options.messageBytesMax ?? DEFAULT_MESSAGE_BYTES_MAX;
    this.sendQueueBytesMax = options.sendQueueBytesMax ?? Math.max(DEFAULT_SEND_QUEUE_BYTES_MAX, this.messageBytesMax);
    this.snapshotChunkBytes = options.snapshotChunkBytes ?? Math.min(DEFAULT_SNAPSHOT_CHUNK_BYTES, this.messageBytesMax - SNAPSHOT_CHUNK_OVERHEAD_BYTES);
    this.reconnectBackoffMs = options.reconnectBackoffMs ?? DEFAULT_RECONNECT_BACKOFF_MS;
    this.snapshotOffsetsTimeoutMs = options.snapshotOffsetsTimeoutMs ?? 10_000;
    this.keepaliveTimeMs = options.keepaliveTimeMs ?? 10_000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    const positive = (name: string, value: number): void => {
      if (!(Number.isSafeInteger(value) && value > 0)) throw new RangeError(`raft transport: ${name} must be a positive integer, got ${value}`);
    };
    positive('messageBytesMax', this.messageBytesMax);
    positive('sendQueueBytesMax', this.sendQueueBytesMax);
    positive('snapshotChunkBytes', this.snapshotChunkBytes);
    positive('ackTimeoutMs', this.ackTimeoutMs);
    positive('keepaliveTimeMs', this.keepaliveTimeMs);
    if (this.messageBytesMax < 4096) throw new RangeError('raft transport: messageBytesMax must be at least 4096');
    if (this.sendQueueBytesMax < this.messageBytesMax) throw new RangeError('raft transport: sendQueueBytesMax must be >= messageBytesMax');
    if (this.snapshotChunkBytes > this.messageBytesMax - SNAPSHOT_CHUNK_OVERHEAD_BYTES) {
      throw new RangeError(`raft transport: snapshotChunkBytes must be <= messageBytesMax - ${SNAPSHOT_CHUNK_OVERHEAD_BYTES}`);
    }

    const stats = this.counters;
    const messageBytesMax = this.messageBytesMax;
    this.definition = hookedServiceDefinition({
      onSerialized(_method, bytes) {
        stats.sentBytes += bytes;
      },
      onReceived(_method, bytes) {
        stats.receivedBytes += bytes;
        if (bytes > messageBytesMax) {
          stats.rejectedInbound += 1;
          throw new InboundTooLargeError(`message of ${bytes} bytes exceeds ${messageBytesMax}`);
        }
      },
    });
    this.Client = clientConstructorFor(this.definition);
    const deliver = (messages: Message[]): void => {
      if (!this.closed) this.handlers.onMessages(messages);
    };
    this.streamReceiver = new StreamReceiver({
      id: this.id,
      groupId: this.groupId,
      stats,
      frameBytesMax: messageBytesMax,
      keepaliveTimeMs: this.keepaliveTimeMs,
      deliver,
    });
    this.snapshotReceiver = new SnapshotReceiver({
      id: this.id,
      groupId: this.groupId,
      sink: this.handlers.snapshotSink,
      idleTimeoutMs: options.snapshotIdleTimeoutMs ?? 30_000,
      writesInflightMax: options.snapshotWritesInflightMax ?? 4,
      stats,
      deliver,
    });
    for (const [peer, address] of options.peers) if (peer !== this.id) this.setPeer(peer, address);
  }

  /**
   * Register the `RaftTransport` service on `server` and take the peer links of `port`, the
   * shared port that serves `server` (the caller owns both; create the server with
   * raftTransportChannelOptions so grpc-js's own limits match). Call once.
   */
  addToServer(server: grpc.Server, port: SharedPort): void {
    port.onPeerLink((socket, head) => this.streamReceiver.handle(socket, head));
    const implementation: RaftTransportHandlers = {
      SnapshotOffsets: (call, callback) => this.snapshotReceiver.handleOffsets(call, callback),
      InstallSnapshot: (call, callback) => this.snapshotReceiver.handleInstall(call, callback),
    };
    server.addService(this.definition, implementation);
  }

  /**
   * Send `messages` (from this node, of this group). Non-blocking: messages are queued per
   * peer and written as one batch per peer per synchronous run (flushed in a microtask), in order. Messages that cannot
   * be queued are dropped and their peer reported unreachable (later, never synchronously).
   * A MsgSnap starts a file-set transfer instead (at most one in flight per peer; a MsgSnap
   * meanwhile is dropped), whose outcome comes through onSnapshotStatus.
   */
  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const m of messages) {
      if (m.from !== this.id || m.groupId !== this.groupId) {
        throw new Error(`raft transport: message from ${m.from} of group ${m.groupId} handed to ${this.id} of ${this.groupId}`);
      }
      const link = this.links.get(m.to);
      if (link === undefined) {
        if (m.to === this.id) throw new Error('raft transport: message to self');
        this.counters.droppedUnreachable += 1;
        this.reportUnreachable(m.to);
        continue;
      }
      if (m.type === 'MsgSnap') {
        this.startSnapshotTransfer(m.to, link, m);
        continue;
      }
      const bytes = messageBytesUpperBound(m);
      if (bytes + BATCH_OVERHEAD_BYTES > this.messageBytesMax) {
        this.counters.droppedOversize += 1;
        this.reportUnreachable(m.to);
        continue;
      }
      const result = link.stream.enqueue(m, bytes);
      if (result === 'queued') continue;
      if (result === 'full') this.counters.droppedQueueFull += 1;
      else this.counters.droppedUnreachable += 1;
      this.reportUnreachable(m.to);
    }
  }

  /** Add a peer or change its address (`host:port`). A changed address starts a new link. */
  setPeer(id: NodeId, address: string): void {
    if (this.closed) return;
    if (!isNodeId(id)) throw new RangeError(`raft transport: invalid node id ${JSON.stringify(id)}`);
    if (id === this.id) return;
    const existing = this.links.get(id);
    if (existing !== undefined) {
      if (existing.address === address) return;
      this.dropLink(existing);
    }
    const stream = new PeerStream({
      peer: id,
      address,
      messageBytesMax: this.messageBytesMax,
      sendQueueBytesMax: this.sendQueueBytesMax,
      backoff: this.reconnectBackoffMs,
      ackTimeoutMs: this.ackTimeoutMs,
      keepaliveTimeMs: this.keepaliveTimeMs,
      stats: this.counters,
      onBroken: (peer) => this.reportUnreachable(peer),
    });
    this.links.set(id, { address, stream, snapshotClient: null, snapshot: null });
  }

  /** Forget a peer: its queue is dropped, its calls cancelled, its snapshot transfer aborted (no status reported). */
  removePeer(id: NodeId): void {
    const link = this.links.get(id);
    if (link === undefined) return;
    this.links.delete(id);
    this.dropLink(link);
  }

  /** A copy of the counters. */
  stats(): TransportStats & { peers: number; pendingBytes: Record<NodeId, number> } {
    const pendingBytes: Record<NodeId, number> = {};
    for (const [id, link] of this.links) pendingBytes[id] = link.stream.pendingBytes();
    return { ...this.counters, peers: this.links.size, pendingBytes };
  }

  /**
   * Stop: cancel outbound calls, end inbound ones, abort snapshot transfers both ways and wait
   * until none is still reading or writing files. No handler is called afterwards. The server
   * itself is the caller's to shut down, after this (inbound streams are long-lived: a
   * `tryShutdown` before `close` would wait for them).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) this.dropLink(link);
    this.links.clear();
    this.streamReceiver.close();
    await Promise.all([this.snapshotReceiver.close(), ...this.abandonedTransfers]);
  }

  private clientOptions(): grpc.ChannelOptions {
    return {
      ...raftTransportChannelOptions(this.messageBytesMax),
      'grpc.initial_reconnect_backoff_ms': this.reconnectBackoffMs.initial,
      'grpc.max_reconnect_backoff_ms': this.reconnectBackoffMs.max,
      'grpc.keepalive_time_ms': this.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': Math.max(1000, Math.floor(this.keepaliveTimeMs / 2)),
    };
  }

  private dropLink(link: PeerLink): void {
    link.stream.close();
    if (link.snapshot !== null) {
      link.snapshot.abort.abort();
      const done = link.snapshot.done;
      this.abandonedTransfers.add(done);
      void done.finally(() => this.abandonedTransfers.delete(done));
      link.snapshot = null;
    }
    link.snapshotClient?.close();
  }

  private startSnapshotTransfer(peer: NodeId, link: PeerLink, message: Message): void {
    if (link.snapshot !== null) {
      this.counters.droppedSnapshotBusy += 1;
      return;
    }
    if (message.snapshot === null) throw new Error('raft transport: MsgSnap without snapshot');
    link.snapshotClient ??= new this.Client(link.address, grpc.credentials.createInsecure(), this.clientOptions());
    const abort = new AbortController();
    const done = sendSnapshotFileSet({
      peer,
      client: link.snapshotClient,
      message,
      source: (meta) => this.handlers.snapshotSource(meta),
      chunkBytes: this.snapshotChunkBytes,
      offsetsTimeoutMs: this.snapshotOffsetsTimeoutMs,
      stats: this.counters,
      signal: abort.signal,
    }).then(
      () => true,
      () => false,
    ).then((ok) => {
      if (link.snapshot?.abort === abort) link.snapshot = null;
      if (abort.signal.aborted || this.closed) return;
      if (ok) this.counters.snapshotsSent += 1;
      else this.counters.snapshotSendFailures += 1;
      this.handlers.onSnapshotStatus(peer, ok);
    });
    link.snapshot = { abort, done };
  }

  private reportUnreachable(peer: NodeId): void {
    if (this.pendingUnreachable.size === 0) {
      queueMicrotask(() => {
        const peers = [...this.pendingUnreachable];
        this.pendingUnreachable.clear();
        if (this.closed) return;
        for (const p of peers) this.handlers.onUnreachable(p);
      });
    }
    this.pendingUnreachable.add(peer);
  }
}
