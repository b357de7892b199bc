/**
 * Decoders fuzzed with fast-check (a bounded number of cases, fixed seeds): every decoder that
 * reads bytes from disk or from the network answers damaged, truncated or invented input with
 * its typed error, never another exception, and what it does accept is exactly what was
 * written. Extends the fuzzing already in test/storage/wal-record.test.ts (random bytes after
 * valid WAL records) and test/journal/records.test.ts (random bytes, truncated and flipped
 * batches) with:
 * - WAL records under every mutation at once (cut, flip, insert): the scan returns a prefix;
 * - segment files on disk, read by the segment reader (`readSegmentFile`, `catJournalDir`);
 * - Raft entry payloads of the journal state machine (`decodeCommand`);
 * - snapshot chunks on the InstallSnapshot path (protobuf decode, then the receiver over a
 *   real snapshot store): refused with a gRPC status, nothing written outside the store,
 *   nothing published unless the whole file set is exactly right.
 */
import test from 'ava';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import type { StatusObject } from '@grpc/grpc-js';
import { makeMessage, type Entry, type Message } from '../../raft/core/types.ts';
import { encodeEntries, scanSegment } from '../../raft/storage/wal-record.ts';
import { openSnapshotStore } from '../../raft/storage/snapshot-store.ts';
import { encodeMessage, encodeSnapshotFiles, snapshotHeaderCrc32c, type SnapshotFileInfo } from '../../raft/transport/codec.ts';
import { raftTransportService } from '../../raft/transport/proto.ts';
import { SnapshotReceiver } from '../../raft/transport/snapshot-receiver.ts';
import { newTransportStats } from '../../raft/transport/stats.ts';
import { frameRecords } from '../../journalnode/protocol/records.ts';
import { CorruptRecordsError, InvalidArgumentError } from '../../journalnode/protocol/errors.ts';
import { catJournalDir, finalizedFileName, inProgressFileName, JournalDirectoryError, readSegmentFile } from '../../journalnode/segments.ts';
import { decodeCommand, encodeCommand, type Command } from '../../journalnode/journal-commands.ts';

/** A mutation of a byte string: cut it, flip one byte, insert junk; each optional. */
interface Mutation {
  readonly cutAt: number | null;
  readonly flipAt: number | null;
  readonly flipMask: number;
  readonly insertAt: number | null;
  readonly insert: Uint8Array;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  cutAt: fc.option(fc.nat(), { nil: null }),
  flipAt: fc.option(fc.nat(), { nil: null }),
  flipMask: fc.integer({ min: 1, max: 255 }),
  insertAt: fc.option(fc.nat(), { nil: null }),
  insert: fc.uint8Array({ minLength: 1, maxLength: 40 }),
});

function mutate(original: Buffer, m: Mutation): Buffer {
  let out = Buffer.from(original);
  if (m.flipAt !== null && out.length > 0) out[m.flipAt % out.length] = out[m.flipAt % out.length]! ^ m.flipMask;
  if (m.insertAt !== null) {
    const at = m.insertAt % (out.length + 1);
    out = Buffer.concat([out.subarray(0, at), Buffer.from(m.insert), out.subarray(at)]);
  }
  if (m.cutAt !== null) out = out.subarray(0, m.cutAt % (out.length + 1));
  return out;
}

