import test from 'ava';
import { open as openRaw, readdir, readFile, stat, truncate as truncateRaw } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FatalStorageError,
  RECORD_HEADER_BYTES,
  SimulatedCrashError,
  WalClosedError,
  WalCorruptError,
  openWal,
} from '../../raft/storage/index.ts';
import { entries, entry, faultyDir, plain, tempDir } from './support.ts';

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('wal-')).sort();
}

test('wal - entries survive a close and reopen', async (t) => {
  const dir = await tempDir(t);
  const first = await openWal(dir);
  t.deepEqual(first.entries, []);
  t.is(first.repair, null);
  t.is(first.wal.lastIndex, 0);
  t.is(first.wal.firstIndex, 1);
  await first.wal.append(entries(1, 3, 1, 100));
  await first.wal.append([entry(4, 2, 0), { ...entry(5, 2, 40), type: 'confChange' }]);
  t.is(first.wal.lastIndex, 5);
  await first.wal.close();

  const second = await openWal(dir);
  t.is(second.repair, null);
  t.deepEqual(plain(second.entries), plain([...entries(1, 3, 1, 100), entry(4, 2, 0), { ...entry(5, 2, 40), type: 'confChange' }]));
  t.is(second.wal.firstIndex, 1);
  t.is(second.wal.lastIndex, 5);
  await second.wal.append(entries(6, 7, 2));
  await second.wal.close();
  const third = await openWal(dir);
  t.deepEqual(third.entries.map((e) => e.index), [1, 2, 3, 4, 5, 6, 7]);
  await third.wal.close();
});

test('wal - segments roll at segmentBytesMax and are named after their first index', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir, { segmentBytesMax: 2048 });
  for (let i = 1; i <= 60; i++) await wal.append([entry(i, 1, 200)]);
  await wal.close();
  const names = await segmentFiles(dir);
  t.true(names.length >= 6, `only ${names.length} segments`);
  for (const name of names) {
    const size = (await stat(join(dir, name))).size;
    t.true(size <= 2048, `${name} has ${size} bytes`);
    const firstIndex = Number(/-(\d{16})\.wal$/.exec(name)![1]);
    const buf = await readFile(join(dir, name));
    t.is(buf.readUInt32LE(17), firstIndex, `first record of ${name}`);
  }
  const reopened = await openWal(dir, { segmentBytesMax: 2048 });
  t.deepEqual(plain(reopened.entries), plain(Array.from({ length: 60 }, (_, i) => entry(i + 1, 1, 200))));
  await reopened.wal.close();
});

test('wal - an append at or below lastIndex replaces the suffix, also across segments and reopen', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir, { segmentBytesMax: 1024 });
  for (let i = 1; i <= 30; i++) await wal.append([entry(i, 1, 100)]);
  await wal.append(entries(25, 27, 2, 10));
  t.is(wal.lastIndex, 27);
  await wal.append(entries(5, 6, 3, 10)); // below several segment boundaries
  t.is(wal.lastIndex, 6);
  await wal.append(entries(7, 8, 3, 10));
  await wal.close();
  const reopened = await openWal(dir, { segmentBytesMax: 1024 });
  t.deepEqual(plain(reopened.entries), plain([...Array.from({ length: 4 }, (_, i) => entry(i + 1, 1, 100)), ...entries(5, 8, 3, 10)]));
  t.is(reopened.wal.lastIndex, 8);
  await reopened.wal.close();
});

test('wal - an append that leaves a gap or is not contiguous is a programmer error', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir);
  await wal.append(entries(1, 2, 1));
  t.throws(() => wal.append([entry(4, 1)]), { message: /gap/ });
  t.throws(() => wal.append([entry(3, 1), entry(5, 1)]), { message: /contiguous/ });
  t.is(wal.lastIndex, 2);
  await wal.close();
});

test('wal - reset discards the log and the next append starts at the given index', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir);
  await wal.append(entries(1, 5, 1));
  await wal.reset(100);
  t.is(wal.firstIndex, 100);
  t.is(wal.lastIndex, 99);
  await wal.append(entries(100, 102, 4));
  await wal.close();
  const reopened = await openWal(dir);
  t.deepEqual(plain(reopened.entries), plain(entries(100, 102, 4)));
  t.is(reopened.wal.firstIndex, 100);
  t.is(reopened.wal.lastIndex, 102);
  await reopened.wal.close();
});

