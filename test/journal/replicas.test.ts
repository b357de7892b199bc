import test from 'ava';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Command } from '../../journalnode/journal-commands.ts';
import { JournalStateMachine } from '../../journalnode/journal-state-machine.ts';
import { catJournalDir, journalCurrentDir } from '../../journalnode/segments.ts';
import { parseRecords } from '../../journalnode/protocol/records.ts';
import type { SnapshotMeta } from '../../raft/core/types.ts';
import type { AppliedEntry } from '../../raft/state-machine.ts';
import { assertSameTree, editsFor, Feeder, journalCommand, newMachine, ns, readSnapshotTree, readTree, tempDir } from './helpers.ts';

const J = 'jn-1';

/** A workload: two journals, writer changes, finalizes, a drop, a purge, leases, retries, rejections. */
function workload(): Command[] {
  const out: Command[] = [
    { type: 'format', journalId: J, namespace: ns, force: false },
    { type: 'format', journalId: 'second', namespace: ns, force: false },
    { type: 'newEpoch', journalId: J, namespace: ns, epoch: 1, writerId: 'nn1' },
    { type: 'startSegment', journalId: J, epoch: 1, txId: 1 },
    { type: 'acquireLease', journalId: J, leaseName: 'active', candidate: 'nn1', ttlMs: 5000, nowMs: 1000 },
  ];
  let txid = 1;
  let secondSegment = 0;
  for (let i = 0; i < 30; i += 1) {
    const count = 1 + (i % 4);
    out.push(journalCommand(J, 1, txid, count, editsFor(txid, count).map((b, k) => Buffer.concat([b, Buffer.alloc((i * 37 + k) % 300, i)]))));
    if (i % 7 === 3) out.push(out.at(-1)!); // an exact retry
    txid += count;
    if (i === 12) {
      secondSegment = txid;
      out.push({ type: 'finalize', journalId: J, epoch: 1, firstTxId: 1, lastTxId: txid - 1 }, { type: 'startSegment', journalId: J, epoch: 1, txId: txid });
      out.push({ type: 'newEpoch', journalId: 'second', namespace: ns, epoch: 9, writerId: '' }, { type: 'startSegment', journalId: 'second', epoch: 9, txId: 1 });
      out.push(journalCommand('second', 9, 1, 2));
    }
  }
  out.push({ type: 'renewLease', journalId: J, leaseName: 'active', candidate: 'nn1', token: 5, ttlMs: 5000, nowMs: 3000 });
  out.push(journalCommand(J, 1, 3, 1)); // rejected: out of order
  out.push({ type: 'newEpoch', journalId: J, namespace: ns, epoch: 2, writerId: 'nn2' });
  out.push(journalCommand(J, 1, txid, 1)); // rejected: fenced
  out.push({ type: 'finalize', journalId: J, epoch: 2, firstTxId: secondSegment, lastTxId: txid - 1 });
  return out;
}

/** Finish the workload after it (the commands depend on the txids it reached). */
function tail(lastTxId: number): Command[] {
  const next = lastTxId + 1;
  return [
    { type: 'startSegment', journalId: J, epoch: 2, txId: next },
    { type: 'finalize', journalId: J, epoch: 2, firstTxId: next, lastTxId: next - 1 }, // dropped empty
    { type: 'startSegment', journalId: J, epoch: 2, txId: next },
    journalCommand(J, 2, next, 3),
    { type: 'purge', journalId: J, epoch: 2, minTxIdToKeep: 32 },
    journalCommand(J, 2, next + 3, 2),
    { type: 'acquireLease', journalId: J, leaseName: 'active', candidate: 'nn2', ttlMs: 5000, nowMs: 20_000 },
    journalCommand('second', 9, 3, 1),
  ];
}

async function fullLog(t: Parameters<typeof newMachine>[0]): Promise<{ entries: AppliedEntry[]; results: unknown[]; tree: Map<string, Buffer>; dir: string; machine: JournalStateMachine }> {
  const { dir, machine, feed } = await newMachine(t);
  const results: unknown[] = [];
  for (const command of workload()) results.push(await feed.one(command));
  const state = machine.getJournalState(J);
  if (!state.ok) throw new Error('no journal state');
  for (const command of tail(state.lastTxId)) results.push(await feed.one(command));
  return { entries: feed.log, results, tree: await readTree(join(dir, 'journals')), dir, machine };
}

