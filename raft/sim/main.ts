/**
 * `npm run sim -- --seeds N [--start S] [--nodes K] [--canary NAME|list] [--seed S] [--ticks T]`
 *
 * Runs seeded scenarios against the Raft core and prints what broke. The last line is always
 * `sim: seeds=N violations=V`; the exit code is 1 when V > 0, 2 on a usage error.
 * `--seed S` replays one seed and prints its whole trace. `--canary list` prints the canaries.
 */
import { parseArgs } from 'node:util';
import { CANARY_NAMES, isCanaryName, runSeed, runSeeds } from './index.ts';
import type { SeedResult, SimOptions } from './index.ts';

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function integer(value: string | undefined, flag: string, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < minimum) throw new UsageError(`${flag} needs an integer >= ${minimum}, got '${value}'`);
  return n;
}

function printViolations(result: SeedResult): void {
  for (const v of result.violations) {
    console.log(`VIOLATION seed=${v.seed} invariant=${v.invariant} tick=${v.tick.toFixed(3)}: ${v.detail}`);
  }
  if (result.violations.length > 0) console.log(`  replay: ${result.replay}`);
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: 'string' },
      start: { type: 'string' },
      nodes: { type: 'string' },
      canary: { type: 'string' },
      seed: { type: 'string' },
      ticks: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    console.log('usage: npm run sim -- --seeds N [--start S] [--nodes K] [--canary NAME|list] [--seed S] [--ticks T]');
    return 0;
  }
  if (values.canary === 'list') {
    for (const name of CANARY_NAMES) console.log(name);
    return 0;
  }
  if (values.canary !== undefined && !isCanaryName(values.canary)) {
    throw new UsageError(`unknown canary '${values.canary}' (known: ${CANARY_NAMES.join(', ')})`);
  }
  const nodes = integer(values.nodes, '--nodes', 1);
  const chaosTicks = integer(values.ticks, '--ticks', 0);
  const options: SimOptions = {
    ...(nodes !== undefined ? { nodes } : {}),
    ...(chaosTicks !== undefined ? { chaosTicks } : {}),
    ...(values.canary !== undefined ? { canary: values.canary } : {}),
  };

  const single = integer(values.seed, '--seed', 0);
  if (single !== undefined) {
    const result = runSeed(single, { ...options, trace: true });
    for (const line of result.trace ?? []) console.log(line);
    console.log(`sim: trace hash ${result.traceHash ?? '-'}`);
    console.log(`sim: ${JSON.stringify(result.stats)}`);
    printViolations(result);
    console.log(`sim: seeds=1 violations=${result.violations.length}`);
    return result.violations.length > 0 ? 1 : 0;
  }

  const seeds = integer(values.seeds, '--seeds', 1) ?? 100;
  const start = integer(values.start, '--start', 0) ?? 1;
  const startedMs = performance.now();
  const batch = runSeeds({ ...options, seeds, start, onSeed: printViolations });
  const elapsedSeconds = (performance.now() - startedMs) / 1000;
  const t = batch.totals;
  console.log(
    `sim: seeds ${start}..${start + batch.seeds - 1}${values.canary !== undefined ? ` canary ${values.canary}` : ''}: ` +
      `${(batch.seeds / elapsedSeconds).toFixed(1)} seeds/s, ${(t.ticks / Math.max(1, batch.seeds)).toFixed(0)} ticks/seed, ${elapsedSeconds.toFixed(1)} s`,
  );
  console.log(
    `sim: totals ticks=${t.ticks} events=${t.events} messages=${t.messagesSent} dropped=${t.messagesDropped} duplicated=${t.messagesDuplicated} ` +
      `crashes=${t.crashes} partitions=${t.partitions} elections=${t.elections} proposals=${t.proposalsAccepted} applied=${t.entriesApplied} ` +
      `confChanges=${t.confChangesApplied} snapshotsInstalled=${t.snapshotsInstalled} reads=${t.readsAnswered} slowestHealTicks=${batch.healTicksMax} busiestTickEvents=${batch.eventsPerTickMax}`,
  );
  if (batch.firstViolation !== null) {
    const first = batch.failed[0]!;
    console.log(`sim: first violation at seed ${first.seed} (${batch.firstViolation.invariant}); replay: ${first.replay}`);
  }
  console.log(`sim: seeds=${batch.seeds} violations=${batch.violations}`);
  return batch.violations > 0 ? 1 : 0;
}

// `npm run sim -- --seed 5 | head` closes the pipe early: that is not an error of the run.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
    console.error(`sim: ${error.message}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
