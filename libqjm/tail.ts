/**
 * Tailing a journal: committed edits from a txid on, each once, in txid order, for as long as
 * the consumer iterates.
 *
 * Push first: a WebSocket to a JournalNode's HTTP address (`tail-protocol.ts`) delivers the
 * backlog, then live edits. When the socket cannot be opened or drops, the tail falls back to
 * polling GetJournaledEdits from the last txid seen, and tries a socket again (next HTTP node,
 * with backoff) once `socketRetryDelayMs` has passed. Frames are deduplicated by txid; a gap
 * closes the socket (polling fills it in).
 *
 * Bounds: the socket's undelivered records are held up to `bufferBytesMax`; beyond, the socket
 * is paused (TCP pushes back on the server) until the consumer drains half of it.
 */
import WebSocket from 'ws';
import { parseRecords } from '../journalnode/protocol/records.ts';
import type { EditRecord } from '../journalnode/protocol/records.ts';
import { batchBytesMax } from '../journalnode/protocol/limits.ts';
import { AbortedError, ProtocolError, JournalError, isRetryable } from './errors.ts';
import { acceptRecords, parseTailControl, tailUrl } from './tail-protocol.ts';
import type { Clock } from './clock.ts';
import { abortableDelay, deferred, isAborted } from './clock.ts';
import type { Deferred } from './clock.ts';
import type { BackoffPolicy } from './route-table.ts';
import { backoffDelayMs } from './route-table.ts';
import type { Logger } from './log.ts';

/** Committed edits read by polling. */
export interface EditsPage {
  /** Records from the requested txid, consecutive (may be empty). */
  readonly records: EditRecord[];
  /** The journal's last committed txid on the node that answered. */
  readonly lastTxId: number;
}

/** What a tail needs from the manager. */
export interface TailContext {
  readonly journalId: string;
  /** HTTP addresses (host:port or ws:// URLs) of the JournalNodes; empty: polling only. */
  readonly httpNodes: readonly string[];
  /** Read committed edits from `fromTxId` (GetJournaledEdits with retries). */
  readEdits(fromTxId: number, signal: AbortSignal | undefined): Promise<EditsPage>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly random: () => number;
}

/** Options of one tail. */
export interface TailOptions {
  /** The first txid to deliver (>= 1). */
  readonly from: number;
  /** Ends the iteration (cleanly) when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Delay between polls that found nothing, in milliseconds. Default 100. */
  readonly pollIntervalMs?: number;
  /** Backoff of socket attempts after a socket failure; default 250 ms doubling up to 5 s. */
  readonly socketRetry?: BackoffPolicy;
  /** Most bytes of received, undelivered records before the socket is paused. Default 16 MiB. */
  readonly bufferBytesMax?: number;
  /** Ping the server this often; a socket without a pong by the next ping is dropped (ms). Default 10 s. */
  readonly socketPingIntervalMs?: number;
  /** Time to open the socket, in milliseconds. Default 5 s. */
  readonly socketOpenTimeoutMs?: number;
}

const defaultSocketRetry: BackoffPolicy = { initialDelayMs: 250, maxDelayMs: 5000, multiplier: 2, jitter: 0.3 };

/** One WebSocket to one node, as a bounded queue of record batches. */
class SocketFeed {
  private readonly socket: WebSocket;
  private readonly batches: EditRecord[][] = [];
  private bufferedBytes = 0;
  private readonly bufferBytesMax: number;
  private waiter: Deferred<void> | undefined;
  private finished = false;
  /** A non-retryable error sent by the server (an `error` frame), or a protocol failure. */
  private failure: Error | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  /** True once at least one record arrived. */
  delivered = false;

