/**
 * WebSocket tail: `GET /journals/:jid/tail?from=TXID` (upgrade) pushes committed edits, the
 * backlog first (read from the segment files in bounded chunks), then every batch as it is
 * applied, in txid order, with no gap and no duplicate.
 *
 * Frames (server to client; the client sends nothing):
 * - binary: one or more framed records (protocol/records.ts: `length | crc32c | txid | data`),
 *   consecutive txids; the first binary frame starts at `from`, each next one where the
 *   previous ended;
 * - text: a JSON control message (the client side is libqjm/tail-protocol.ts):
 *   `{"type":"hello","journalId":J,"fromTxId":F,"firstTxId":A,"lastTxId":L}` first;
 *   `{"type":"caught-up","lastTxId":L}` once the backlog is sent (live edits follow);
 *   `{"type":"error","code":CODE,"message":...,"expectedTxId":N,...}` (every JournalError field;
 *   CODE from JournalErrorCode: INVALID_ARGUMENT for a bad id or `from`, NOT_FORMATTED,
 *   EDITS_UNAVAILABLE when `from` is purged or the journal was reformatted, UNAVAILABLE for a
 *   slow consumer or a shutdown, INTERNAL), always followed by the close.
 * `from` defaults to the journal's last txid + 1 (live edits only). Only overload is refused
 * before the upgrade: HTTP 503 (too many subscribers, shutting down) with a JSON body
 * `{ "error": { "code", "message" } }`.
 *
 * Close codes: 1001 server shutting down; 1008 after an error message, the reason being the
 * error code, or 'slow consumer'; 1011 internal error.
 *
 * Flow control, never unbounded memory: nothing is sent to a subscriber while its
 * `bufferedAmount` is above `bufferedBytesHighWater`; a live subscriber found above it falls
 * back to reading from the files (catch-up) once it drains. A subscriber that stays above the
 * high water for `stallTimeoutMs` is dropped ('slow consumer'). So a subscriber holds at most
 * the high water plus one frame.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppliedEvent, JournalStateMachine } from './journal-state-machine.ts';
import { readRecordsMax } from './journal-state-machine.ts';
import type { JournalErrorCode } from './protocol/errors.ts';
import { journalErrorWire } from './protocol/errors.ts';
import { batchBytesMax, isSafeUint, isValidJournalId } from './protocol/limits.ts';
import type { JournalNodeMetrics } from './metrics.ts';

/** Framed bytes read from the segment files per backlog step (and per binary frame). */
export const tailReadChunkBytes = 1024 * 1024;

/** How often a paused subscriber checks whether its buffer drained, ms. */
export const tailDrainPollMs = 20;

/** Time a closing subscriber gets to flush its close frame before its socket is destroyed, ms. */
export const tailCloseGraceMs = 5_000;

/** Path of the tail endpoint. */
export const tailPathPattern = /^\/journals\/([^/]+)\/tail$/;

/** The text of an `error` control frame: every field of the wire `JournalError`. */
export function errorFrame(code: JournalErrorCode, message: string, expectedTxId = 0): string {
  return JSON.stringify({ type: 'error', ...journalErrorWire(code, message, { expectedTxId }) });
}

/** Options of the tail server. */
export interface TailOptions {
  readonly stateMachine: JournalStateMachine;
  readonly metrics: JournalNodeMetrics;
  readonly log: Logger;
  /** Stop sending while a subscriber's bufferedAmount is above this, bytes. */
  readonly bufferedBytesHighWater: number;
  /** Drop a subscriber that stays above the high water this long, ms. */
  readonly stallTimeoutMs: number;
  /** Most subscribers at once. */
  readonly subscribersMax: number;
  /**
   * Resolves once this node applied everything committed when called (a Raft read index).
   * A subscriber resuming beyond this node's last txid (it was served by a node further ahead),
   * or asking for a journal this node does not know formatted, waits for it before being
   * refused. Without it, that is refused at once.
   */
  readonly readBarrier?: () => Promise<unknown>;
}

/** A subscriber as /status reports it. */
export interface TailSubscriberInfo {
  readonly journalId: string;
  /** The next txid to send. */
  readonly nextTxId: number;
  readonly mode: 'catchUp' | 'live' | 'closed';
  readonly bufferedBytes: number;
}

