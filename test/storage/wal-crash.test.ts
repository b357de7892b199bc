/**
 * Randomized crash test of the WAL over the FaultyFileSystem (fast-check, seeded): a random
 * history of appends (some truncating), resets and compactions, with random interleaving, then
 * a power cut (optionally after a torn write, keeping a random part of the unsynced tail).
 * After reopening, the log must be what some prefix of the history produced (every append
 * whose promise resolved included, the last one possibly cut between records), minus what
 * compaction was allowed to delete.
 */
import test from 'ava';
import fc from 'fast-check';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../../raft/core/types.ts';
import { FaultyFileSystem, openWal } from '../../raft/storage/index.ts';
import { entries, plain } from './support.ts';

type Operation =
  | { kind: 'append'; back: number; count: number; bytes: number; wait: boolean }
  | { kind: 'reset'; skip: number }
  | { kind: 'compact'; behind: number }
  | { kind: 'settle' }
  | { kind: 'yield' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('append' as const), back: fc.oneof(fc.constant(0), fc.nat(6)), count: fc.integer({ min: 1, max: 5 }), bytes: fc.integer({ min: 0, max: 300 }), wait: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), skip: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), behind: fc.nat(5) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'settle' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'yield' as const }) },
);

/** One durable step of the history: entries appended, or a reset to `next`. */
type Step = { entries: Entry[] } | { reset: number };

function replay(steps: readonly Step[]): Entry[] {
  let log: Entry[] = [];
  for (const s of steps) {
    if ('reset' in s) log = [];
    else log = log.filter((e) => e.index < s.entries[0]!.index).concat(s.entries);
  }
  return log;
}

test('wal - a crash at any point keeps every acknowledged append (randomized)', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'qj-wal-crash-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(operation, { minLength: 1, maxLength: 25 }),
      fc.constantFrom(256, 1024, 1 << 20),
      fc.option(fc.record({ at: fc.nat(24), bytes: fc.nat(1500) }), { nil: null }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      async (operations, segmentBytesMax, tear, keepFraction) => {
        const dir = join(base, `run-${run++}`);
        await mkdir(dir);
        const fs = new FaultyFileSystem(dir);
        const { wal } = await openWal(dir, { fs, segmentBytesMax });
        const steps: Step[] = [];
        const outcomes: ('pending' | 'resolved' | 'rejected')[] = [];
        const promises: Promise<void>[] = [];
        let last = 0;
        let floor = 1; // appends never go below a compaction point (as Raft)
        let compactedMax = 0;
        const track = (i: number, p: Promise<void>): void => {
          outcomes[i] = 'pending';
          promises.push(
            p.then(
              () => void (outcomes[i] = 'resolved'),
              () => void (outcomes[i] = 'rejected'),
            ),
          );
        };
        for (let o = 0; o < operations.length; o++) {
          if (tear !== null && tear.at === o) fs.tearNextWrite(tear.bytes);
          const op = operations[o]!;
          if (op.kind === 'append') {
            const start = Math.max(floor, last + 1 - op.back);
            const list = entries(start, start + op.count - 1, steps.length + 1, op.bytes);
            last = start + op.count - 1;
            const i = steps.push({ entries: list }) - 1;
            let p: Promise<void>;
            try {
              p = wal.append(list);
            } catch (e) {
              p = Promise.reject(e);
            }
            track(i, p);
            if (op.wait) await promises[promises.length - 1];
          } else if (op.kind === 'reset') {
            const next = last + 1 + op.skip;
            const i = steps.push({ reset: next }) - 1;
            track(i, wal.reset(next));
            last = next - 1;
            floor = next;
          } else if (op.kind === 'compact') {
            const c = Math.max(0, last - op.behind);
            compactedMax = Math.max(compactedMax, c);
            floor = Math.max(floor, c + 1);
            await wal.compact(c).catch(() => {});
          } else if (op.kind === 'settle') {
            await Promise.all(promises);
          } else {
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
        }
        await fs.crash({ keepUnsyncedBytes: (_path, unsynced) => unsynced * keepFraction });
        await Promise.all(promises);
        await wal.close();

        const reopened = await openWal(dir, { fs, segmentBytesMax });
        await reopened.wal.close();
        const got = plain(reopened.entries);
        const lastResolved = outcomes.lastIndexOf('resolved');
        // Candidate logs: steps [0, k) durable, then a prefix of step k's records.
        const candidates: Entry[][] = [];
        for (let k = lastResolved + 1; k <= steps.length; k++) {
          const done = steps.slice(0, k);
          candidates.push(replay(done));
          const next = steps[k];
          if (next !== undefined && 'entries' in next) {
            for (let p = 1; p < next.entries.length; p++) candidates.push(replay([...done, { entries: next.entries.slice(0, p) }]));
          }
        }
        const matches = candidates.some((c) => {
          const start = got.length > 0 ? got[0]!.index : Number.MAX_SAFE_INTEGER;
          const kept = c.filter((e) => e.index >= start);
          if (JSON.stringify(plain(kept)) !== JSON.stringify(got)) return false;
          // Compaction may only drop entries at or below the highest compaction index.
          return c.every((e) => e.index >= start || e.index <= compactedMax);
        });
        if (!matches) {
          throw new Error(
            `recovered ${JSON.stringify(got.map((e) => [e.index, e.term]))}, outcomes ${outcomes.join(',')}, ` +
              `candidates ${JSON.stringify(candidates.map((c) => c.map((e) => [e.index, e.term])))}`,
          );
        }
        await rm(dir, { recursive: true, force: true });
      },
    ),
    { numRuns: 200, seed: 20240611, endOnFailure: true },
  );
  t.pass();
});