test('wal - compaction deletes whole segments below the index and keeps the one holding index + 1', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir, { segmentBytesMax: 1024 });
  for (let i = 1; i <= 50; i++) await wal.append([entry(i, 1, 100)]);
  const before = await segmentFiles(dir);
  await wal.compact(0);
  t.deepEqual(await segmentFiles(dir), before);
  await wal.compact(30);
  const after = await segmentFiles(dir);
  t.true(after.length < before.length);
  t.true(wal.firstIndex <= 31 && wal.firstIndex > 1, `firstIndex ${wal.firstIndex}`);
  t.is(wal.stats.segmentsDeleted, before.length - after.length);
  await wal.append([entry(51, 2)]);
  await wal.compact(1000); // never deletes the current segment
  t.true((await segmentFiles(dir)).length >= 1);
  await wal.close();
  const reopened = await openWal(dir, { segmentBytesMax: 1024 });
  t.is(reopened.entries[reopened.entries.length - 1]!.index, 51);
  t.is(reopened.wal.lastIndex, 51);
  t.is(reopened.entries[0]!.index, reopened.wal.firstIndex);
  await reopened.wal.close();

  const dir2 = await tempDir(t);
  const second = await openWal(dir2, { segmentBytesMax: 1024 });
  for (let i = 1; i <= 50; i++) await second.wal.append([entry(i, 1, 100)]);
  await second.wal.compact(30);
  await second.wal.close();
  const kept = await openWal(dir2, { segmentBytesMax: 1024 });
  t.true(kept.entries[0]!.index <= 31, 'index + 1 is kept');
  t.deepEqual(kept.entries.map((e) => e.index), Array.from({ length: 51 - kept.entries[0]!.index }, (_, i) => kept.entries[0]!.index + i));
  await kept.wal.close();
});

test('wal - concurrent appends share fsyncs (group commit)', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir);
  const appenders = 200;
  await Promise.all(Array.from({ length: appenders }, (_, i) => wal.append([entry(i + 1, 1, 1024)])));
  t.is(wal.stats.appends, appenders);
  t.true(wal.stats.fsyncs < wal.stats.appends, `${wal.stats.fsyncs} fsyncs for ${wal.stats.appends} appends`);
  t.is(wal.stats.bytesWritten, appenders * (RECORD_HEADER_BYTES + 1024));
  // Appends issued while a write is running join the next batch.
  const firstWave = wal.append([entry(201, 1)]);
  const secondWave = Array.from({ length: 50 }, (_, i) => wal.append([entry(202 + i, 1)]));
  await Promise.all([firstWave, ...secondWave]);
  t.true(wal.stats.fsyncs < wal.stats.appends);
  const barrier = wal.append([]);
  await barrier;
  await wal.close();
  const reopened = await openWal(dir);
  t.is(reopened.entries.length, 251);
  await reopened.wal.close();
});

test('wal - a torn last write is truncated at open and reported', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const { wal } = await openWal(dir, { fs });
  await wal.append(entries(1, 5, 1, 50));
  const goodBytes = 5 * (RECORD_HEADER_BYTES + 50);
  fs.tearNextWrite(30);
  const torn = await t.throwsAsync(wal.append(entries(6, 8, 1, 50)), { instanceOf: FatalStorageError });
  t.true(torn.cause instanceof SimulatedCrashError);
  await t.throwsAsync(wal.append(entries(6, 6, 1)), { is: torn });
  await fs.crash();

  const logged: string[] = [];
  const reopened = await openWal(dir, { fs, log: (msg) => logged.push(msg) });
  t.deepEqual(plain(reopened.entries), plain(entries(1, 5, 1, 50)));
  t.truthy(reopened.repair);
  t.is(reopened.repair!.offset, goodBytes);
  t.is(reopened.repair!.bytesDropped, 30);
  t.regex(reopened.repair!.file, /wal-\d{16}-0000000000000001\.wal$/);
  t.true(logged.some((m) => m.includes('torn')));
  await reopened.wal.append(entries(6, 7, 2));
  await reopened.wal.close();
  const again = await openWal(dir, { fs });
  t.is(again.repair, null);
  t.deepEqual(again.entries.map((e) => [e.index, e.term]), [[1, 1], [2, 1], [3, 1], [4, 1], [5, 1], [6, 2], [7, 2]]);
  await again.wal.close();
});

test('wal - a segment made empty by a torn first write is removed at open', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const { wal } = await openWal(dir, { fs });
  fs.tearNextWrite(10);
  await t.throwsAsync(wal.append(entries(1, 2, 1)), { instanceOf: FatalStorageError });
  await fs.crash();
  const reopened = await openWal(dir, { fs });
  t.deepEqual(reopened.entries, []);
  t.is(reopened.repair?.bytesDropped, 10);
  t.deepEqual(await segmentFiles(dir), []);
  await reopened.wal.append(entries(1, 1, 1));
  await reopened.wal.close();
});