type Mode = TailSubscriberInfo['mode'];

class Subscriber {
  mode: Mode = 'catchUp';
  nextTxId: number;
  private stalledSince: number | undefined;
  private catchingUp = false;
  private catchUpAgain = false;
  private helloSent = false;
  private caughtUpSent = false;

  /** `fromTxId` 0: from the journal's end, as the first catch-up finds it. */
  constructor(
    private readonly server: TailServer,
    readonly ws: WebSocket,
    readonly journalId: string,
    fromTxId: number,
  ) {
    this.nextTxId = fromTxId;
  }

  get info(): TailSubscriberInfo {
    return { journalId: this.journalId, nextTxId: this.nextTxId, mode: this.mode, bufferedBytes: this.ws.bufferedAmount };
  }

  /** A batch was applied (called synchronously by the state machine, in apply order). */
  onJournal(firstTxId: number, count: number, records: Uint8Array): void {
    if (this.mode !== 'live') return;
    const lastTxId = firstTxId + count - 1;
    if (lastTxId < this.nextTxId) return; // already sent (cannot happen: applies are in order)
    if (firstTxId !== this.nextTxId || !this.canSend()) {
      // A gap (or a partial overlap) or a full buffer: read from the files instead.
      this.startCatchUp();
      return;
    }
    this.send(records);
    this.nextTxId = lastTxId + 1;
  }

  /** The journal's data was replaced (snapshot restore, force format): re-read from the files. */
  onReset(): void {
    if (this.mode === 'closed') return;
    this.startCatchUp();
  }