/** Length of the common prefix of two buffers. */
function commonPrefix(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

const walEntries = fc.integer({ min: 1, max: 12 }).chain((count) =>
  fc.tuple(
    ...Array.from({ length: count }, (_, i) =>
      fc.record({
        index: fc.constant(i + 1),
        term: fc.integer({ min: 1, max: 1_000_000 }),
        type: fc.constantFrom('normal' as const, 'confChange' as const),
        data: fc.uint8Array({ maxLength: 120 }),
      }),
    ),
  ),
);

test('bad input - WAL records: under any cut, flip or insertion the scan returns only records that were written, in order', (t) => {
  fc.assert(
    fc.property(walEntries, mutation, (entries: Entry[], m) => {
      const original = encodeEntries(entries);
      const damaged = mutate(original, m);
      const scan = scanSegment(damaged);
      assert.ok(scan.validBytes >= 0 && scan.validBytes <= damaged.length);
      // Records accepted lie in the undamaged prefix: byte for byte what was written.
      const intact = commonPrefix(original, damaged);
      const accepted = scan.records.filter((r) => r.entry !== null);
      assert.ok(accepted.length <= entries.length);
      accepted.forEach((record, i) => {
        assert.equal(record.index, entries[i]!.index);
        assert.equal(record.entry!.term, entries[i]!.term);
        assert.deepEqual(Buffer.from(record.entry!.data), Buffer.from(entries[i]!.data));
      });
      // Nothing past the first damaged byte is accepted as a record.
      const acceptedBytes = accepted.reduce((sum, r) => sum + encodeEntries([r.entry!]).length, 0);
      assert.ok(acceptedBytes <= intact, `accepted ${acceptedBytes} bytes, only ${intact} are intact`);
    }),
    { numRuns: 400, seed: 8080 },
  );
  t.pass();
});

const editBatch = fc.record({
  first: fc.integer({ min: 1, max: 2 ** 40 }),
  records: fc.array(fc.uint8Array({ maxLength: 60 }), { minLength: 1, maxLength: 10 }),
});

test('bad input - segment files: a damaged file is a CorruptRecordsError (or a torn tail of an in-progress one), never another error, and what is read was written', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'bad-segments-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  let run = 0;
  await fc.assert(
    fc.asyncProperty(editBatch, mutation, fc.boolean(), async (batch, m, inProgress) => {
      const dir = join(root, String(run++));
      await mkdir(dir);
      const original = frameRecords(batch.first, batch.records);
      const damaged = mutate(original, m);
      const last = batch.first + batch.records.length - 1;
      const path = join(dir, inProgress ? inProgressFileName(batch.first) : finalizedFileName(batch.first, last));
      await writeFile(path, damaged);
      const check = (records: readonly { txid: number; data: Uint8Array }[]): void => {
        assert.ok(records.length <= batch.records.length);
        records.forEach((r, i) => {
          assert.equal(r.txid, batch.first + i);
          assert.deepEqual(Buffer.from(r.data), Buffer.from(batch.records[i]!));
        });
      };
      try {
        const content = await readSegmentFile(path);
        check(content.records);
        if (!inProgress) assert.equal(content.records.length, batch.records.length);
      } catch (error) {
        assert.ok(error instanceof CorruptRecordsError, `readSegmentFile threw ${String(error)}`);
      }
      const seen: { txid: number; data: Uint8Array }[] = [];
      try {
        for await (const record of catJournalDir(dir)) seen.push({ txid: record.txid, data: Buffer.from(record.data) });
        check(seen);
      } catch (error) {
        assert.ok(error instanceof CorruptRecordsError || error instanceof JournalDirectoryError, `catJournalDir threw ${String(error)}`);
        check(seen);
      }
      await rm(dir, { recursive: true, force: true });
    }),
    { numRuns: 150, seed: 4242 },
  );
  t.pass();
});

const namespace = { nsId: 'ns', clusterId: 'c', blockPoolId: 'b', layoutVersion: 1 };
const anyCommand: fc.Arbitrary<Command> = fc.oneof(
  fc.constant<Command>({ type: 'noop' }),
  fc.record({ journalId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), force: fc.boolean() }).map((c): Command => ({ type: 'format', namespace, ...c })),
  fc.record({ journalId: fc.constant('j1'), epoch: fc.maxSafeNat(), txId: fc.maxSafeNat() }).map((c): Command => ({ type: 'startSegment', ...c })),
  fc.record({ epoch: fc.maxSafeNat(), first: fc.integer({ min: 1, max: 2 ** 50 }), records: fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 5 }) }).map((c): Command => {
    const framed = frameRecords(c.first, c.records);
    return { type: 'journal', journalId: 'j1', epoch: c.epoch, firstTxId: c.first, count: c.records.length, records: framed, crc32c: crc32c(framed) };
  }),
  fc.record({ leaseName: fc.constant('leader'), candidate: fc.string({ maxLength: 20 }), ttlMs: fc.nat(), nowMs: fc.maxSafeNat() }).map((c): Command => ({ type: 'acquireLease', journalId: 'j1', ...c })),
);

test('bad input - journal commands: random or damaged Raft entry payloads decode or fail with InvalidArgumentError only', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        decodeCommand(bytes);
      } catch (error) {
        assert.ok(error instanceof InvalidArgumentError, `random bytes: ${String(error)}`);
      }
    }),
    { numRuns: 1000, seed: 99 },
  );
  fc.assert(
    fc.property(anyCommand, mutation, (command, m) => {
      const encoded = encodeCommand(command);
      const decoded = decodeCommand(encoded);
      assert.equal(decoded.type, command.type);
      try {
        const again = decodeCommand(mutate(encoded, m));
        // A mutation may still decode (a changed number, a shorter record run): the state
        // machine checks the meaning; the shape must be a command.
        assert.ok(typeof again.type === 'string');
      } catch (error) {
        assert.ok(error instanceof InvalidArgumentError, `mutated command: ${String(error)}`);
      }
    }),
    { numRuns: 500, seed: 100 },
  );
  t.pass();
});