test('journal replicas - two state machines fed the same entries end with byte-identical directories and results', async (t) => {
  const direct = await fullLog(t);
  t.true(direct.tree.size >= 3);
  // The second replica gets the same entries in different apply batches.
  const { dir, machine } = await newMachine(t);
  const results: unknown[] = [];
  for (let i = 0; i < direct.entries.length; ) {
    const size = 1 + (i % 5);
    results.push(...(await machine.apply(direct.entries.slice(i, i + size))));
    i += size;
  }
  t.deepEqual(results, direct.results);
  assertSameTree(t, await readTree(join(dir, 'journals')), direct.tree);
  t.deepEqual(machine.getManifest(J, 0), direct.machine.getManifest(J, 0));
  t.deepEqual(machine.getLease(J, 'active', 21_000), direct.machine.getLease(J, 'active', 21_000));
  // Some commands were rejected and some were retries: the workload exercises both.
  const flat = results as { ok: boolean; duplicate?: boolean }[];
  t.true(flat.some((r) => !r.ok));
  t.true(flat.some((r) => r.duplicate === true));
});

test('journal replicas - snapshot, restore into a fresh directory, apply the rest: byte-identical to the direct replica', async (t) => {
  const direct = await fullLog(t);
  for (const cut of [6, 20, Math.floor(direct.entries.length / 2), direct.entries.length - 3]) {
    // The reference: a snapshot completed before anything else is applied.
    const reference = await newMachine(t);
    await reference.machine.apply(direct.entries.slice(0, cut));
    const referenceDir = join(await tempDir(t, 'snap-'), 'snapshot');
    await mkdir(referenceDir);
    const referencePrefixes = await (await reference.machine.snapshot(referenceDir))();
    const snapshotTree = await readSnapshotTree(t, referenceDir, referencePrefixes);
    // The in-progress segment is linked, not copied: a prefix file of the snapshot. Segments
    // this machine finalized are declared whole with their CRC (readSnapshotTree checks each).
    const declared = [...(referencePrefixes ?? new Map()).keys()];
    t.true(cut === 6 || declared.some((name) => name.includes('edits_inprogress_')), `no in-progress prefix file at ${cut}`);
    const finalized = [...snapshotTree.keys()].filter((name) => /edits_\d+-\d+$/.test(name));
    t.deepEqual(declared.filter((name) => /edits_\d+-\d+$/.test(name)).sort(), finalized.sort(), `finalized segments declared at ${cut}`);
    t.true(snapshotTree.has('journal-state.json'));
    // The source completes its snapshot only after applying the rest (appends, finalizes,
    // purges, new segments): the completion must still write the state as of the capture.
    const source = await newMachine(t);
    await source.machine.apply(direct.entries.slice(0, cut));
    const snapshotDir = join(await tempDir(t, 'snap-'), 'snapshot');
    await mkdir(snapshotDir);
    const complete = await source.machine.snapshot(snapshotDir);
    await source.machine.apply(direct.entries.slice(cut));
    const prefixes = await complete();
    assertSameTree(t, await readSnapshotTree(t, snapshotDir, prefixes), snapshotTree);
    assertSameTree(t, await readTree(join(source.dir, 'journals')), direct.tree);

    const target = await newMachine(t);
    const meta: SnapshotMeta = { index: direct.entries[cut - 1]!.index, term: 1, confState: { voters: ['a'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } };
    await target.machine.restore(snapshotDir, meta);
    const results = await target.machine.apply(direct.entries.slice(cut));
    t.deepEqual(results, direct.results.slice(cut), `results after restore at ${cut}`);
    // Restored segments keep the CRC the snapshot carried: the target's own snapshot declares
    // every finalized segment, restored or finalized since (readSnapshotTree checks each CRC).
    const againDir = join(await tempDir(t, 'snap-'), 'again');
    await mkdir(againDir);
    const againPrefixes = await (await target.machine.snapshot(againDir))();
    const againTree = await readSnapshotTree(t, againDir, againPrefixes);
    const againFinalized = [...againTree.keys()].filter((name) => /edits_\d+-\d+$/.test(name));
    t.true(againFinalized.length > 0);
    t.deepEqual([...(againPrefixes ?? new Map()).keys()].filter((name) => /edits_\d+-\d+$/.test(name)).sort(), againFinalized.sort(), `restored segments declared at ${cut}`);
    assertSameTree(t, await readTree(join(target.dir, 'journals')), direct.tree);
    t.deepEqual(await target.machine.readEdits(J, 40, 1000, 1 << 20), await direct.machine.readEdits(J, 40, 1000, 1 << 20));
    // Appends after the restore did not touch the snapshot's files (nor their prefixes, the source's appends).
    assertSameTree(t, await readSnapshotTree(t, snapshotDir, prefixes), snapshotTree);
  }
});

test('journal replicas - a snapshot without segment CRCs (earlier versions) restores; its segments are then read, not declared', async (t) => {
  const direct = await fullLog(t);
  const snapshotDir = join(await tempDir(t, 'snap-'), 's');
  await mkdir(snapshotDir);
  await (await direct.machine.snapshot(snapshotDir))();
  const metaPath = join(snapshotDir, 'journal-state.json');
  const meta = JSON.parse(await readFile(metaPath, 'utf8')) as { journals: { segments: { crc32c?: number; inProgress: boolean }[] }[] };
  const carried = meta.journals.flatMap((j) => j.segments).filter((segment) => !segment.inProgress);
  t.true(carried.length > 0 && carried.every((segment) => typeof segment.crc32c === 'number'), 'this version writes the CRC of every finalized segment');
  for (const journal of meta.journals) for (const segment of journal.segments) delete segment.crc32c;
  await writeFile(metaPath, JSON.stringify(meta));

  const target = await newMachine(t);
  const at: SnapshotMeta = { index: direct.entries.at(-1)!.index, term: 1, confState: { voters: ['a'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } };
  await target.machine.restore(snapshotDir, at);
  assertSameTree(t, await readTree(join(target.dir, 'journals')), direct.tree);
  const againDir = join(await tempDir(t, 'snap-'), 'again');
  await mkdir(againDir);
  const prefixes = await (await target.machine.snapshot(againDir))();
  t.deepEqual([...(prefixes ?? new Map()).keys()].filter((name) => /edits_\d+-\d+$/.test(name)), []);
  t.true([...(await readTree(againDir)).keys()].some((name) => /edits_\d+-\d+$/.test(name)));
});

test('journal replicas - restore replaces a live state; finalized segments are hard links of the snapshot', async (t) => {
  const direct = await fullLog(t);
  const snapshotDir = join(await tempDir(t, 'snap-'), 's');
  await mkdir(snapshotDir);
  await (await direct.machine.snapshot(snapshotDir))();
  // A replica with other data restores the snapshot: it ends with exactly the snapshot's state.
  const other = await newMachine(t);
  const feed = new Feeder(other.machine);
  await feed.apply({ type: 'format', journalId: 'stale', namespace: ns, force: false }, { type: 'newEpoch', journalId: 'stale', namespace: ns, epoch: 1, writerId: '' });
  const events: string[] = [];
  other.machine.onApplied((event) => events.push(`${event.type}:${event.journalId}`));
  const index = direct.entries.at(-1)!.index;
  await other.machine.restore(snapshotDir, { index, term: 1, confState: { voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } });
  t.deepEqual(other.machine.listJournals(), [J, 'second']);
  t.deepEqual(events.sort(), ['reset:jn-1', 'reset:second', 'reset:stale']);
  assertSameTree(t, await readTree(join(other.dir, 'journals')), direct.tree);
  const current = journalCurrentDir(other.dir, J);
  for (const name of await readdir(current)) {
    const live = await stat(join(current, name));
    const snap = await stat(join(snapshotDir, 'journals', J, name));
    if (name.startsWith('edits_inprogress_')) t.not(live.ino, snap.ino);
    else t.is(live.ino, snap.ino);
  }
  // Entries after the snapshot index continue from it.
  const next = new Feeder(other.machine);
  next.index = index;
  const state = other.machine.getJournalState(J);
  if (!state.ok) return t.fail();
  t.like(await next.one(journalCommand(J, 2, state.lastTxId + 1, 1)), { ok: true });
  // A malformed snapshot is refused and the live state stays.
  const bad = join(await tempDir(t, 'bad-'), 's');
  await mkdir(bad);
  await t.throwsAsync(other.machine.restore(bad, { index: index + 5, term: 1, confState: { voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } }), { name: 'SnapshotFormatError' });
  t.deepEqual(other.machine.listJournals(), [J, 'second']);
});

test('journal replicas - a restarted node sets old files aside and rebuilds them from the log', async (t) => {
  const direct = await fullLog(t);
  await direct.machine.close();
  const restarted = new JournalStateMachine({ dataDir: direct.dir });
  t.teardown(() => restarted.close());
  t.deepEqual(restarted.listJournals(), []);
  await restarted.apply(direct.entries);
  assertSameTree(t, await readTree(join(direct.dir, 'journals')), direct.tree);
  assertSameTree(t, await readTree(join(direct.dir, 'journals.previous')), direct.tree);
});

test('journal replicas - the segment directory of a replica is readable bare, with no Raft state', async (t) => {
  const direct = await fullLog(t);
  const dir = journalCurrentDir(direct.dir, J);
  const fromFiles = [];
  for await (const record of catJournalDir(dir, 40)) fromFiles.push(record);
  const fromMachine = await direct.machine.readEdits(J, 40, 1000, 1 << 20);
  if (!fromMachine.ok) return t.fail();
  t.deepEqual(
    fromFiles.map((r) => [r.txid, Buffer.from(r.data).toString('hex')]),
    parseRecords(fromMachine.records).map((r) => [r.txid, Buffer.from(r.data).toString('hex')]),
  );
  t.is(fromFiles.at(-1)?.txid, fromMachine.lastTxId);
});

test('journal replicas - random command sequences: replicas and snapshot restores agree', async (t) => {
  // Commands drawn at random (many rejected), applied by a direct replica and by one restored
  // from a snapshot at a random cut; results and files must agree.
  // Epochs are drawn relative to the promised one, mostly equal to it, so that many commands succeed.
  const epochOffset = fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: -1, max: 1 }), weight: 1 });
  const commandArbitrary = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('journal' as const), epoch: epochOffset, delta: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: -2, max: 2 }), weight: 1 }), count: fc.integer({ min: 1, max: 4 }) }), weight: 5 },
    { arbitrary: fc.record({ kind: fc.constant('newEpoch' as const), epoch: fc.integer({ min: 0, max: 2 }) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('start' as const), epoch: epochOffset, delta: fc.integer({ min: 0, max: 1 }) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('finalize' as const), epoch: epochOffset, delta: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: -1, max: 1 }), weight: 1 }) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('purge' as const), keep: fc.integer({ min: 0, max: 30 }) }), weight: 1 },
  );
  let applied = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(commandArbitrary, { minLength: 5, maxLength: 40 }), fc.nat(), async (plan, cutSeed) => {
      const a = new JournalStateMachine({ dataDir: await tempDir(t, 'rand-a-') });
      const feed = new Feeder(a);
      const results: unknown[] = [];
      results.push(await feed.one({ type: 'format', journalId: J, namespace: ns, force: false }));
      results.push(await feed.one({ type: 'newEpoch', journalId: J, namespace: ns, epoch: 1, writerId: '' }));
      results.push(await feed.one({ type: 'startSegment', journalId: J, epoch: 1, txId: 1 }));
      for (const step of plan) {
        const state = a.getJournalState(J);
        const last = state.ok ? state.lastTxId : 0;
        const open = state.ok ? state.openSegment : null;
        const promised = state.ok ? state.promisedEpoch : 0;
        let command: Command;
        switch (step.kind) {
          case 'journal':
            command = journalCommand(J, Math.max(1, promised + step.epoch), Math.max(1, last + 1 + step.delta), step.count);
            break;
          case 'newEpoch':
            command = { type: 'newEpoch', journalId: J, namespace: ns, epoch: Math.max(1, promised + step.epoch), writerId: '' };
            break;
          case 'start':
            command = { type: 'startSegment', journalId: J, epoch: Math.max(1, promised + step.epoch), txId: last + 1 + step.delta };
            break;
          case 'finalize':
            command = { type: 'finalize', journalId: J, epoch: Math.max(1, promised + step.epoch), firstTxId: open?.firstTxId ?? last + 1, lastTxId: Math.max(0, (open?.lastTxId ?? last) + step.delta) };
            break;
          case 'purge':
            command = { type: 'purge', journalId: J, epoch: 0, minTxIdToKeep: step.keep };
            break;
        }
        const result = await feed.one(command);
        if (result.ok && command.type === 'journal') applied += 1;
        results.push(result);
      }
      const cut = 1 + (cutSeed % feed.log.length);
      const b = new JournalStateMachine({ dataDir: await tempDir(t, 'rand-b-') });
      await b.apply(feed.log.slice(0, cut));
      const snapshotDir = join(await tempDir(t, 'rand-s-'), 's');
      await mkdir(snapshotDir);
      // The snapshot completes only after b applied the rest of the log: what it holds is
      // still the state at the cut (the segments since appended, finalized or purged).
      const complete = await b.snapshot(snapshotDir);
      await b.apply(feed.log.slice(cut));
      await complete();
      const c = new JournalStateMachine({ dataDir: await tempDir(t, 'rand-c-') });
      await c.restore(snapshotDir, { index: feed.log[cut - 1]!.index, term: 1, confState: { voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } });
      const rest = await c.apply(feed.log.slice(cut));
      const expected = results.slice(cut);
      const treeA = await readTree(join(a.dataDir, 'journals'));
      const treeB = await readTree(join(b.dataDir, 'journals'));
      const treeC = await readTree(join(c.dataDir, 'journals'));
      await Promise.all([a.close(), b.close(), c.close()]);
      t.deepEqual(rest, expected);
      assertSameTree(t, treeC, treeA);
      assertSameTree(t, treeB, treeA);
    }),
    { numRuns: 40 },
  );
  // 40 runs give about 80 applied batches (15 runs gave 14 to 41 across seeds, a flaky floor).
  t.true(applied > 30, `only ${applied} batches applied: the generator barely exercises appends`);
});
