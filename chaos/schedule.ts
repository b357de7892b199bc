/**
 * The fault schedule of a chaos run: a pure function of the seed, the duration, the cluster
 * size and the enabled fault kinds. The same inputs give the same list of faults (kind, start,
 * duration, and every random choice the fault makes), so a failing seed replays its schedule.
 * Which process a role names ("the JN leader", "the active master") is resolved when the fault
 * starts, from the cluster's state at that moment; the run log prints the resolution.
 *
 * Faults run one after another: each starts, holds for its duration, is undone (healed,
 * resumed, restarted), then the cluster gets a quiet gap before the next one.
 */
import { Prng } from '../raft/sim/prng.ts';

/** Every kind of fault, in the order `--faults` lists them. */
export const faultKinds = [
  'kill-leader',
  'kill-follower',
  'pause-jn',
  'pause-master',
  'partition',
  'partition-one-way',
  'isolate-leader',
  'delay',
  'disk-full',
  'replace',
  'transfer-leader',
  'corrupt-links',
  'corrupt-grpc',
] as const;

/** One kind of fault. */
export type FaultKind = (typeof faultKinds)[number];

/** True when `name` is a fault kind. */
export function isFaultKind(name: string): name is FaultKind {
  return (faultKinds as readonly string[]).includes(name);
}

/** One scheduled fault. Times are ms from the start of the fault phase. */
export interface ScheduledFault {
  /** 1-based position in the schedule. */
  readonly index: number;
  readonly kind: FaultKind;
  readonly atMs: number;
  /** How long the fault holds before it is undone (0 for instant ones: transfer). */
  readonly durationMs: number;
  /**
   * Random choices, in [0, 1): which follower, which side of a partition each node falls on,
   * cut or drop, delay size... Each fault kind documents how it reads them (runner.ts).
   */
  readonly choices: readonly number[];
}

/** Inputs of {@link buildSchedule}. Times in ms. */
export interface ScheduleOptions {
  readonly seed: number;
  /** Length of the fault phase. */
  readonly durationMs: number;
  readonly kinds: readonly FaultKind[];
  /** The masters' lease TTL: a paused master stays paused longer than this. */
  readonly leaseTtlMs: number;
  /** Quiet time before the first fault and between faults. Default 1,500 / 1,000..3,000. */
  readonly firstFaultAtMs?: number;
}

/** Choices drawn per fault (enough for a 5-node split plus two masters and a few knobs). */
export const choicesPerFault = 12;

/** Shortest and longest hold of a fault, ms (a paused master holds longer: see below). */
export const faultHoldMsMin = 1_000;
export const faultHoldMsMax = 5_000;

/** Quiet gap between the end of one fault and the start of the next, ms. */
export const quietGapMsMin = 1_000;
export const quietGapMsMax = 3_000;

/** How long a fault of `kind` holds, from one draw in [0, 1). */
function holdMs(kind: FaultKind, draw: number, leaseTtlMs: number): number {
  switch (kind) {
    case 'transfer-leader':
      return 0;
    case 'pause-master':
      // Long enough for the lease to expire and another master to take over.
      return Math.round(leaseTtlMs * 2 + draw * 3_000);
    case 'replace':
      // The time the new member gets to catch up before the old one is removed.
      return Math.round(1_000 + draw * 2_000);
    default:
      return Math.round(faultHoldMsMin + draw * (faultHoldMsMax - faultHoldMsMin));
  }
}

/**
 * Build the schedule. Faults start at `firstFaultAtMs` and follow each other with a quiet gap;
 * none starts so late that it could not be undone before `durationMs`.
 */
export function buildSchedule(options: ScheduleOptions): ScheduledFault[] {
  if (options.kinds.length === 0) return [];
  if (!Number.isSafeInteger(options.durationMs) || options.durationMs < 0) throw new RangeError(`invalid duration ${options.durationMs}`);
  const random = new Prng(options.seed, 0x5c4ed);
  const out: ScheduledFault[] = [];
  let at = options.firstFaultAtMs ?? 1_500;
  for (;;) {
    const kind = options.kinds[random.nextUint32() % options.kinds.length]!;
    const durationMs = holdMs(kind, random.float(), options.leaseTtlMs);
    const choices = Array.from({ length: choicesPerFault }, () => random.float());
    const gapMs = Math.round(quietGapMsMin + random.float() * (quietGapMsMax - quietGapMsMin));
    if (at + durationMs > options.durationMs) break;
    out.push({ index: out.length + 1, kind, atMs: at, durationMs, choices });
    at += durationMs + gapMs;
  }
  return out;
}

/** One line per fault, for logs and for comparing two schedules. */
export function describeSchedule(schedule: readonly ScheduledFault[]): string[] {
  return schedule.map((f) => `#${f.index} t=${(f.atMs / 1000).toFixed(1)}s ${f.kind} for ${(f.durationMs / 1000).toFixed(1)}s`);
}