// --- Snapshot chunks -------------------------------------------------------------------------

const receiverId = 'n1';
const groupId = 'g';

/** A file of a snapshot to send: name, real bytes, and the manifest entry claimed for it. */
interface FilePlan {
  readonly name: string;
  readonly data: Buffer;
  readonly claimedBytes: number;
  readonly claimedCrc: number;
}

/** Names the snapshot store keeps for itself. */
const reservedNames = new Set(['meta.json', 'manifest.json']);

const fileName = fc.oneof(
  { arbitrary: fc.constantFrom('journal-state.json', 'segments/a', 'journal/edits_1', 'x'), weight: 6 },
  // Hostile names: must be refused, never written outside the store.
  { arbitrary: fc.constantFrom('../escape', '/abs/path', 'a/../../b', '', '.', 'a//b', 'seg\u0000', 'a/./b', 'meta.json', 'manifest.json'), weight: 1 },
);

const filePlan: fc.Arbitrary<FilePlan> = fc
  .record({ name: fileName, data: fc.uint8Array({ maxLength: 3000 }), lie: fc.constantFrom('none', 'none', 'none', 'none', 'none', 'bytes', 'crc'), delta: fc.integer({ min: 1, max: 5000 }), crc: fc.nat(0xffff_ffff) })
  .map(({ name, data, lie, delta, crc }) => {
    const buffer = Buffer.from(data);
    return {
      name,
      data: buffer,
      claimedBytes: lie === 'bytes' ? buffer.length + delta : buffer.length,
      claimedCrc: lie === 'crc' ? crc : crc32c(buffer),
    };
  });

/** How the chunks are sent: chunk size, and optional damage to the stream. */
interface StreamPlan {
  readonly files: FilePlan[];
  readonly chunkBytes: number;
  readonly to: string;
  readonly group: string;
  readonly term: number;
  readonly damage: 'none' | 'skip-chunk' | 'bad-offset' | 'unknown-name' | 'no-header' | 'extra-chunk' | 'header-twice';
  readonly byteMutation: Mutation | null;
}

const streamPlan: fc.Arbitrary<StreamPlan> = fc.record({
  files: fc.uniqueArray(filePlan, { minLength: 1, maxLength: 3, selector: (f) => f.name }),
  chunkBytes: fc.integer({ min: 1, max: 1500 }),
  to: fc.constantFrom(receiverId, receiverId, receiverId, 'n2'),
  group: fc.constantFrom(groupId, groupId, groupId, 'other'),
  term: fc.integer({ min: 1, max: 5 }),
  damage: fc.constantFrom('none', 'none', 'none', 'none', 'skip-chunk', 'bad-offset', 'unknown-name', 'no-header', 'extra-chunk', 'header-twice'),
  byteMutation: fc.option(mutation, { nil: null, freq: 3 }),
});

type WireItem = ReturnType<typeof raftTransportService.InstallSnapshot.requestDeserialize>;

/** Serialize then deserialize an InstallSnapshot item, as grpc-js hands it to the handler. */
function throughWire(item: object, m: Mutation | null): WireItem | undefined {
  const bytes = raftTransportService.InstallSnapshot.requestSerialize(item as never);
  const sent = m === null ? bytes : mutate(bytes, m);
  try {
    return raftTransportService.InstallSnapshot.requestDeserialize(sent);
  } catch {
    return undefined; // grpc-js answers a message it cannot decode with INTERNAL itself
  }
}

/**
 * The wire items of `plan` (snapshot index `index`, unique per case so no two cases collide in
 * the store) and whether the stream, bytes on the wire aside, is a correct one.
 */
