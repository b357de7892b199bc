/**
 * Load drivers shared by the journal and etcd sides: a windowed driver (a fixed number of
 * operations in flight, as many as the system takes) and a paced driver (a fixed offered rate).
 * Both measure acknowledgement latency from the call to the resolution of each operation.
 */
import { LatencyRecorder, type LatencySummary } from './histogram.ts';

/** Time a driver waits for stragglers after its window before giving up, ms. */
export const drainTimeoutMs = 60_000;

/** What a windowed run measured. */
export interface ThroughputResult {
  /** Edits acknowledged per second inside the measured window. */
  readonly editsPerSecond: number;
  /** Acknowledgement latency of the operations started inside the measured window. */
  readonly latency: LatencySummary;
  /** Operations (writes, puts, transactions) acknowledged inside the window. */
  readonly operations: number;
}

/** Options of {@link runWindowed}. Times in milliseconds. */
export interface WindowedOptions {
  /** Edits one operation carries (1 for a put, 100 for a transaction of 100 puts). */
  readonly editsPerOperation: number;
  /** Operations kept in flight. */
  readonly inflightOperations: number;
  /** Run this long before measuring (connections, JIT, caches). */
  readonly warmupMs: number;
  /** Measure this long. */
  readonly durationMs: number;
}

/**
 * Keep `inflightOperations` calls of `operation` in flight for warmup + duration, then wait for
 * the last ones. Operations are started in order (the journal writer reserves txids at call time).
 */
export function runWindowed(operation: () => Promise<unknown>, options: WindowedOptions): Promise<ThroughputResult> {
  const recorder = new LatencyRecorder();
  const startedMs = performance.now();
  const measureFromMs = startedMs + options.warmupMs;
  const endMs = measureFromMs + options.durationMs;
  let inflight = 0;
  let stopped = false;
  let editsInWindow = 0;
  let operationsInWindow = 0;
  return new Promise<ThroughputResult>((resolve, reject) => {
    let finished = false;
    const finish = (error?: unknown): void => {
      if (finished) return;
      finished = true;
      clearTimeout(endTimer);
      clearTimeout(drainTimer);
      if (error !== undefined) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      resolve({ editsPerSecond: editsInWindow / (options.durationMs / 1000), latency: recorder.summary(), operations: operationsInWindow });
    };
    const endTimer = setTimeout(() => {
      stopped = true;
      if (inflight === 0) finish();
    }, endMs - startedMs);
    const drainTimer = setTimeout(() => finish(new Error(`driver: ${inflight} operations still unanswered ${drainTimeoutMs} ms after the window`)), endMs - startedMs + drainTimeoutMs);
    const launch = (): void => {
      while (!stopped && inflight < options.inflightOperations) {
        const callMs = performance.now();
        inflight += 1;
        let pending: Promise<unknown>;
        try {
          pending = operation();
        } catch (error) {
          stopped = true;
          finish(error);
          return;
        }
        pending.then(
          () => {
            inflight -= 1;
            const doneMs = performance.now();
            if (callMs >= measureFromMs && callMs < endMs) recorder.recordMs(doneMs - callMs);
            if (doneMs >= measureFromMs && doneMs <= endMs) {
              editsInWindow += options.editsPerOperation;
              operationsInWindow += 1;
            }
            if (doneMs >= endMs) stopped = true;
            if (stopped) {
              if (inflight === 0) finish();
            } else {
              launch();
            }
          },
          (error: unknown) => {
            stopped = true;
            finish(error);
          },
        );
      }
    };
    launch();
  });
}

/** What a paced run measured. */
export interface PacedResult {
  /** Edits acknowledged per second over the run (the offered rate when the system keeps up). */
  readonly achievedEditsPerSecond: number;
  readonly latency: LatencySummary;
  /** Edits that could not be offered on time because `backlogEditsMax` were unanswered. */
  readonly editsSkipped: number;
}

/** Options of {@link runPaced}. */
export interface PacedOptions {
  readonly editsPerSecond: number;
  readonly durationMs: number;
  /** Most edits offered in one call (the rest wait for the next tick). */
  readonly editsPerCallMax: number;
  /** Most edits unanswered; beyond, offers are skipped (and counted) rather than queued. */
  readonly backlogEditsMax: number;
  /** Called with each acknowledged call's edits count (after latency is recorded). */
  readonly onAcknowledged?: (count: number) => void;
}

/** Pacing timer period, ms (Node's timers resolve to about 1 ms). */
const pacingTickMs = 1;

/**
 * Offer `editsPerSecond` for `durationMs`: every tick, `write(n)` with the edits due since the
 * last one. Resolves once the last write is answered.
 */
