/**
 * The history of a chaos run: every client operation with its start, its end and its outcome,
 * as Jepsen records it. Each master process appends JSON lines to its own file; the runner
 * appends the faults to another. Lines are written synchronously (one `write` per line, no
 * fsync: a SIGKILLed process keeps what the page cache holds, and masters are only paused,
 * never killed), so an operation's `invoke` line is on file before its request leaves.
 *
 * Lines:
 * - `{"t":"invoke","op":N,"master":M,"kind":"write"|"zombie","epoch":E,"first":TX,"seq":S,"count":C,"at":MS}`:
 *   edits `seq .. seq+count-1` of master M are sent as txids `first .. first+count-1` under epoch E;
 * - `{"t":"complete","op":N,"master":M,"outcome":"acked"|"failed"|"unknown","error":"...","at":MS}`;
 * - `{"t":"open","master":M,"epoch":E,"lastTxId":TX,"start":MS,"end":MS}`: openForWrite(E)
 *   (NewEpoch, then recovery) ran from start to end;
 * - `{"t":"transition","master":M,"from":S,"to":S,"reason":"...","token":E,"at":MS}`: an HA state change;
 * - `{"t":"fault",...}`: written by the runner (see runner.ts).
 *
 * Outcomes: `acked` means the journal acknowledged the edits as committed; `failed` means they
 * were certainly not applied (a JournalNode rejected that very request at apply, or refused it
 * before proposing); everything else is `unknown` (a timeout, a broken stream, a writer aborted
 * with the batch in flight: the edits may or may not be in the journal). An `invoke` without a
 * `complete` is `unknown`. Times are `Date.now()` milliseconds (one clock for every process of
 * the machine).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

/** Longest history line written or read, in characters (a line above it is a bug). */
export const historyLineCharsMax = 64 * 1024;

/** What became of an operation. */
export type Outcome = 'acked' | 'failed' | 'unknown';

/** One write operation (a batch of consecutive edits of one master). */
export interface WriteOp {
  readonly op: number;
  readonly master: string;
  /** `zombie`: a stale master writing on purpose after it lost leadership. */
  readonly kind: 'write' | 'zombie';
  readonly epoch: number;
  readonly firstTxId: number;
  /** Sequence number of the first edit; edit i has seq + i and txid firstTxId + i. */
  readonly seq: number;
  readonly count: number;
  readonly startMs: number;
  readonly endMs: number | undefined;
  readonly outcome: Outcome;
  readonly error: string | undefined;
}

/** One openForWrite (NewEpoch and recovery) that succeeded. */
export interface OpenEvent {
  readonly master: string;
  readonly epoch: number;
  readonly lastTxId: number;
  readonly startMs: number;
  readonly endMs: number;
}

/** One HA transition of a master. */
export interface TransitionEvent {
  readonly master: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  readonly token: number | undefined;
  readonly atMs: number;
}

/** A history read back from its files. */
export interface History {
  readonly ops: WriteOp[];
  readonly opens: OpenEvent[];
  readonly transitions: TransitionEvent[];
  /** Lines that could not be parsed (a torn last line is normal after a kill). */
  readonly badLines: number;
}

/** Appends history lines for one master. Not shared between processes. */
export class HistoryRecorder {
  private fd: number | undefined;
  private nextOp = 1;

  constructor(
    readonly path: string,
    readonly master: string,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.fd = openSync(path, 'a');
  }

  private line(value: object): void {
    if (this.fd === undefined) return;
    const text = `${JSON.stringify(value)}\n`;
    if (text.length > historyLineCharsMax) throw new Error(`history line of ${text.length} characters`);
    writeSync(this.fd, text);
  }

  /** Record the start of a write; returns the operation number for {@link complete}. */
  invoke(kind: 'write' | 'zombie', epoch: number, firstTxId: number, seq: number, count: number): number {
    const op = this.nextOp++;
    this.line({ t: 'invoke', op, master: this.master, kind, epoch, first: firstTxId, seq, count, at: this.nowMs() });
    return op;
  }

  /** Record the end of operation `op`. */
  complete(op: number, outcome: Outcome, error?: string): void {
    this.line({ t: 'complete', op, master: this.master, outcome, ...(error !== undefined ? { error: error.slice(0, 500) } : {}), at: this.nowMs() });
  }