  startCatchUp(): void {
    if (this.mode === 'closed') return;
    this.mode = 'catchUp';
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return;
    }
    this.catchingUp = true;
    void this.catchUp().then(
      () => {
        this.catchingUp = false;
      },
      (error: unknown) => {
        this.catchingUp = false;
        this.server.log.error({ err: error, journalId: this.journalId }, 'tail: catch-up failed');
        this.fail('INTERNAL', error instanceof Error ? error.message : String(error), 1011);
      },
    );
  }

  /** Send the backlog from the files until caught up, then go live (in the same turn). */
  private async catchUp(): Promise<void> {
    const sm = this.server.stateMachine;
    let barrierPassed = false;
    for (;;) {
      this.catchUpAgain = false;
      if (!(await this.waitForRoom())) return;
      const state = sm.getJournalState(this.journalId);
      // NOT_FORMATTED, or ending below where the subscriber resumes: this node may only lag (a
      // format just acknowledged, a node further ahead served the subscriber before).
      const maybeLagging = state.ok ? state.lastTxId < this.nextTxId - 1 : state.error.code === 'NOT_FORMATTED';
      if (maybeLagging && !barrierPassed && this.server.options.readBarrier !== undefined) {
        barrierPassed = true;
        try {
          await this.server.options.readBarrier();
        } catch (error) {
          this.fail('UNAVAILABLE', `this node cannot confirm it is caught up: ${error instanceof Error ? error.message : String(error)}`, 1013);
          return;
        }
        if (this.mode === 'closed') return;
        continue;
      }
      if (!state.ok) {
        this.fail(state.error.code, state.error.message);
        return;
      }
      if (!this.helloSent) {
        this.helloSent = true;
        if (this.nextTxId === 0) this.nextTxId = state.lastTxId + 1;
        this.ws.send(JSON.stringify({ type: 'hello', journalId: this.journalId, fromTxId: this.nextTxId, firstTxId: state.firstTxId, lastTxId: state.lastTxId }));
      }
      if (state.lastTxId < this.nextTxId - 1) {
        this.fail('EDITS_UNAVAILABLE', `the journal was reformatted: it ends at txid ${state.lastTxId}, below ${this.nextTxId - 1}`, 1008, state.firstTxId);
        return;
      }
      if (this.nextTxId > state.lastTxId) {
        // Caught up. Events for later txids are emitted after this turn: go live now.
        if (this.catchUpAgain) continue;
        this.mode = 'live';
        if (!this.caughtUpSent) {
          this.caughtUpSent = true;
          this.ws.send(JSON.stringify({ type: 'caught-up', lastTxId: state.lastTxId }));
        }
        return;
      }
      const read = await sm.readEdits(this.journalId, this.nextTxId, readRecordsMax, tailReadChunkBytes);
      if (this.mode === 'closed') return;
      if (!read.ok) {
        this.fail(read.error.code, read.error.message, 1008, read.error.expectedTxId);
        return;
      }
      if (read.count === 0) continue;
      if (read.firstTxId !== this.nextTxId) throw new Error(`tail: read from ${this.nextTxId} returned txid ${read.firstTxId}`);
      this.send(read.records);
      this.nextTxId = read.firstTxId + read.count;
    }
  }

  /** True when below the high water (clears the stall clock); else starts/continues it. */
  private canSend(): boolean {
    const buffered = this.ws.bufferedAmount;
    this.server.metrics.noteTailBuffered(buffered);
    if (buffered <= this.server.options.bufferedBytesHighWater) {
      this.stalledSince = undefined;
      return true;
    }
    this.stalledSince ??= performance.now();
    return false;
  }

  /** Wait until the buffer is below the high water; false when the subscriber was dropped. */
  private async waitForRoom(): Promise<boolean> {
    while (this.mode !== 'closed' && !this.canSend()) {
      if (performance.now() - this.stalledSince! > this.server.options.stallTimeoutMs) {
        this.server.metrics.tailDropped.inc({ reason: 'slow_consumer' });
        this.server.log.warn({ journalId: this.journalId, nextTxId: this.nextTxId, bufferedBytes: this.ws.bufferedAmount }, 'tail: dropping a slow consumer');
        this.fail('UNAVAILABLE', 'slow consumer', 1008, 0, 'slow consumer');
        return false;
      }
      await new Promise<void>((resolve) => setTimeout(resolve, tailDrainPollMs).unref());
    }
    return this.mode !== 'closed';
  }

  private send(records: Uint8Array): void {
    if (this.ws.bufferedAmount > this.server.bufferedBytesHardMax) {
      // Never: sends stop at the high water and a frame is bounded. Assert it.
      throw new Error(`tail: ${this.ws.bufferedAmount} bytes buffered, above the bound ${this.server.bufferedBytesHardMax}`);
    }
    this.ws.send(records, { binary: true });
    this.server.metrics.noteTailBuffered(this.ws.bufferedAmount);
  }

  /** Send an error message, close, and destroy the socket if the close does not complete. */
  fail(code: JournalErrorCode, message: string, closeCode = 1008, expectedTxId = 0, reason: string = code): void {
    if (this.mode === 'closed') return;
    this.mode = 'closed';
    this.server.remove(this);
    try {
      this.ws.send(errorFrame(code, message, expectedTxId));
      this.ws.close(closeCode, reason);
    } catch {
      this.ws.terminate();
      return;
    }
    setTimeout(() => this.ws.terminate(), tailCloseGraceMs).unref();
  }

  /** The client went away. */
  closed(): void {
    if (this.mode === 'closed') return;
    this.mode = 'closed';
    this.server.remove(this);
  }
}

/** The WebSocket tail endpoint, attached to the HTTP server's `upgrade` event. */
export class TailServer {
  readonly stateMachine: JournalStateMachine;
  readonly metrics: JournalNodeMetrics;
  readonly log: Logger;
  readonly options: TailOptions;
  /** Assertion bound of a subscriber's buffer: the high water plus one frame. */
  readonly bufferedBytesHardMax: number;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  private readonly byJournal = new Map<string, Set<Subscriber>>();
  private count = 0;
  private readonly unsubscribe: () => void;
  private closing = false;

  constructor(options: TailOptions) {
    this.options = options;
    this.stateMachine = options.stateMachine;
    this.metrics = options.metrics;
    this.log = options.log;
    this.bufferedBytesHardMax = options.bufferedBytesHighWater + batchBytesMax + 64 * 1024;
    this.unsubscribe = options.stateMachine.onApplied((event) => this.onApplied(event));
  }

  /** Subscribers now (for /status). */
  subscribers(): TailSubscriberInfo[] {
    const out: TailSubscriberInfo[] = [];
    for (const set of this.byJournal.values()) for (const s of set) out.push(s.info);
    return out;
  }

