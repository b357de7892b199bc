/**
 * The deterministic Raft simulator (the TigerBeetle VOPR / etcd rafttest way): seeded clusters
 * of the pure core over simulated disks and a faulty simulated network, with invariants checked
 * after every step and a liveness check after the heal. Canaries (deliberately broken cores)
 * prove the checks can fail. `npm run sim` is the command-line front (raft/sim/main.ts).
 */
import type { CanaryName } from '../core/types.ts';
import type { Violation } from './checker.ts';
import { Simulation } from './simulation.ts';
import type { SeedResult, SeedStats, SimOptions } from './simulation.ts';

export type { InvariantName, Violation } from './checker.ts';
export type { SeedResult, SeedStats, SimOptions } from './simulation.ts';
export { CHAOS_TICKS_DEFAULT, HEAL_TICKS_MAX_DEFAULT } from './simulation.ts';
export { Prng } from './prng.ts';

/** Every canary the core implements, in the order `--canary list` prints them. */
export const CANARY_NAMES: readonly CanaryName[] = ['commit-previous-term', 'double-vote', 'ack-before-persist', 'forget-vote'];

/** Whether `name` is a known canary. */
export function isCanaryName(name: string): name is CanaryName {
  return (CANARY_NAMES as readonly string[]).includes(name);
}

/** Run one seeded scenario. The same `(seed, options)` always gives the same result and trace. */
export function runSeed(seed: number, options: SimOptions = {}): SeedResult {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`sim: seed must be a non-negative safe integer, got ${seed}`);
  return new Simulation(seed, options).run();
}

/** Options of a batch of seeds. */
export interface RunSeedsOptions extends Omit<SimOptions, 'trace'> {
  /** How many seeds to run. */
  readonly seeds: number;
  /** The first seed (default 1); seeds are `start .. start + seeds - 1`. */
  readonly start?: number;
  /** Stop at the first seed that breaks an invariant (canary hunts). */
  readonly stopAtFirstViolation?: boolean;
  /** Called after each seed, in order. */
  readonly onSeed?: (result: SeedResult) => void;
}

/** Failing seeds kept in a batch result (the count covers all of them). */
export const FAILED_SEEDS_KEPT_MAX = 50;

/** The outcome of a batch. */
export interface RunSeedsResult {
  /** Seeds actually run. */
  readonly seeds: number;
  /** Violations found over all seeds. */
  readonly violations: number;
  /** Seeds with at least one violation. */
  readonly failedSeeds: number;
  /** Seeds with at least one violation (the first FAILED_SEEDS_KEPT_MAX of them). */
  readonly failed: readonly SeedResult[];
  /** The first violation found, if any. */
  readonly firstViolation: Violation | null;
  /** Sums of the per-seed figures (`nodes` and `healTicks` are summed too). */
  readonly totals: SeedStats;
  /** The slowest heal over the batch, in ticks. */
  readonly healTicksMax: number;
  /** The busiest tick over the batch, in events. */
  readonly eventsPerTickMax: number;
}

/** Run seeds `start .. start + seeds - 1` one after the other. */
export function runSeeds(options: RunSeedsOptions): RunSeedsResult {
  const start = options.start ?? 1;
  if (!Number.isSafeInteger(options.seeds) || options.seeds < 0) throw new RangeError(`sim: seeds must be a non-negative integer, got ${options.seeds}`);
  const { seeds: count, start: _start, stopAtFirstViolation, onSeed, ...simOptions } = options;
  let totals: SeedStats | null = null;
  let violations = 0;
  let failedSeeds = 0;
  let ran = 0;
  let healTicksMax = 0;
  let eventsPerTickMax = 0;
  const failed: SeedResult[] = [];
  let firstViolation: Violation | null = null;
  for (let seed = start; seed < start + count; seed++) {
    const result = runSeed(seed, simOptions);
    ran++;
    totals = totals === null ? { ...result.stats } : addStats(totals, result.stats);
    healTicksMax = Math.max(healTicksMax, result.stats.healTicks);
    eventsPerTickMax = Math.max(eventsPerTickMax, result.stats.eventsPerTickMax);
    if (result.violations.length > 0) {
      violations += result.violations.length;
      failedSeeds++;
      firstViolation ??= result.violations[0]!;
      if (failed.length < FAILED_SEEDS_KEPT_MAX) failed.push(result);
    }
    onSeed?.(result);
    if (stopAtFirstViolation === true && result.violations.length > 0) break;
  }
  return { seeds: ran, violations, failedSeeds, failed, firstViolation, totals: totals ?? emptyStats(), healTicksMax, eventsPerTickMax };
}

function addStats(a: SeedStats, b: SeedStats): SeedStats {
  const out = { ...a };
  for (const key of Object.keys(b) as (keyof SeedStats)[]) out[key] = a[key] + b[key];
  return out;
}

function emptyStats(): SeedStats {
  return {
    nodes: 0, ticks: 0, healTicks: 0, events: 0, eventsPerTickMax: 0, messagesSent: 0, messagesDelivered: 0, messagesDropped: 0,
    messagesDuplicated: 0, crashes: 0, partitions: 0, elections: 0, proposalsAccepted: 0, proposalsRefused: 0,
    commitIndexMax: 0, entriesApplied: 0, confChangesProposed: 0, confChangesApplied: 0, snapshotsCreated: 0,
    snapshotsInstalled: 0, readsAnswered: 0, transfers: 0,
  };
}
