/**
 * The receiving side of snapshot file sets: serves `SnapshotOffsets` and `InstallSnapshot`,
 * writing chunks through a SnapshotSinkLike (the snapshot store). Once the sink has published
 * the file set, the MsgSnap of the header is handed to the core.
 *
 * At most one receive runs at a time (calls meanwhile get UNAVAILABLE and the leader retries);
 * a receive with no chunk for `idleTimeoutMs` is aborted.
 */
import * as grpc from '@grpc/grpc-js';
import type { Message, NodeId, SnapshotMeta } from '../core/types.ts';
import { decodeMessage, decodeSnapshotFiles, decodeUint64, snapshotHeaderCrc32c, type SnapshotFileInfo } from './codec.ts';
import { WireFormatError } from './errors.ts';
import type { FileChunk__Output } from './generated/qjournal/raft/v1/FileChunk.ts';
import type { InstallSnapshotResult } from './generated/qjournal/raft/v1/InstallSnapshotResult.ts';
import type { Message__Output as WireMessageOutput } from './generated/qjournal/raft/v1/Message.ts';
import type { SnapshotChunk__Output } from './generated/qjournal/raft/v1/SnapshotChunk.ts';
import type { SnapshotOffsetsRequest__Output } from './generated/qjournal/raft/v1/SnapshotOffsetsRequest.ts';
import type { SnapshotOffsetsResponse } from './generated/qjournal/raft/v1/SnapshotOffsetsResponse.ts';
import type { TransportStats } from './stats.ts';

/** One receive in progress in the snapshot store (see SnapshotSinkLike). */
export interface SnapshotReceiveLike {
  /** Bytes of `name` already held (durable), from which the sender continues. `0` when none. */
  offsetOf(name: string): number;
  /**
   * Write `data` at `offset` of `name`; resolves once durable. Offsets of a file come in order
   * with no gap, and the next chunk may be handed over before the previous one resolved
   * (pipelined, at most `snapshotWritesInflightMax` at once): the sink orders them.
   */
  writeChunk(name: string, offset: number, data: Uint8Array): Promise<void>;
  /**
   * Every file is complete: verify each file's size and CRC-32C against the manifest, make
   * them durable and publish the file set (atomic rename). On a mismatch, throw and forget the
   * bad files, so that the next attempt sends them again from offset 0.
   */
  finish(): Promise<{ meta: SnapshotMeta; dir: string; files: readonly SnapshotFileInfo[] }>;
}

/**
 * The receiving part of the snapshot store (raft/storage/snapshot-store.ts), structurally.
 * `beginReceive` resumes any partial receive of the same snapshot (same meta and manifest),
 * across restarts, and may be called again for it after an abandoned attempt (the transport
 * calls it once for SnapshotOffsets and once for InstallSnapshot).
 */
export interface SnapshotSinkLike {
  beginReceive(meta: SnapshotMeta, files: readonly SnapshotFileInfo[]): Promise<SnapshotReceiveLike>;
}

export interface SnapshotReceiverOptions {
  readonly id: NodeId;
  readonly groupId: string;
  readonly sink: SnapshotSinkLike;
  /** A receive with no chunk for this long is aborted, in ms. */
  readonly idleTimeoutMs: number;
  /** Chunk writes handed to the sink and not yet durable, at most. */
  readonly writesInflightMax: number;
  readonly stats: TransportStats;
  /** Hands the MsgSnap to the core, after the file set is published. */
  readonly deliver: (messages: Message[]) => void;
}

/** An error with a gRPC status, raised inside a handler and answered to the caller. */
class StatusError extends Error {
  override readonly name = 'StatusError';
  constructor(
    readonly code: grpc.status,
    details: string,
  ) {
    super(details);
  }
}

function toServiceError(e: unknown): Partial<grpc.StatusObject> {
  if (e instanceof StatusError) return { code: e.code, details: e.message };
  if (e instanceof WireFormatError) return { code: grpc.status.INVALID_ARGUMENT, details: e.message };
  return { code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(e) };
}

interface CheckedHeader {
  readonly message: Message;
  readonly meta: SnapshotMeta;
  readonly files: SnapshotFileInfo[];
}

