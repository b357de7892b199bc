/**
 * The fault schedule replays from its seed, stays inside the run, and uses only the enabled
 * kinds; the command line parses and refuses bad values.
 */
import test from 'ava';
import { buildSchedule, describeSchedule, faultKinds } from '../../chaos/schedule.ts';
import { parseChaosArgs } from '../../chaos/args.ts';

test('chaos schedule - the same seed gives the same schedule, another seed another one', (t) => {
  const options = { seed: 42, durationMs: 120_000, kinds: faultKinds, leaseTtlMs: 2_000 };
  const a = buildSchedule(options);
  const b = buildSchedule(options);
  t.deepEqual(a, b);
  t.true(a.length > 5);
  t.notDeepEqual(describeSchedule(buildSchedule({ ...options, seed: 43 })), describeSchedule(a));
});

test('chaos schedule - faults follow each other inside the run, with only the enabled kinds', (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const schedule = buildSchedule({ seed, durationMs: 60_000, kinds: ['pause-master', 'partition'], leaseTtlMs: 2_000 });
    let end = 0;
    for (const fault of schedule) {
      t.true(['pause-master', 'partition'].includes(fault.kind));
      t.true(fault.atMs >= end, 'no overlap');
      end = fault.atMs + fault.durationMs;
      t.true(end <= 60_000, 'undone before the end');
      if (fault.kind === 'pause-master') t.true(fault.durationMs > 2_000, 'a paused master outlives its lease');
      t.true(fault.choices.every((c) => c >= 0 && c < 1));
    }
  }
  t.deepEqual(buildSchedule({ seed: 1, durationMs: 60_000, kinds: [], leaseTtlMs: 2_000 }), []);
});

test('chaos args - defaults, a random seed when none is given, and refusals', (t) => {
  const parsed = parseChaosArgs(['--duration', '30', '--seed', '7', '--nodes', '5', '--faults', 'kill-leader,delay'], () => 99);
  t.is(parsed.durationMs, 30_000);
  t.is(parsed.seed, 7);
  t.is(parsed.nodes, 5);
  t.deepEqual(parsed.faults, ['kill-leader', 'delay']);
  t.is(parseChaosArgs([], () => 99).seed, 99);
  t.deepEqual(parseChaosArgs([], () => 1).faults, [...faultKinds]);
  t.throws(() => parseChaosArgs(['--faults', 'kill-leader,meteor'], () => 1), { instanceOf: RangeError, message: /meteor/ });
  t.throws(() => parseChaosArgs(['--duration', '-5'], () => 1));
  t.throws(() => parseChaosArgs(['--seed', '1.5'], () => 1), { instanceOf: RangeError });
  t.is(parseChaosArgs([], () => 1).convergenceTimeoutMs, 90_000);
  t.is(parseChaosArgs(['--converge-timeout', '15'], () => 1).convergenceTimeoutMs, 15_000);
  t.throws(() => parseChaosArgs(['--converge-timeout', '0'], () => 1), { instanceOf: RangeError, message: /converge-timeout/ });
  t.throws(() => parseChaosArgs(['--nodes', '4'], () => 1));
});