  /** Record a successful openForWrite. */
  open(epoch: number, lastTxId: number, startMs: number, endMs: number): void {
    this.line({ t: 'open', master: this.master, epoch, lastTxId, start: startMs, end: endMs });
  }

  /** Record an HA transition. */
  transition(from: string, to: string, reason: string, token: number | undefined): void {
    this.line({ t: 'transition', master: this.master, from, to, reason: reason.slice(0, 500), token: token ?? null, at: this.nowMs() });
  }

  /** Close the file (idempotent). */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function isSafeUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

interface Invoke {
  master: string;
  kind: 'write' | 'zombie';
  epoch: number;
  first: number;
  seq: number;
  count: number;
  at: number;
}

/** Parse the lines of history files (any number, any order of files) into operations. */
export function parseHistory(texts: readonly string[]): History {
  const invokes = new Map<string, Invoke & { op: number }>();
  const completes = new Map<string, { outcome: Outcome; error: string | undefined; at: number }>();
  const opens: OpenEvent[] = [];
  const transitions: TransitionEvent[] = [];
  let badLines = 0;
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      let value: Record<string, unknown>;
      try {
        if (line.length > historyLineCharsMax) throw new Error('line too long');
        value = JSON.parse(line) as Record<string, unknown>;
        if (typeof value !== 'object' || value === null) throw new Error('not an object');
      } catch {
        badLines += 1;
        continue;
      }
      const master = typeof value['master'] === 'string' ? value['master'] : undefined;
      switch (value['t']) {
        case 'invoke': {
          const { op, kind, epoch, first, seq, count, at } = value;
          if (master === undefined || !isSafeUint(op) || (kind !== 'write' && kind !== 'zombie') || !isSafeUint(epoch) || !isSafeUint(first) || !isSafeUint(seq) || !isSafeUint(count) || !isSafeUint(at)) {
            badLines += 1;
            break;
          }
          invokes.set(`${master}#${op}`, { op, master, kind, epoch, first, seq, count, at });
          break;
        }
        case 'complete': {
          const { op, outcome, error, at } = value;
          if (master === undefined || !isSafeUint(op) || (outcome !== 'acked' && outcome !== 'failed' && outcome !== 'unknown') || !isSafeUint(at)) {
            badLines += 1;
            break;
          }
          completes.set(`${master}#${op}`, { outcome, error: typeof error === 'string' ? error : undefined, at });
          break;
        }
        case 'open': {
          const { epoch, lastTxId, start, end } = value;
          if (master === undefined || !isSafeUint(epoch) || !isSafeUint(lastTxId) || !isSafeUint(start) || !isSafeUint(end)) {
            badLines += 1;
            break;
          }
          opens.push({ master, epoch, lastTxId, startMs: start, endMs: end });
          break;
        }
        case 'transition': {
          const { from, to, reason, token, at } = value;
          if (master === undefined || typeof from !== 'string' || typeof to !== 'string' || !isSafeUint(at)) {
            badLines += 1;
            break;
          }
          transitions.push({ master, from, to, reason: typeof reason === 'string' ? reason : '', token: isSafeUint(token) ? token : undefined, atMs: at });
          break;
        }
        case 'fault':
          break;
        default:
          badLines += 1;
      }
    }
  }
  const ops: WriteOp[] = [];
  for (const [key, invoke] of invokes) {
    const done = completes.get(key);
    ops.push({
      op: invoke.op,
      master: invoke.master,
      kind: invoke.kind,
      epoch: invoke.epoch,
      firstTxId: invoke.first,
      seq: invoke.seq,
      count: invoke.count,
      startMs: invoke.at,
      endMs: done?.at,
      outcome: done?.outcome ?? 'unknown',
      error: done?.error,
    });
  }
  ops.sort((a, b) => a.startMs - b.startMs || (a.master < b.master ? -1 : a.master > b.master ? 1 : a.op - b.op));
  opens.sort((a, b) => a.startMs - b.startMs);
  transitions.sort((a, b) => a.atMs - b.atMs);
  return { ops, opens, transitions, badLines };
}

/** Read and parse history files. */
export function readHistoryFiles(paths: readonly string[]): History {
  return parseHistory(paths.map((path) => readFileSync(path, 'utf8')));
}