export class SnapshotReceiver {
  /** The receive in progress (only one at a time), to refuse others and to wait for at close. */
  private active: Promise<void> | null = null;
  private readonly calls = new Set<grpc.ServerReadableStream<SnapshotChunk__Output, InstallSnapshotResult>>();
  private closed = false;

  constructor(private readonly options: SnapshotReceiverOptions) {}

  /** The grpc-js handler of `SnapshotOffsets`. */
  handleOffsets(
    call: grpc.ServerUnaryCall<SnapshotOffsetsRequest__Output, SnapshotOffsetsResponse>,
    callback: grpc.sendUnaryData<SnapshotOffsetsResponse>,
  ): void {
    const run = async (): Promise<SnapshotOffsetsResponse> => {
      const header = this.checkHeader(call.request.message, call.request.files, call.request.headerCrc32c);
      const receive = await this.options.sink.beginReceive(header.meta, header.files);
      return { offsets: header.files.map((f) => ({ name: f.name, offset: receive.offsetOf(f.name) })) };
    };
    if (this.closed || this.active !== null) {
      callback({ code: grpc.status.UNAVAILABLE, details: 'a snapshot receive is in progress or the transport is closed' });
      return;
    }
    run().then(
      (response) => callback(null, response),
      (e: unknown) => callback(toServiceError(e)),
    );
  }

  /** The grpc-js handler of `InstallSnapshot`. */
  handleInstall(
    call: grpc.ServerReadableStream<SnapshotChunk__Output, InstallSnapshotResult>,
    callback: grpc.sendUnaryData<InstallSnapshotResult>,
  ): void {
    if (this.closed || this.active !== null) {
      callback({ code: grpc.status.UNAVAILABLE, details: 'a snapshot receive is in progress or the transport is closed' });
      return;
    }
    this.calls.add(call);
    const receive = this.receive(call).then(
      (result) => {
        this.options.stats.snapshotsReceived += 1;
        callback(null, result.response);
        this.options.stats.receivedMessages += 1;
        this.options.deliver([result.message]);
      },
      (e: unknown) => {
        this.options.stats.snapshotReceiveFailures += 1;
        callback(toServiceError(e));
      },
    );
    this.active = receive.finally(() => {
      this.active = null;
      this.calls.delete(call);
    });
  }

  /** Refuse new receives, abort the one in progress and wait until it has stopped writing. */
  async close(): Promise<void> {
    this.closed = true;
    for (const call of this.calls) call.destroy(new StatusError(grpc.status.UNAVAILABLE, 'raft transport closed'));
    await this.active;
  }