test('wal - corruption before the tail throws naming the file and the offset', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir);
  await wal.append(entries(1, 10, 1, 40));
  await wal.close();
  const [name] = await segmentFiles(dir);
  const recordBytes = RECORD_HEADER_BYTES + 40;
  const h = await openRaw(join(dir, name!), 'r+');
  await h.write(Buffer.from([0xff]), 0, 1, 2 * recordBytes + 30); // inside record 3's payload
  await h.close();
  const error = await t.throwsAsync(openWal(dir), { instanceOf: WalCorruptError });
  t.is(error.file, join(dir, name!));
  t.is(error.offset, 2 * recordBytes);
  t.regex(error.message, /offset 130/);
});

test('wal - damage at the end of a segment that is not the last throws', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir, { segmentBytesMax: 512 });
  for (let i = 1; i <= 20; i++) await wal.append([entry(i, 1, 100)]);
  await wal.close();
  const names = await segmentFiles(dir);
  t.true(names.length >= 3);
  const victim = join(dir, names[0]!);
  const size = (await stat(victim)).size;
  await truncateRaw(victim, size - 5);
  const error = await t.throwsAsync(openWal(dir), { instanceOf: WalCorruptError });
  t.is(error.file, victim);
});

test('wal - a missing middle segment is a gap, reported as corruption', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir, { segmentBytesMax: 512 });
  for (let i = 1; i <= 20; i++) await wal.append([entry(i, 1, 100)]);
  await wal.close();
  const names = await segmentFiles(dir);
  const { unlink } = await import('node:fs/promises');
  await unlink(join(dir, names[1]!));
  const error = await t.throwsAsync(openWal(dir), { instanceOf: WalCorruptError });
  t.is(error.file, join(dir, names[2]!));
  t.regex(error.message, /gap/);
});

test('wal - an fsync failure is fatal: the append and every later call reject', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const { wal } = await openWal(dir, { fs });
  await wal.append(entries(1, 2, 1));
  const cause = new Error('EIO: injected');
  fs.failNextFsync(cause);
  const concurrent = [wal.append(entries(3, 3, 1)), wal.append(entries(4, 4, 1))];
  const errors = await Promise.all(concurrent.map((p) => t.throwsAsync(p, { instanceOf: FatalStorageError })));
  const fatal = errors[0]!;
  t.is(fatal.cause, cause);
  t.is(errors[1], fatal);
  await t.throwsAsync(wal.append(entries(5, 5, 1)), { is: fatal });
  await t.throwsAsync(wal.reset(10), { is: fatal });
  await t.throwsAsync(wal.compact(1), { is: fatal });
  t.is(wal.stats.fsyncs, 1, 'the failed fsync is not retried');
  await wal.close();
  // Nothing after the failed fsync was acknowledged; what is durable is still readable.
  await fs.crash();
  const reopened = await openWal(dir, { fs });
  t.deepEqual(reopened.entries.map((e) => e.index), [1, 2]);
  await reopened.wal.close();
});

test('wal - fsyncs failing for the directory make the segment roll fatal', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const { wal } = await openWal(dir, { fs });
  fs.failFsyncsFrom(dir);
  await t.throwsAsync(wal.append(entries(1, 1, 1)), { instanceOf: FatalStorageError });
  await t.throwsAsync(wal.append(entries(1, 1, 1)), { instanceOf: FatalStorageError });
  await wal.close();
});

test('wal - ENOSPC on write is fatal', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const { wal } = await openWal(dir, { fs });
  await wal.append(entries(1, 1, 1));
  fs.failWritesWithEnospc(true);
  const error = await t.throwsAsync(wal.append(entries(2, 2, 1)), { instanceOf: FatalStorageError });
  t.is((error.cause as NodeJS.ErrnoException).code, 'ENOSPC');
  fs.failWritesWithEnospc(false);
  await t.throwsAsync(wal.append(entries(2, 2, 1)), { is: error });
  await wal.close();
});

test('wal - appends after close reject', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir);
  const pending = wal.append(entries(1, 3, 1));
  await wal.close();
  await pending;
  await t.throwsAsync(wal.append(entries(4, 4, 1)), { instanceOf: WalClosedError });
  const reopened = await openWal(dir);
  t.is(reopened.entries.length, 3);
  await reopened.wal.close();
});

test('wal - a crash keeps acknowledged appends and loses unsynced segment creation', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const { wal } = await openWal(dir, { fs, segmentBytesMax: 300 });
  for (let i = 1; i <= 10; i++) await wal.append([entry(i, 1, 100)]);
  const unacknowledged = wal.append([entry(11, 1, 100)]);
  const settled = unacknowledged.then(
    () => 'resolved',
    () => 'rejected',
  );
  await fs.crash();
  const outcome = await settled;
  const reopened = await openWal(dir, { fs, segmentBytesMax: 300 });
  const indexes = reopened.entries.map((e) => e.index);
  t.deepEqual(indexes.slice(0, 10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  if (outcome === 'resolved') t.is(indexes.length, 11);
  t.true(indexes.length === 10 || indexes.length === 11);
  await reopened.wal.close();
});