export function runPaced(write: (count: number) => Promise<unknown>, options: PacedOptions): Promise<PacedResult> {
  const recorder = new LatencyRecorder();
  const startedMs = performance.now();
  let offered = 0;
  let acknowledged = 0;
  let skipped = 0;
  let unanswered = 0;
  let failure: unknown;
  return new Promise<PacedResult>((resolve, reject) => {
    let ended = false;
    const maybeFinish = (): void => {
      if (!ended || unanswered > 0) return;
      clearTimeout(drainTimer);
      if (failure !== undefined) reject(failure instanceof Error ? failure : new Error(String(failure)));
      else resolve({ achievedEditsPerSecond: acknowledged / ((performance.now() - startedMs) / 1000), latency: recorder.summary(), editsSkipped: skipped });
    };
    let drainTimer: NodeJS.Timeout | undefined;
    const tick = (): void => {
      const nowMs = performance.now();
      if (failure !== undefined || nowMs - startedMs >= options.durationMs) {
        ended = true;
        drainTimer = setTimeout(() => {
          failure ??= new Error(`paced driver: ${unanswered} edits unanswered ${drainTimeoutMs} ms after the run`);
          unanswered = 0;
          maybeFinish();
        }, drainTimeoutMs);
        maybeFinish();
        return;
      }
      const due = Math.floor(((nowMs - startedMs) / 1000) * options.editsPerSecond) - offered - skipped;
      let count = Math.min(due, options.editsPerCallMax);
      if (unanswered + count > options.backlogEditsMax) {
        const room = Math.max(0, options.backlogEditsMax - unanswered);
        skipped += count - room;
        count = room;
      }
      if (count > 0) {
        offered += count;
        unanswered += count;
        const callMs = nowMs;
        write(count).then(
          () => {
            recorder.recordMs(performance.now() - callMs);
            unanswered -= count;
            acknowledged += count;
            options.onAcknowledged?.(count);
            maybeFinish();
          },
          (error: unknown) => {
            failure ??= error;
            unanswered -= count;
            maybeFinish();
          },
        );
      }
      setTimeout(tick, pacingTickMs);
    };
    tick();
  });
}

/** One side of an interleaved comparison: one operation (one edit). */
export type InterleavedOperation = () => Promise<unknown>;

/** Options of {@link runInterleaved}. Times in milliseconds. */
export interface InterleavedOptions {
  /** Each side runs this long, unmeasured, before the first round. */
  readonly warmupMs: number;
  /** Rounds; in each, every side runs once, in turn. */
  readonly rounds: number;
  /** How long one side runs in one round. */
  readonly roundMs: number;
}

/** What {@link runInterleaved} measured. */
export interface InterleavedResult {
  /** Per side (in the order given): one operation in flight, all rounds together. */
  readonly sides: readonly [ThroughputResult, ThroughputResult];
  /** Per round: the first side's p50 over the second's, measured seconds apart. */
  readonly p50Ratios: readonly number[];
}

/**
 * One operation in flight, the sides taking turns: `rounds` rounds of `roundMs` per side. A
 * machine whose load drifts (a shared VM) then weighs on every side alike, where two windows
 * minutes apart compare the machine's moments as much as the systems.
 */
export async function runInterleaved(sides: readonly [InterleavedOperation, InterleavedOperation], options: InterleavedOptions): Promise<InterleavedResult> {
  const timed = async (operation: InterleavedOperation, durationMs: number, recorders: LatencyRecorder[]): Promise<number> => {
    const endMs = performance.now() + durationMs;
    let operations = 0;
    while (performance.now() < endMs) {
      const callMs = performance.now();
      await operation();
      const tookMs = performance.now() - callMs;
      for (const r of recorders) r.recordMs(tookMs);
      operations += 1;
    }
    return operations;
  };
  for (const side of sides) await timed(side, options.warmupMs, []);
  const totals = [new LatencyRecorder(), new LatencyRecorder()] as const;
  const operations = [0, 0];
  const p50Ratios: number[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    const p50s: number[] = [];
    for (const [i, side] of sides.entries()) {
      const roundRecorder = new LatencyRecorder();
      operations[i]! += await timed(side, options.roundMs, [totals[i]!, roundRecorder]);
      p50s.push(roundRecorder.summary().p50Ms);
    }
    if (p50s[1]! > 0) p50Ratios.push(Math.round((p50s[0]! / p50s[1]!) * 1000) / 1000);
  }
  const seconds = (options.rounds * options.roundMs) / 1000;
  const result = (i: 0 | 1): ThroughputResult => ({ editsPerSecond: operations[i]! / seconds, latency: totals[i].summary(), operations: operations[i]! });
  return { sides: [result(0), result(1)], p50Ratios };
}