function buildStream(plan: StreamPlan, index: number): { items: WireItem[]; validShape: boolean } {
  const message: Message = makeMessage({
    groupId: plan.group,
    type: 'MsgSnap',
    from: 'leader',
    to: plan.to,
    term: plan.term,
    snapshot: { meta: { index, term: plan.term, confState: { voters: [receiverId, 'leader'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array() },
  });
  const files: SnapshotFileInfo[] = plan.files.map((f) => ({ name: f.name, bytes: f.claimedBytes, crc32c: f.claimedCrc }));
  const raw: object[] = [];
  const header = { header: { message: encodeMessage(message), files: encodeSnapshotFiles(files), headerCrc32c: snapshotHeaderCrc32c(message, files) } };
  if (plan.damage !== 'no-header') raw.push(header);
  plan.files.forEach((f, k) => {
    for (let offset = 0; offset < f.data.length; offset += plan.chunkBytes) {
      const data = f.data.subarray(offset, offset + plan.chunkBytes);
      const first = k === 0 && offset === 0;
      if (first && plan.damage === 'skip-chunk') continue;
      raw.push({ chunk: { name: first && plan.damage === 'unknown-name' ? 'not-in-manifest' : f.name, offset: first && plan.damage === 'bad-offset' ? offset + 1 : offset, data } });
    }
  });
  if (plan.damage === 'extra-chunk') raw.push({ chunk: { name: plan.files[0]!.name, offset: plan.files[0]!.data.length, data: Buffer.from('x') } });
  if (plan.damage === 'header-twice') raw.push(header);
  const names = new Set(plan.files.map((f) => f.name));
  const validShape =
    plan.damage === 'none' &&
    plan.to === receiverId &&
    plan.group === groupId &&
    names.size === plan.files.length &&
    plan.files.every((f) => f.claimedBytes === f.data.length && f.claimedCrc === crc32c(f.data) && /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(f.name) && !f.name.split('/').some((p) => p === '.' || p === '..') && !reservedNames.has(f.name));
  // Mutate one item's bytes on the wire (the header or a chunk), chosen by the mutation itself.
  const items: WireItem[] = [];
  raw.forEach((item, i) => {
    const m = plan.byteMutation !== null && (plan.byteMutation.flipAt ?? 0) % raw.length === i ? plan.byteMutation : null;
    const decoded = throughWire(item, m);
    if (decoded !== undefined) items.push(decoded);
  });
  return { items, validShape };
}

/** Every path under `dir`, relative. */
async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await listTree(join(dir, entry.name), rel)));
  }
  return out;
}

test('bad input - snapshot chunks: hostile InstallSnapshot streams get a gRPC error, write nothing outside the store and publish nothing', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'bad-snapshot-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const storeDir = join(root, 'store');
  await mkdir(storeDir);
  const store = await openSnapshotStore(storeDir);
  let published = 0;
  let refused = 0;
  let index = 0;
  await fc.assert(
    fc.asyncProperty(streamPlan, async (plan) => {
      index += 1;
      const { items, validShape } = buildStream(plan, index);
      const delivered: Message[] = [];
      const receiver = new SnapshotReceiver({
        id: receiverId,
        groupId,
        sink: store,
        idleTimeoutMs: 5_000,
        writesInflightMax: 4,
        stats: newTransportStats(),
        deliver: (messages) => delivered.push(...messages),
      });
      const call = {
        destroyed: false,
        destroy(): void {
          this.destroyed = true;
        },
        async *[Symbol.asyncIterator](): AsyncGenerator<WireItem> {
          for (const item of items) yield item;
        },
      };
      const before = (await store.latest())?.meta.index;
      const answer = await new Promise<{ error: Partial<StatusObject> | null }>((resolve) => {
        receiver.handleInstall(call as never, (error) => resolve({ error: error as Partial<StatusObject> | null }));
      });
      await receiver.close();
      // Nothing outside the store, ever.
      assert.deepEqual(await readdir(root), ['store']);
      for (const path of await listTree(storeDir)) assert.ok(!path.includes('..'), `stored path ${path}`);
      if (answer.error === null) {
        // Accepted: only a file set that was exactly right, delivered once, published.
        assert.ok(validShape, `an accepted stream must be a correct one (damage ${plan.damage})`);
        assert.equal(delivered.length, 1);
        assert.equal(delivered[0]!.type, 'MsgSnap');
        assert.equal((await store.latest())?.meta.index, index, 'the accepted snapshot is published');
        published += 1;
      } else {
        refused += 1;
        assert.equal(delivered.length, 0, 'nothing delivered after an error');
        assert.equal(typeof answer.error.code, 'number');
        assert.ok(typeof answer.error.details === 'string' && answer.error.details.length > 0, 'the error says why');
        assert.ok(!validShape || plan.byteMutation !== null, `a correct stream was refused: ${answer.error.code} ${answer.error.details}`);
        assert.equal((await store.latest())?.meta.index, before, 'a refused stream publishes nothing');
      }
    }),
    { numRuns: 120, seed: 2024 },
  );
  t.true(refused > 0, `some streams were refused (${refused})`);
  t.true(published > 0, `some correct streams were accepted (${published})`);
  t.log(`snapshot streams: ${published} accepted, ${refused} refused`);
});
