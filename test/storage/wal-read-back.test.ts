import test from 'ava';
import { open as openRaw, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RECORD_HEADER_BYTES, WalCorruptError, ZERO_COPY_PAYLOAD_BYTES_MIN, openWal } from '../../raft/storage/index.ts';
import { WalPositions } from '../../raft/storage/wal-positions.ts';
import { entries, entry, plain, tempDir } from './support.ts';
import type { Entry } from '../../raft/core/index.ts';

test('wal read-back - entries read back equal the live ones: across segments, zero-copy payloads, a truncating append, a reopen', async (t) => {
  const dir = await tempDir(t);
  const opened = await openWal(dir, { segmentBytesMax: 4096 });
  const wal = opened.wal;
  const big = entry(41, 1, ZERO_COPY_PAYLOAD_BYTES_MIN + 100);
  for (let i = 1; i <= 40; i += 4) await wal.append(entries(i, i + 3, 1, 200));
  await wal.append([big]);
  // A new leader's entries from 30 on replace the old ones (the later write wins).
  const replaced = [...entries(30, 44, 2, 150)];
  await wal.append(replaced);
  const live: Entry[] = [...entries(1, 29, 1, 200), ...replaced];
  t.true((await readdir(dir)).filter((n) => n.startsWith('wal-')).length >= 5);
  t.deepEqual(plain(await wal.readEntries(1, 45)), plain(live));
  t.deepEqual(plain(await wal.readEntries(29, 31)), plain(live.slice(28, 30)));
  t.is(wal.stats.entriesReadBack, 44 + 2);
  await t.throwsAsync(wal.readEntries(45, 46), { message: /entry 45 is not held/ });
  await wal.close();

  const reopened = await openWal(dir, { segmentBytesMax: 4096 });
  t.deepEqual(plain(await reopened.wal.readEntries(1, 45)), plain(live));
  // A zero-copy payload written after the reopen, then a reset (a snapshot installed).
  const big2 = entry(45, 3, ZERO_COPY_PAYLOAD_BYTES_MIN + 7);
  await reopened.wal.append([big2, entry(46, 3, 10)]);
  t.deepEqual(plain(await reopened.wal.readEntries(44, 47)), plain([live[43]!, big2, entry(46, 3, 10)]));
  await reopened.wal.reset(100);
  await reopened.wal.append(entries(100, 102, 4));
  t.deepEqual(plain(await reopened.wal.readEntries(100, 103)), plain(entries(100, 102, 4)));
  await t.throwsAsync(reopened.wal.readEntries(46, 47), { message: /not held/ });
  await reopened.wal.close();
});

test('wal read-back - compaction forgets the positions below its index', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir, { segmentBytesMax: 2048, recycleFilesMax: 0 });
  for (let i = 1; i <= 60; i++) await wal.append([entry(i, 1, 200)]);
  await wal.compact(30);
  await t.throwsAsync(wal.readEntries(30, 31), { message: /not held/ });
  t.deepEqual(plain(await wal.readEntries(31, 61)), plain(entries(31, 60, 1, 200)));
  await wal.close();
});

test('wal read-back - a record damaged on disk is reported, never returned', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir);
  await wal.append(entries(1, 5, 1, 100));
  const name = (await readdir(dir)).find((n) => n.startsWith('wal-'))!;
  // Flip one payload byte of entry 3 (records of 25 + 100 bytes, back to back).
  const h = await openRaw(join(dir, name), 'r+');
  const at = 2 * (RECORD_HEADER_BYTES + 100) + RECORD_HEADER_BYTES + 50;
  const b = Buffer.alloc(1);
  await h.read(b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  await h.write(b, 0, 1, at);
  await h.close();
  t.deepEqual(plain(await wal.readEntries(1, 3)), plain(entries(1, 2, 1, 100)));
  const error = await t.throwsAsync(wal.readEntries(1, 6), { instanceOf: WalCorruptError });
  t.regex(error!.message, /entry 3 read back: crc32c mismatch/);
  await wal.close();
});

test('wal positions - the later write of an index wins, resets and drops', (t) => {
  const p = new WalPositions();
  for (let i = 1; i <= 3000; i++) p.put(i, 1, i * 10, 10); // past the initial slots: grows
  t.is(p.size, 3000);
  t.is(p.offset(2500), 25_000);
  p.put(2000, 2, 5, 7); // discards 2000.. first
  t.is(p.size, 1999 + 1);
  t.true(p.has(2000) && !p.has(2001));
  t.deepEqual([p.sequence(2000), p.offset(2000), p.length(2000)], [2, 5, 7]);
  t.throws(() => p.put(2002, 2, 0, 1), { message: /gap after 2000/ });
  p.dropBelow(1500);
  t.is(p.first, 1500);
  t.is(p.offset(1500), 15_000);
  t.false(p.has(1499));
  p.put(10, 3, 0, 1); // below the lowest held one: everything before goes
  t.is(p.first, 10);
  t.is(p.size, 1);
  p.reset(50);
  t.false(p.has(10));
  p.put(50, 4, 0, 2);
  t.true(p.has(50));
  p.dropBelow(60); // past everything held
  t.is(p.size, 0);
  t.is(p.first, 60);
});

test('wal read-back - by bytes: at most bytesMax of records but at least one; compaction and damage reject', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir, { segmentBytesMax: 4096, recycleFilesMax: 0 });
  for (let i = 1; i <= 40; i += 4) await wal.append(entries(i, i + 3, 1, 200));
  t.true(wal.holds(1) && wal.holds(40) && !wal.holds(41));
  t.deepEqual(plain(await wal.readEntries(1, 41, Number.MAX_SAFE_INTEGER)), plain(entries(1, 40, 1, 200)));
  // Records of 200 + 25 bytes: three fit in 700, and a limit below one record still gives one.
  t.deepEqual((await wal.readEntries(5, 41, 3 * (RECORD_HEADER_BYTES + 200) + 25)).map((e) => e.index), [5, 6, 7]);
  t.deepEqual((await wal.readEntries(5, 41, 1)).map((e) => e.index), [5]);
  t.deepEqual((await wal.readEntries(38, 40, Number.MAX_SAFE_INTEGER)).map((e) => e.index), [38, 39]);
  await wal.compact(20);
  t.false(wal.holds(20));
  await t.throwsAsync(wal.readEntries(20, 25, Number.MAX_SAFE_INTEGER), { message: /entry 20 is not held/ });
  // A byte flipped under entry 30: rejected, never returned.
  const seg = (await readdir(dir)).filter((n) => n.startsWith('wal-')).sort();
  let found = false;
  for (const name of seg) {
    const h = await openRaw(join(dir, name), 'r+');
    const all = Buffer.alloc((await h.stat()).size);
    await h.read(all, 0, all.length, 0);
    const at = all.indexOf(Buffer.from(entry(30, 1, 200).data));
    if (at >= 0) {
      await h.write(Buffer.from([all[at + 10]! ^ 0xff]), 0, 1, at + 10);
      found = true;
    }
    await h.close();
    if (found) break;
  }
  t.true(found, 'entry 30 located on disk');
  await t.throwsAsync(wal.readEntries(29, 32, Number.MAX_SAFE_INTEGER), { instanceOf: WalCorruptError, message: /entry 30 read back/ });
  await wal.close();
});