  /**
   * Handle an HTTP upgrade request. Returns false when the path is not the tail endpoint (the
   * caller answers it); otherwise the request is answered (upgraded or refused).
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = tailPathPattern.exec(url.pathname);
    if (match === null) return false;
    // Overload and shutdown are refused before the upgrade (cheap); a bad request is answered
    // with an error frame, which a browser's WebSocket can read (it cannot see an HTTP status).
    const refuse = (status: 503, message: string): true => {
      const body = JSON.stringify({ error: { code: 'UNAVAILABLE', message } });
      socket.end(
        `HTTP/1.1 ${status} Service Unavailable\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return true;
    };
    const reject = (code: JournalErrorCode, message: string, expectedTxId = 0): true => {
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        ws.send(errorFrame(code, message, expectedTxId));
        ws.close(1008, code);
        setTimeout(() => ws.terminate(), tailCloseGraceMs).unref();
      });
      return true;
    };
    if (this.closing) return refuse(503, 'shutting down');
    if (this.count >= this.options.subscribersMax) return refuse(503, `too many tail subscribers (${this.options.subscribersMax})`);
    let journalId: string;
    try {
      journalId = decodeURIComponent(match[1]!);
    } catch {
      return reject('INVALID_ARGUMENT', 'malformed journal id');
    }
    if (!isValidJournalId(journalId)) return reject('INVALID_ARGUMENT', 'invalid journal id');
    // The journal's state is the catch-up's to judge (it may wait for a read barrier first):
    // without `from`, the subscriber starts at the journal's end once that is known.
    const fromText = url.searchParams.get('from');
    let fromTxId = 0;
    if (fromText !== null) {
      fromTxId = /^\d{1,16}$/.test(fromText) ? Number(fromText) : -1;
      if (!isSafeUint(fromTxId) || fromTxId < 1) return reject('INVALID_ARGUMENT', `invalid from '${fromText.slice(0, 40)}' (a txid >= 1)`);
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      this.count += 1;
      const subscriber = new Subscriber(this, ws, journalId, fromTxId);
      let set = this.byJournal.get(journalId);
      if (set === undefined) this.byJournal.set(journalId, (set = new Set()));
      set.add(subscriber);
      this.metrics.tailSubscribers.inc();
      ws.on('close', () => subscriber.closed());
      ws.on('error', (error) => {
        this.log.debug({ err: error, journalId }, 'tail: socket error');
        subscriber.closed();
      });
      ws.on('message', () => subscriber.fail('INVALID_ARGUMENT', 'the tail endpoint accepts no messages'));
      this.log.debug({ journalId, fromTxId }, 'tail: subscriber connected');
      // The hello goes first, from the catch-up, once the journal's state is known here.
      subscriber.startCatchUp();
    });
    return true;
  }

  /** Forget a subscriber (closed or dropped). */
  remove(subscriber: Subscriber): void {
    const set = this.byJournal.get(subscriber.journalId);
    if (set === undefined || !set.delete(subscriber)) return;
    if (set.size === 0) this.byJournal.delete(subscriber.journalId);
    this.count -= 1;
    this.metrics.tailSubscribers.dec();
  }

  private onApplied(event: AppliedEvent): void {
    const set = this.byJournal.get(event.journalId);
    if (set === undefined) return;
    for (const subscriber of [...set]) {
      if (event.type === 'journal') subscriber.onJournal(event.firstTxId, event.count, event.records);
      else subscriber.onReset();
    }
  }

  /**
   * Close every subscriber (1001 'shutting down') and stop listening to the state machine.
   * Resolves once every socket closed, or after `graceMs` (the rest are destroyed).
   */
  async close(graceMs = 1000): Promise<void> {
    this.closing = true;
    this.unsubscribe();
    for (const set of [...this.byJournal.values()]) {
      for (const subscriber of [...set]) subscriber.fail('UNAVAILABLE', 'the JournalNode is shutting down', 1001, 0, 'shutting down');
    }
    const deadline = performance.now() + graceMs;
    while (this.wss.clients.size > 0 && performance.now() < deadline) {
      await new Promise<void>((resolve) => setTimeout(resolve, tailDrainPollMs));
    }
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
