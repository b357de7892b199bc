/**
 * The command line of `npm run chaos` (main.ts): parsing and validation, kept apart from the
 * main so tests can parse without running.
 */
import { Command, Option } from 'commander';
import { canaryNames, type CanaryName } from './runner.ts';
import { faultKinds, isFaultKind, type FaultKind } from './schedule.ts';

/** Parsed command line. Times in ms. */
export interface ChaosArgs {
  readonly durationMs: number;
  readonly seed: number;
  readonly nodes: number;
  readonly faults: FaultKind[];
  readonly canary: CanaryName | undefined;
  readonly dir: string | undefined;
  readonly keep: boolean;
  /** Writes per second of the active master. */
  readonly writesPerSecond: number;
  /** How long the healed cluster gets to converge before the read-back. */
  readonly convergenceTimeoutMs: number;
}

/** Longest run accepted, seconds. */
export const durationSecondsMax = 24 * 3600;

/**
 * Parse the arguments (without node and script). `randomSeed` gives the seed when `--seed` is
 * absent. Throws CommanderError (also for --help) or RangeError on bad input.
 */
export function parseChaosArgs(argv: readonly string[], randomSeed: () => number): ChaosArgs {
  const program = new Command('chaos')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: () => undefined })
    .addOption(new Option('--duration <seconds>', 'length of the fault phase').default('60'))
    .addOption(new Option('--seed <n>', 'seed of the fault schedule (default: random, printed)'))
    .addOption(new Option('--nodes <n>', 'JournalNodes').choices(['3', '5']).default('3'))
    .addOption(new Option('--faults <list>', `comma-separated fault kinds (default: all): ${faultKinds.join(',')}`))
    .addOption(new Option('--canary <name>', 'run deliberately broken JournalNodes (test only)').choices([...canaryNames]))
    .addOption(new Option('--dir <path>', 'directory for data, logs and histories (default: a temporary one)'))
    .addOption(new Option('--keep', 'keep the directory even when the run is clean'))
    .addOption(new Option('--write-rate <n>', 'writes per second of the active master (1..8 edits each)').default('100'))
    .addOption(new Option('--converge-timeout <seconds>', 'how long the healed cluster gets to converge before the read-back').default('90'))
    .allowExcessArguments(false);
  program.parse([...argv], { from: 'user' });
  const o = program.opts<{ duration: string; seed?: string; nodes: string; faults?: string; canary?: string; dir?: string; keep?: boolean; writeRate: string; convergeTimeout: string }>();
  if (!/^\d{1,4}$/.test(o.convergeTimeout) || Number(o.convergeTimeout) < 1) throw new RangeError(`--converge-timeout: '${o.convergeTimeout}' is not a positive number of seconds`);
  if (!/^\d{1,5}$/.test(o.writeRate) || Number(o.writeRate) < 1) throw new RangeError(`--write-rate: '${o.writeRate}' is not a positive number of writes per second`);
  if (!/^\d{1,6}$/.test(o.duration) || Number(o.duration) < 1 || Number(o.duration) > durationSecondsMax) {
    throw new RangeError(`--duration: '${o.duration}' is not a number of seconds in 1 .. ${durationSecondsMax}`);
  }
  const seed = o.seed === undefined ? randomSeed() : Number(o.seed);
  if (o.seed !== undefined && (!/^\d{1,15}$/.test(o.seed) || !Number.isSafeInteger(seed))) throw new RangeError(`--seed: '${o.seed}' is not a non-negative integer`);
  const faults = o.faults === undefined ? [...faultKinds] : o.faults.split(',').map((f) => f.trim()).filter((f) => f !== '');
  if (faults.length === 0) throw new RangeError('--faults: empty list');
  for (const f of faults) if (!isFaultKind(f)) throw new RangeError(`--faults: unknown fault '${f}' (known: ${faultKinds.join(', ')})`);
  return {
    durationMs: Number(o.duration) * 1000,
    seed,
    nodes: Number(o.nodes),
    faults: faults as FaultKind[],
    canary: o.canary as CanaryName | undefined,
    dir: o.dir,
    keep: o.keep === true,
    writesPerSecond: Number(o.writeRate),
    convergenceTimeoutMs: Number(o.convergeTimeout) * 1000,
  };
}