  private async receive(
    call: grpc.ServerReadableStream<SnapshotChunk__Output, InstallSnapshotResult>,
  ): Promise<{ response: InstallSnapshotResult; message: Message }> {
    let idleTimer: NodeJS.Timeout | null = null;
    const armIdleTimer = (): void => {
      if (idleTimer !== null) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        call.destroy(new StatusError(grpc.status.DEADLINE_EXCEEDED, `no snapshot chunk for ${this.options.idleTimeoutMs} ms`));
      }, this.options.idleTimeoutMs);
      idleTimer.unref();
    };
    armIdleTimer();
    // Pipelined chunk writes: each is observed at once (no unhandled rejection); the first
    // error fails the receive; every write has settled before this function returns.
    const writes: Promise<void>[] = [];
    let writeError: { error: unknown } | null = null;
    const throwIfWriteFailed = (): void => {
      if (writeError !== null) throw writeError.error;
    };
    try {
      let header: CheckedHeader | null = null;
      let receive: SnapshotReceiveLike | null = null;
      const offsets = new Map<string, { offset: number; bytes: number }>();
      let bytesReceived = 0;
      for await (const item of call as AsyncIterable<SnapshotChunk__Output>) {
        armIdleTimer();
        if (header === null || receive === null) {
          if (item.payload !== 'header') throw new WireFormatError('payload', 'the first chunk must be the header');
          const wireHeader = item.header;
          header = this.checkHeader(wireHeader?.message, wireHeader?.files, wireHeader?.headerCrc32c);
          receive = await this.options.sink.beginReceive(header.meta, header.files);
          for (const f of header.files) {
            const offset = receive.offsetOf(f.name);
            if (!(Number.isSafeInteger(offset) && offset >= 0 && offset <= f.bytes)) throw new Error(`snapshot sink: offset ${offset} of ${f.name} is outside [0, ${f.bytes}]`);
            offsets.set(f.name, { offset, bytes: f.bytes });
          }
          continue;
        }
        if (item.payload !== 'chunk' || item.chunk === null || item.chunk === undefined) throw new WireFormatError('payload', 'expected a file chunk');
        const chunk = this.checkChunk(item.chunk, offsets);
        throwIfWriteFailed();
        writes.push(
          receive.writeChunk(chunk.name, chunk.offset, chunk.data).catch((error: unknown) => {
            writeError ??= { error };
          }),
        );
        if (writes.length >= this.options.writesInflightMax) await writes.shift();
        throwIfWriteFailed();
        offsets.get(chunk.name)!.offset += chunk.data.length;
        bytesReceived += chunk.data.length;
        this.options.stats.snapshotBytesReceived += chunk.data.length;
      }
      await Promise.all(writes.splice(0));
      throwIfWriteFailed();
      if (header === null || receive === null) throw new WireFormatError('payload', 'no header');
      for (const [name, { offset, bytes }] of offsets) {
        if (offset !== bytes) throw new StatusError(grpc.status.FAILED_PRECONDITION, `file ${name} ended at ${offset} of ${bytes} bytes`);
      }
      try {
        await receive.finish();
      } catch (e) {
        throw new StatusError(grpc.status.DATA_LOSS, `snapshot file set rejected: ${e instanceof Error ? e.message : String(e)}`);
      }
      return { response: { bytesReceived }, message: header.message };
    } finally {
      if (idleTimer !== null) clearTimeout(idleTimer);
      await Promise.all(writes);
    }
  }

  private checkHeader(wireMessage: WireMessageOutput | null | undefined, wireFiles: unknown, crc: unknown): CheckedHeader {
    const message = decodeMessage(wireMessage, 'header.message');
    const files = decodeSnapshotFiles(wireFiles, 'header.files');
    if (crc !== snapshotHeaderCrc32c(message, files)) throw new WireFormatError('header.headerCrc32c', 'snapshot header checksum mismatch');
    if (message.type !== 'MsgSnap' || message.snapshot === null) throw new WireFormatError('header.message.type', 'not a MsgSnap');
    if (message.groupId !== this.options.groupId) {
      this.options.stats.droppedWrongGroup += 1;
      throw new StatusError(grpc.status.FAILED_PRECONDITION, `group ${JSON.stringify(message.groupId)} is not ${JSON.stringify(this.options.groupId)}`);
    }
    if (message.to !== this.options.id) {
      this.options.stats.droppedWrongRecipient += 1;
      throw new StatusError(grpc.status.FAILED_PRECONDITION, `snapshot for ${message.to} sent to ${this.options.id}`);
    }
    return { message, meta: message.snapshot.meta, files };
  }

  private checkChunk(
    chunk: FileChunk__Output,
    offsets: ReadonlyMap<string, { offset: number; bytes: number }>,
  ): { name: string; offset: number; data: Uint8Array } {
    const name: unknown = chunk.name;
    const state = typeof name === 'string' ? offsets.get(name) : undefined;
    if (typeof name !== 'string' || state === undefined) throw new WireFormatError('chunk.name', `not in the manifest (${String(name).slice(0, 80)})`);
    const offset = decodeUint64(chunk.offset, 'chunk.offset');
    const data: unknown = chunk.data;
    if (!(data instanceof Uint8Array) || data.length === 0) throw new WireFormatError('chunk.data', 'empty or not bytes');
    if (offset !== state.offset) throw new StatusError(grpc.status.OUT_OF_RANGE, `chunk of ${name} at ${offset}, expected ${state.offset}`);
    if (offset + data.length > state.bytes) throw new StatusError(grpc.status.OUT_OF_RANGE, `chunk of ${name} passes its size ${state.bytes}`);
    return { name, offset, data };
  }
}
