/**
 * The sending side of snapshot file sets: ask the receiver which offsets it already holds
 * (`SnapshotOffsets`), then stream the header and the rest of every file in chunks of at most
 * `chunkBytes` (`InstallSnapshot`), honouring the call's flow control.
 *
 * Memory bound: one chunk is read at a time; grpc-js buffers at most its write high-water mark
 * (16 chunks) before `write` asks us to wait for `drain`.
 */
import type * as grpc from '@grpc/grpc-js';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Message, NodeId, SnapshotMeta } from '../core/types.ts';
import { decodeUint64, encodeMessage, encodeSnapshotFiles, isRelativeFilePath, snapshotHeaderCrc32c, type SnapshotFileInfo } from './codec.ts';
import { SnapshotTransferError } from './errors.ts';
import type { InstallSnapshotResult__Output } from './generated/qjournal/raft/v1/InstallSnapshotResult.ts';
import type { RaftTransportClient } from './generated/qjournal/raft/v1/RaftTransport.ts';
import type { SnapshotChunk } from './generated/qjournal/raft/v1/SnapshotChunk.ts';
import type { SnapshotOffsetsResponse__Output } from './generated/qjournal/raft/v1/SnapshotOffsetsResponse.ts';
import type { TransportStats } from './stats.ts';

/** Where the file set of a snapshot lives on the sender (a directory and its manifest). */
export type SnapshotSource = (meta: SnapshotMeta) => Promise<{ dir: string; files: readonly SnapshotFileInfo[] }>;

export interface SendSnapshotOptions {
  readonly peer: NodeId;
  readonly client: RaftTransportClient;
  /** The MsgSnap to deliver once the files are published (snapshot meta and data inside). */
  readonly message: Message;
  readonly source: SnapshotSource;
  /** Largest file chunk, in bytes. */
  readonly chunkBytes: number;
  /** Deadline of the SnapshotOffsets call, in ms. */
  readonly offsetsTimeoutMs: number;
  readonly stats: TransportStats;
  /** Aborting cancels the calls; the promise then rejects. */
  readonly signal: AbortSignal;
}

/** Send the file set of `message.snapshot` to `peer`. Resolves once the receiver published it. */
export async function sendSnapshotFileSet(options: SendSnapshotOptions): Promise<{ bytesSent: number }> {
  const { peer, client, message, signal } = options;
  const fail = (reason: string, cause?: unknown): SnapshotTransferError =>
    new SnapshotTransferError(peer, reason, cause === undefined ? undefined : { cause });
  if (message.snapshot === null) throw new Error('snapshot sender: MsgSnap without snapshot');
  let source: { dir: string; files: readonly SnapshotFileInfo[] };
  try {
    source = await options.source(message.snapshot.meta);
  } catch (e) {
    throw fail('snapshot source failed', e);
  }
  for (const f of source.files) {
    if (!isRelativeFilePath(f.name)) throw fail(`source file name ${JSON.stringify(f.name)} is not a relative path`);
  }
  const wireMessage = encodeMessage(message);
  const wireFiles = encodeSnapshotFiles(source.files);
  const headerCrc32c = snapshotHeaderCrc32c(message, source.files);

  signal.throwIfAborted();
  const offsets = await askOffsets(client, { message: wireMessage, files: wireFiles, headerCrc32c }, options.offsetsTimeoutMs, signal).catch((e: unknown) => {
    throw fail('SnapshotOffsets failed', e);
  });
  const startOf = new Map<string, number>();
  for (const o of Array.isArray(offsets.offsets) ? offsets.offsets : []) {
    const offset = decodeUint64(o.offset, 'offsets.offset');
    startOf.set(o.name, offset);
  }
  for (const f of source.files) {
    const start = startOf.get(f.name) ?? 0;
    if (start > f.bytes) throw fail(`receiver holds ${start} bytes of ${f.name}, more than its ${f.bytes}`);
  }

  signal.throwIfAborted();
  let call!: grpc.ClientWritableStream<SnapshotChunk>;
  const result = new Promise<InstallSnapshotResult__Output>((resolve, reject) => {
    call = client.InstallSnapshot((error, value) => {
      if (error !== null || value === undefined) reject(error ?? new Error('no result'));
      else resolve(value);
    });
  });
  result.catch(() => {}); // observed below; avoid an unhandled rejection while writing
  const onAbort = (): void => call.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  let bytesSent = 0;
  try {
    const write = async (chunk: SnapshotChunk): Promise<void> => {
      if (!call.write(chunk)) await Promise.race([once(call, 'drain'), result]);
      signal.throwIfAborted();
    };
    await write({ header: { message: wireMessage, files: wireFiles, headerCrc32c } });
    for (const f of source.files) {
      let offset = startOf.get(f.name) ?? 0;
      if (offset === f.bytes) continue;
      const handle = await open(join(source.dir, f.name), 'r');
      try {
        while (offset < f.bytes) {
          const length = Math.min(options.chunkBytes, f.bytes - offset);
          const data = Buffer.allocUnsafe(length);
          const { bytesRead } = await handle.read(data, 0, length, offset);
          if (bytesRead !== length) throw fail(`${f.name} is shorter than its manifest size ${f.bytes}`);
          await write({ chunk: { name: f.name, offset, data } });
          offset += length;
          bytesSent += length;
          options.stats.snapshotBytesSent += length;
        }
      } finally {
        await handle.close();
      }
    }
    call.end();
    await result;
    return { bytesSent };
  } catch (e) {
    call.cancel();
    if (e instanceof SnapshotTransferError) throw e;
    throw fail('InstallSnapshot failed', e);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function askOffsets(
  client: RaftTransportClient,
  request: Parameters<RaftTransportClient['SnapshotOffsets']>[0],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<SnapshotOffsetsResponse__Output> {
  return new Promise((resolve, reject) => {
    const call = client.SnapshotOffsets(request, { deadline: Date.now() + timeoutMs }, (error, value) => {
      signal.removeEventListener('abort', onAbort);
      if (error !== null || value === undefined) reject(error ?? new Error('no response'));
      else resolve(value);
    });
    const onAbort = (): void => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
