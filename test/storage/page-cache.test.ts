import test from 'ava';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openWal } from '../../raft/storage/index.ts';
import { alignDownToPage, dropCachedPages, writeBackRange, PAGE_BYTES, PAGE_CACHE_DROP_BYTES_MIN, PAGE_CACHE_DROPS_IN_FLIGHT_MAX, pageCacheDropStats, pageCacheDropUnavailable } from '../../raft/storage/page-cache.ts';
import { residentBytes } from '../support/page-residency.ts';
import { waitFor } from '../support/wait.ts';
import { entries, plain, tempDir } from './support.ts';

const MiB = 1024 * 1024;

test('page cache - posix_fadvise is reachable on this Linux machine', (t) => {
  t.is(process.platform, 'linux');
  t.is(pageCacheDropUnavailable, undefined);
});

test('page cache - a drop empties the synced range it names and nothing else, and never changes content', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'file');
  const data = Buffer.alloc(8 * MiB);
  for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
  const handle = await open(path, 'w+');
  try {
    await handle.write(data, 0, data.length, 0);
    await handle.datasync();
    // Just written: cached (the machine's own reclaim leaves pages this young alone).
    t.true((await residentBytes(path, 0, 8 * MiB)) >= 7 * MiB, 'written pages are cached');
    t.is(await dropCachedPages(handle.fd, 0, 4 * MiB), 0);
    t.is(await residentBytes(path, 0, 4 * MiB), 0, 'the dropped range');
    t.true((await residentBytes(path, 4 * MiB, 4 * MiB)) >= 3 * MiB, 'the rest stays cached');
    // Dirty pages are written back, not lost.
    const tail = Buffer.alloc(MiB, 0xab);
    await handle.write(tail, 0, tail.length, 8 * MiB);
    t.is(await dropCachedPages(handle.fd, 0, 9 * MiB), 0);
  } finally {
    await handle.close();
  }
  const back = await readFile(path);
  t.true(back.subarray(0, 8 * MiB).equals(data));
  t.true(back.subarray(8 * MiB).equals(Buffer.alloc(MiB, 0xab)));
});

test('page cache - writeBackRange cleans dirty pages without an fsync, so a drop can take them; content unchanged', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'file');
  const data = Buffer.alloc(4 * MiB);
  for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i ^ 0x5a5a5a5a, i);
  const handle = await open(path, 'w+');
  try {
    await handle.write(data, 0, data.length, 0); // dirty, never fsynced
    t.is(await writeBackRange(handle.fd, 0, 4 * MiB), 0);
    t.is(await dropCachedPages(handle.fd, 0, 4 * MiB), 0);
    t.is(await residentBytes(path, 0, 4 * MiB), 0, 'written back, then dropped');
    t.throws(() => writeBackRange(handle.fd, -1, 1), { instanceOf: RangeError });
    t.is(await writeBackRange(2 ** 30, 0, PAGE_BYTES), -1); // EBADF
  } finally {
    await handle.close();
  }
  t.true((await readFile(path)).equals(data));
});

test('page cache - bad arguments are refused, a closed descriptor is an errno', async (t) => {
  t.throws(() => dropCachedPages(-1, 0, 1), { instanceOf: RangeError });
  t.throws(() => dropCachedPages(3, -1, 1), { instanceOf: RangeError });
  t.throws(() => dropCachedPages(3, 0, 0), { instanceOf: RangeError });
  t.throws(() => dropCachedPages(3, 0.5, 1), { instanceOf: RangeError });
  t.is(await dropCachedPages(2 ** 30, 0, PAGE_BYTES), 9); // EBADF
  t.is(alignDownToPage(PAGE_BYTES * 3 + 17), PAGE_BYTES * 3);
  t.is(alignDownToPage(PAGE_BYTES), PAGE_BYTES);
});

test.serial('page cache - drops in flight are bounded: the ones past the limit are skipped, none fails', async (t) => {
  const dir = await tempDir(t);
  const handle = await open(join(dir, 'file'), 'w+');
  try {
    await handle.write(Buffer.alloc(MiB, 1), 0, MiB, 0);
    await handle.datasync();
    const before = { ...pageCacheDropStats };
    const burst = 4 * PAGE_CACHE_DROPS_IN_FLIGHT_MAX;
    const codes = await Promise.all(Array.from({ length: burst }, (_, i) => dropCachedPages(handle.fd, (i % 256) * PAGE_BYTES, PAGE_BYTES)));
    t.deepEqual(new Set(codes), new Set([0]));
    const made = pageCacheDropStats.calls - before.calls;
    const skipped = pageCacheDropStats.skipped - before.skipped;
    t.is(made + skipped, burst);
    t.true(made <= PAGE_CACHE_DROPS_IN_FLIGHT_MAX, `${made} drops made at once`);
    t.true(skipped >= burst - PAGE_CACHE_DROPS_IN_FLIGHT_MAX);
    t.is(pageCacheDropStats.failures, before.failures);
    // Once they ended, drops are made again.
    t.is(await dropCachedPages(handle.fd, 0, MiB), 0);
    t.is(pageCacheDropStats.calls, before.calls + made + 1);
  } finally {
    await handle.close();
  }
});

test('page cache - the WAL drops what it synced, keeps its last partial page, and reads everything back', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir);
  const written = [];
  let index = 1;
  // 24 batches of 200 KiB: drops start once 1 MiB is synced, and follow every MiB or so.
  for (let batch = 0; batch < 24; batch += 1) {
    const list = entries(index, index + 1, 1, 100 * 1024);
    index += list.length;
    written.push(...list);
    await wal.append(list);
  }
  const [segment] = (await readdir(dir)).filter((n) => n.startsWith('wal-'));
  const path = join(dir, segment!);
  const { size } = await stat(path);
  t.true(size > 4 * MiB, `segment of ${size} bytes`);
  // The drop runs in the background; what may stay is the undropped remainder (under the
  // minimum) and the last page.
  const keptMax = PAGE_CACHE_DROP_BYTES_MIN + PAGE_BYTES;
  const resident = await waitFor(async () => {
    const bytes = await residentBytes(path, 0, size);
    return bytes <= keptMax ? { bytes } : undefined;
  }, { timeoutMs: 10_000, what: 'the WAL segment to leave the page cache' });
  t.true(resident.bytes <= keptMax);
  t.true((await residentBytes(path, alignDownToPage(size - 1), PAGE_BYTES)) === PAGE_BYTES, 'the last page stays');
  await wal.close();
  const reopened = await openWal(dir);
  t.deepEqual(plain(reopened.entries), plain(written));
  await reopened.wal.close();
});
