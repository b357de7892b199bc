import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CANARY_NAMES, runSeed, runSeeds } from '../../raft/sim/index.ts';
import type { RunSeedsResult } from '../../raft/sim/index.ts';

const run = promisify(execFile);

/** The correct core must pass this many seeds. */
const CORRECT_SEEDS = 500;
/** Each canary must be caught within this many seeds. */
const CANARY_SEEDS_MAX = 300;

function describeFailure(result: RunSeedsResult): string {
  const first = result.failed[0];
  if (first === undefined) return 'no violation';
  const v = first.violations[0]!;
  return `seed ${first.seed}: ${v.invariant} at tick ${v.tick}: ${v.detail}\nreplay: ${first.replay}`;
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

test('sim - the correct core passes 500 seeds, 3 and 5 nodes', (t) => {
  const startedMs = performance.now();
  const result = runSeeds({ seeds: CORRECT_SEEDS, start: 1 });
  const seconds = (performance.now() - startedMs) / 1000;
  t.log(
    `${result.seeds} seeds in ${seconds.toFixed(1)} s (${(result.seeds / seconds).toFixed(1)} seeds/s), ` +
      `${Math.round(result.totals.ticks / result.seeds)} ticks/seed, ${result.totals.elections} elections, ` +
      `${result.totals.crashes} crashes, ${result.totals.entriesApplied} entries applied, slowest heal ${result.healTicksMax} ticks`,
  );
  t.is(result.seeds, CORRECT_SEEDS);
  t.is(result.violations, 0, describeFailure(result));
  // The scenarios must actually exercise the core, or passing means nothing.
  t.true(result.totals.elections > CORRECT_SEEDS);
  t.true(result.totals.crashes > 0);
  t.true(result.totals.confChangesApplied > 0);
  t.true(result.totals.snapshotsInstalled > 0);
  t.true(result.totals.readsAnswered > 0);
  t.true(result.totals.proposalsAccepted > 0);
});

for (const canary of CANARY_NAMES) {
  test(`sim - canary ${canary} is caught within ${CANARY_SEEDS_MAX} seeds`, (t) => {
    const result = runSeeds({ seeds: CANARY_SEEDS_MAX, start: 1, canary, stopAtFirstViolation: true });
    t.true(result.violations > 0, `canary ${canary} survived ${result.seeds} seeds`);
    const first = result.failed[0]!;
    t.log(`canary ${canary}: first caught at seed ${first.seed} by ${first.violations[0]!.invariant}: ${first.violations[0]!.detail}`);
  });
}

test('sim - a seed replays to the same trace, another seed does not', (t) => {
  const a = runSeed(7, { trace: true });
  const b = runSeed(7, { trace: true });
  const c = runSeed(8, { trace: true });
  t.truthy(a.traceHash);
  t.true((a.trace?.length ?? 0) > 100);
  t.is(a.traceHash, b.traceHash);
  t.deepEqual(a.stats, b.stats);
  t.not(a.traceHash, c.traceHash);
});

test('sim - a canary violation replays with the printed seed', (t) => {
  const hunt = runSeeds({ seeds: CANARY_SEEDS_MAX, start: 1, canary: 'double-vote', stopAtFirstViolation: true });
  const first = hunt.failed[0];
  if (first === undefined) return t.fail('double-vote was not caught');
  const replay = runSeed(first.seed, { canary: 'double-vote', trace: true });
  t.deepEqual(
    replay.violations.map((v) => v.invariant),
    first.violations.map((v) => v.invariant),
  );
  t.true(replay.trace!.some((line) => line.includes('VIOLATION')));
  t.is(replay.replay, `npm run sim -- --seed ${first.seed} --canary double-vote`);
});

test('sim - npm run sim -- --seeds 20 ends with the summary line and exits 0', async (t) => {
  const { stdout } = await run('npm', ['run', '--silent', 'sim', '--', '--seeds', '20']);
  t.is(lastLine(stdout), 'sim: seeds=20 violations=0');
});

test('sim - a canary run exits non-zero and prints the replay command', async (t) => {
  const hunt = runSeeds({ seeds: CANARY_SEEDS_MAX, start: 1, canary: 'forget-vote', stopAtFirstViolation: true });
  const first = hunt.failed[0];
  if (first === undefined) return t.fail('forget-vote was not caught');
  const error = await t.throwsAsync(
    run('npm', ['run', '--silent', 'sim', '--', '--seeds', '1', '--start', String(first.seed), '--canary', 'forget-vote']),
  );
  const failure = error as unknown as { code: number; stdout: string };
  t.is(failure.code, 1);
  t.regex(failure.stdout, new RegExp(`VIOLATION seed=${first.seed} invariant=`));
  t.regex(failure.stdout, new RegExp(`replay: npm run sim -- --seed ${first.seed} --canary forget-vote`));
  t.regex(lastLine(failure.stdout), /^sim: seeds=1 violations=[1-9]\d*$/);
});

test('sim - --canary list prints every canary', async (t) => {
  const { stdout } = await run('npm', ['run', '--silent', 'sim', '--', '--canary', 'list']);
  t.deepEqual(stdout.trim().split('\n'), [...CANARY_NAMES]);
});