  constructor(url: string, options: { bufferBytesMax: number; pingIntervalMs: number; openTimeoutMs: number; log: Logger }) {
    this.bufferBytesMax = options.bufferBytesMax;
    this.socket = new WebSocket(url, { maxPayload: batchBytesMax + 64 * 1024, handshakeTimeout: options.openTimeoutMs, perMessageDeflate: false });
    this.socket.binaryType = 'nodebuffer';
    this.socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    this.socket.on('close', () => this.finish(undefined));
    this.socket.on('error', (error: Error) => {
      options.log.debug({ url, error: error.message }, 'tail socket error');
      this.finish(undefined);
    });
    this.socket.on('pong', () => {
      this.awaitingPong = false;
    });
    this.socket.on('open', () => {
      this.pingTimer = setInterval(() => {
        if (this.awaitingPong) {
          options.log.debug({ url }, 'tail socket: no pong, dropping');
          this.close();
          return;
        }
        this.awaitingPong = true;
        this.socket.ping();
      }, options.pingIntervalMs);
      this.pingTimer.unref();
    });
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.finished) return;
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (!isBinary) {
      let control;
      try {
        control = parseTailControl(buffer.toString('utf8'));
      } catch (error) {
        this.fail(error as Error);
        return;
      }
      if (control.type === 'error') this.fail(control.error);
      return;
    }
    let records: EditRecord[];
    try {
      records = parseRecords(buffer);
    } catch (error) {
      this.fail(new ProtocolError('tail: corrupt records frame', { cause: error }));
      return;
    }
    if (records.length === 0) return;
    this.batches.push(records);
    this.bufferedBytes += buffer.byteLength;
    if (this.bufferedBytes > this.bufferBytesMax && !this.socket.isPaused) this.socket.pause();
    this.wake();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.close();
  }

  private finish(_reason: undefined): void {
    this.finished = true;
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve();
  }

  /**
   * The next batch of records; undefined once the socket is closed and drained. Throws the
   * server's error (from an `error` frame) or a ProtocolError once the buffered batches are out.
   */
  async next(signal: AbortSignal | undefined): Promise<EditRecord[] | undefined> {
    for (;;) {
      const batch = this.batches.shift();
      if (batch !== undefined) {
        this.bufferedBytes -= batch.reduce((sum, record) => sum + 16 + record.data.byteLength, 0);
        if (this.socket.isPaused && this.bufferedBytes <= this.bufferBytesMax / 2) this.socket.resume();
        this.delivered = true;
        return batch;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.finished) return undefined;
      if (isAborted(signal)) return undefined;
      this.waiter = deferred<void>();
      const onAbort = (): void => this.wake();
      signal?.addEventListener('abort', onAbort, { once: true });
      await this.waiter.promise;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Drop the socket (idempotent). */
  close(): void {
    if (this.socket.readyState === WebSocket.CLOSED) {
      this.finish(undefined);
      return;
    }
    this.socket.terminate();
    this.finish(undefined);
  }
}

/**
 * Tail `context`'s journal from `options.from`: an async iterable of committed edits, each once,
 * in txid order. Ends when `options.signal` aborts. Throws non-retryable errors (for example
 * EditsUnavailableError when `from` was purged); retryable ones are waited out.
 */
export async function* tailJournal(context: TailContext, options: TailOptions): AsyncGenerator<EditRecord, void, undefined> {
  const from = options.from;
  if (!Number.isSafeInteger(from) || from < 1) throw new RangeError(`tail: invalid from txid ${from}`);
  const signal = options.signal;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const socketRetry = options.socketRetry ?? defaultSocketRetry;
  const feedOptions = {
    bufferBytesMax: options.bufferBytesMax ?? 16 * 1024 * 1024,
    pingIntervalMs: options.socketPingIntervalMs ?? 10_000,
    openTimeoutMs: options.socketOpenTimeoutMs ?? 5_000,
    log: context.log,
  };
  const { clock, log } = context;
  let next = from;
  let socketFailures = 0;
  let socketRetryAtMs = 0;
  let httpIndex = 0;
  let pollFailures = 0;

  try {
    while (!isAborted(signal)) {
      // Push: one socket until it ends.
      if (context.httpNodes.length > 0 && clock.nowMs() >= socketRetryAtMs) {
        const address = context.httpNodes[httpIndex % context.httpNodes.length]!;
        httpIndex += 1;
        const feed = new SocketFeed(tailUrl(address, context.journalId, next), feedOptions);
        try {
          for (;;) {
            const batch = await feed.next(signal);
            if (batch === undefined) break;
            const { accepted, next: after, gapAt } = acceptRecords(next, batch);
            for (const record of accepted) {
              yield record;
              next = record.txid + 1;
            }
            if (after !== next) throw new Error('unreachable: accepted records out of step');
            if (gapAt !== undefined) {
              log.warn({ journalId: context.journalId, expected: next, got: gapAt }, 'tail socket skipped txids; falling back to polling');
              break;
            }
          }
        } catch (error) {
          if (error instanceof JournalError && !error.retryable) throw error;
          log.debug({ journalId: context.journalId, address, error: String(error) }, 'tail socket failed');
        } finally {
          feed.close();
        }
        if (isAborted(signal)) return;
        socketFailures = feed.delivered ? 1 : socketFailures + 1;
        socketRetryAtMs = clock.nowMs() + backoffDelayMs(socketFailures, socketRetry, context.random());
        log.debug({ journalId: context.journalId, next, retryInMs: socketRetryAtMs - clock.nowMs() }, 'tail falls back to polling');
      }
      // Pull: poll until the next socket attempt is due (forever without HTTP nodes).
      do {
        let page: EditsPage;
        try {
          page = await context.readEdits(next, signal);
          pollFailures = 0;
        } catch (error) {
          if (error instanceof AbortedError) return;
          if (!isRetryable(error)) throw error;
          pollFailures += 1;
          await abortableDelay(backoffDelayMs(pollFailures, socketRetry, context.random()), signal);
          continue;
        }
        const { accepted, gapAt } = acceptRecords(next, page.records);
        if (gapAt !== undefined) throw new ProtocolError(`tail: GetJournaledEdits from ${next} returned txid ${gapAt}`);
        for (const record of accepted) {
          yield record;
          next = record.txid + 1;
        }
        if (accepted.length === 0) await abortableDelay(pollIntervalMs, signal);
      } while (!isAborted(signal) && (context.httpNodes.length === 0 || clock.nowMs() < socketRetryAtMs));
    }
  } catch (error) {
    if (error instanceof AbortedError && isAborted(signal)) return;
    throw error;
  }
}
