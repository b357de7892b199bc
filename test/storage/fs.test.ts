/** The FaultyFileSystem itself: what a crash keeps and drops, and the injected faults. */
import test from 'ava';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SimulatedCrashError, ensureDirectory, nodeFileSystem, writeFileDurable } from '../../raft/storage/index.ts';
import { faultyDir, tempDir } from './support.ts';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

test('faulty fs - a crash drops unsynced appends and keeps synced ones', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const path = join(dir, 'f');
  const h = await fs.open(path, 'wx');
  await h.write(bytes('durable'), 0);
  await h.datasync();
  await fs.fsyncDir(dir);
  await h.write(bytes('-lost'), 7);
  t.is((await readFile(path)).toString(), 'durable-lost', 'reads see unsynced data');
  await fs.crash();
  t.is((await readFile(path)).toString(), 'durable');
  await t.throwsAsync(h.write(bytes('x'), 0), { instanceOf: SimulatedCrashError });
  await h.close();
});

test('faulty fs - a crash restores durable bytes overwritten or truncated without fsync', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const path = join(dir, 'f');
  const h = await fs.open(path, 'wx');
  await h.write(bytes('0123456789'), 0);
  await h.sync();
  await fs.fsyncDir(dir);
  await h.write(bytes('ab'), 2);
  await h.truncate(5);
  t.is((await readFile(path)).toString(), '01ab4');
  await fs.crash();
  t.is((await readFile(path)).toString(), '0123456789');
});

test('faulty fs - an unsynced create vanishes even when its data was synced', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const h = await fs.open(join(dir, 'new'), 'wx');
  await h.write(bytes('data'), 0);
  await h.sync();
  await h.close();
  await fs.mkdir(join(dir, 'sub'));
  await fs.crash();
  t.deepEqual(await readdir(dir), []);
});

test('faulty fs - unsynced renames and unlinks are undone, synced ones stay', async (t) => {
  const { dir, fs } = await faultyDir(t);
  await writeFileDurable(fs, join(dir, 'a'), bytes('old'));
  await writeFileDurable(fs, join(dir, 'b'), bytes('bee'));
  // Not synced: replace a by a new file, remove b.
  const h = await fs.open(join(dir, 'a.new'), 'wx');
  await h.write(bytes('new'), 0);
  await h.sync();
  await h.close();
  await fs.rename(join(dir, 'a.new'), join(dir, 'a'));
  await fs.unlink(join(dir, 'b'));
  t.deepEqual(await readdir(dir), ['a']);
  await fs.crash();
  t.deepEqual(await readdir(dir), ['a', 'b']);
  t.is((await readFile(join(dir, 'a'))).toString(), 'old');
  t.is((await readFile(join(dir, 'b'))).toString(), 'bee');
  // The durable path: the same with a directory fsync.
  await writeFileDurable(fs, join(dir, 'a'), bytes('new'));
  await fs.unlink(join(dir, 'b'));
  await fs.fsyncDir(dir);
  await fs.crash();
  t.deepEqual(await readdir(dir), ['a']);
  t.is((await readFile(join(dir, 'a'))).toString(), 'new');
});

test('faulty fs - removeTree and mkdir are undone by a crash unless the parent was synced', async (t) => {
  const { dir, fs } = await faultyDir(t);
  await ensureDirectory(fs, join(dir, 'x', 'y'));
  await writeFileDurable(fs, join(dir, 'x', 'y', 'f'), bytes('f'));
  await fs.removeTree(join(dir, 'x'));
  await fs.crash();
  t.is((await readFile(join(dir, 'x', 'y', 'f'))).toString(), 'f');
  await fs.removeTree(join(dir, 'x'));
  await fs.fsyncDir(dir);
  await fs.crash();
  t.deepEqual(await readdir(dir), []);
});

test('faulty fs - a torn write lands partly, durably, then everything fails until the reboot', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const path = join(dir, 'f');
  const h = await fs.open(path, 'wx');
  await fs.fsyncDir(dir);
  fs.tearNextWrite(3);
  await t.throwsAsync(h.writev([bytes('ab'), bytes('cdef')], 0), { instanceOf: SimulatedCrashError });
  t.true(fs.isDown);
  await t.throwsAsync(fs.readdir(dir), { instanceOf: SimulatedCrashError });
  await t.throwsAsync(h.sync(), { instanceOf: SimulatedCrashError });
  await fs.crash();
  t.false(fs.isDown);
  t.is((await readFile(path)).toString(), 'abc');
  t.deepEqual(await fs.readdir(dir), ['f']);
});

test('faulty fs - keepUnsyncedBytes keeps part of an unsynced tail', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const path = join(dir, 'f');
  const h = await fs.open(path, 'wx');
  await h.write(bytes('abc'), 0);
  await h.sync();
  await fs.fsyncDir(dir);
  await h.write(bytes('defgh'), 3);
  await fs.crash({ keepUnsyncedBytes: (p, n) => (p === path ? n - 3 : 0) });
  t.is((await readFile(path)).toString(), 'abcde');
});

test('faulty fs - injected fsync failures and ENOSPC', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const h = await fs.open(join(dir, 'f'), 'wx');
  await h.write(bytes('abc'), 0);
  const injected = new Error('boom');
  fs.failNextFsync(injected);
  await t.throwsAsync(h.sync(), { is: injected });
  await h.sync(); // only the next one failed
  await fs.fsyncDir(dir);
  fs.failFsyncsFrom(join(dir, 'f'));
  const e1 = await t.throwsAsync(h.datasync());
  t.is((e1 as NodeJS.ErrnoException).code, 'EIO');
  await fs.fsyncDir(dir); // other paths still work
  fs.failWritesWithEnospc(true);
  const e2 = await t.throwsAsync(h.write(bytes('x'), 3));
  t.is((e2 as NodeJS.ErrnoException).code, 'ENOSPC');
  fs.failWritesWithEnospc(false);
  await h.write(bytes('x'), 3);
  t.is(fs.stats.fsyncs, 1);
  await fs.crash();
  t.is((await readFile(join(dir, 'f'))).toString(), 'abc', 'a failed fsync made nothing durable');
});

test('node fs - writeFileDurable and ensureDirectory on the real file system', async (t) => {
  const dir = await tempDir(t);
  const nested = join(dir, 'a', 'b');
  t.true(await ensureDirectory(nodeFileSystem, nested));
  t.false(await ensureDirectory(nodeFileSystem, nested));
  await writeFileDurable(nodeFileSystem, join(nested, 'x.json'), bytes('{}'));
  t.deepEqual(await nodeFileSystem.readdir(nested), ['x.json']);
  const h = await nodeFileSystem.open(join(nested, 'v'), 'w');
  await h.writev([bytes('ab'), bytes(''), bytes('cd')], 0);
  await h.datasync();
  t.is(await h.size(), 4);
  const buf = Buffer.alloc(10);
  t.is(await h.read(buf, 1), 3);
  await h.close();
  t.is(buf.subarray(0, 3).toString(), 'bcd');
});
