/**
 * Reuse of compacted WAL segment files: later segments are written over free files, whose old
 * records must never come back as entries (their CRCs carry another salt), whether the WAL was
 * closed, abandoned as by a kill, or cut by a power failure.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Entry } from '../../raft/core/types.ts';
import {
  encodeEntries,
  legacySegmentFileName,
  openWal,
  resealRecords,
  scanSegment,
  walRecordSalt,
  encodeEntriesForWrite,
  ZERO_COPY_PAYLOAD_BYTES_MIN,
  WAL_RECYCLE_FILES_MAX,
} from '../../raft/storage/index.ts';
import { walRecycleFilesFor } from '../../raft/node.ts';
import { nodeFileSystem, type FileSystem } from '../../raft/storage/fs.ts';
import { alignUpToPage, PAGE_BYTES } from '../../raft/storage/page-cache.ts';
import { entries, entry, faultyDir, plain, tempDir } from './support.ts';

async function names(dir: string): Promise<{ segments: string[]; free: string[] }> {
  const all = (await readdir(dir)).sort();
  return { segments: all.filter((n) => n.startsWith('wal-')), free: all.filter((n) => n.startsWith('free-')) };
}

test('wal reuse - compacted segments become free files, and later segments are written over them', async (t) => {
  const dir = await tempDir(t);
  const opened = await openWal(dir, { segmentBytesMax: 4096, recycleFilesMax: 3 });
  const wal = opened.wal;
  for (let i = 1; i <= 100; i++) await wal.append([entry(i, 1, 300)]);
  const before = await names(dir);
  t.true(before.segments.length >= 8, `${before.segments.length} segments`);
  await wal.compact(90);
  const compacted = await names(dir);
  t.is(compacted.free.length, 3, 'at most recycleFilesMax free files; the rest deleted');
  t.is(wal.stats.segmentsReused, 0);
  const freeSizes = await Promise.all(compacted.free.map(async (n) => (await stat(join(dir, n))).size));
  // Smaller entries than before: the new records end well before the old ones did.
  for (let i = 101; i <= 220; i++) await wal.append([entry(i, 2, 100)]);
  t.true(wal.stats.segmentsReused >= 3, `${wal.stats.segmentsReused} segments reused`);
  const after = await names(dir);
  t.is(after.free.length, 0, 'every free file was taken');
  // The segments that were cut when they stopped being the last hold exactly their records.
  for (const name of after.segments.slice(0, -1)) {
    const buf = await readFile(join(dir, name));
    const sequence = Number(/^wal-(\d{16})/.exec(name)![1]);
    const scan = scanSegment(buf, walRecordSalt(sequence));
    t.is(scan.bad, null, `${name} ends with its records`);
    t.is(scan.validBytes, buf.length);
  }
  t.true(Math.max(...freeSizes) > 2000, 'the free files held old records');
  await wal.close();
  const reopened = await openWal(dir, { segmentBytesMax: 4096, recycleFilesMax: 3 });
  t.is(reopened.repair, null, 'a clean close leaves no old bytes after the records');
  const expected: Entry[] = [];
  for (let i = reopened.entries[0]!.index; i <= 100; i++) expected.push(entry(i, 1, 300));
  for (let i = 101; i <= 220; i++) expected.push(entry(i, 2, 100));
  t.true(reopened.entries[0]!.index <= 91, 'entries above the compaction point are kept');
  t.deepEqual(plain(reopened.entries), plain(expected));
  await reopened.wal.close();
});

test('wal reuse - a WAL abandoned in a reused file (a kill) reopens with exactly its entries', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await openWal(dir, { segmentBytesMax: 8192 });
  // Fill segments with entries of term 1, compact them all but the current one.
  for (let i = 1; i <= 60; i++) await wal.append([entry(i, 1, 500)]);
  await wal.compact(59);
  t.true((await names(dir)).free.length > 0);
  // The next segment starts in a free file holding ~8 KiB of records of term 1: write a few small ones.
  await wal.append(entries(61, 61, 1, 8100)); // a segment of its own: the next append rolls again
  await wal.append(entries(62, 64, 3, 10));
  t.is(wal.stats.segmentsReused, 2);
  const current = (await names(dir)).segments.at(-1)!;
  t.true((await stat(join(dir, current))).size > 4000, 'the reused file still holds old bytes past the new records');
  // No close: the process is gone.
  const reopened = await openWal(dir, { segmentBytesMax: 8192 });
  t.deepEqual(
    plain(reopened.entries.filter((e) => e.index >= 60)),
    plain([entry(60, 1, 500), ...entries(61, 61, 1, 8100), ...entries(62, 64, 3, 10)]),
  );
  t.is(reopened.wal.lastIndex, 64);
  t.not(reopened.repair, null, 'the old bytes are dropped as a tail');
  t.is((await stat(join(dir, current))).size, 3 * (25 + 10));
  await reopened.wal.append(entries(65, 66, 3, 10));
  await reopened.wal.close();
  const third = await openWal(dir, { segmentBytesMax: 8192 });
  t.deepEqual(third.entries.map((e) => e.index).filter((i) => i >= 62), [62, 63, 64, 65, 66]);
  await third.wal.close();
  await wal.close(); // the abandoned one's descriptor (its file holds exactly its records by now)
});

test('wal reuse - a power cut while segments roll into free files keeps every acknowledged append', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const { wal } = await openWal(dir, { fs, segmentBytesMax: 2048 });
  for (let i = 1; i <= 40; i++) await wal.append([entry(i, 1, 200)]);
  await wal.compact(38);
  // Acknowledged appends over free files, then one not waited for, then the cut.
  for (let i = 41; i <= 70; i++) await wal.append([entry(i, 2, 150)]);
  t.true(wal.stats.segmentsReused > 0);
  const unacknowledged = wal.append([entry(71, 2, 150)]);
  unacknowledged.catch(() => {});
  await fs.crash();
  const reopened = await openWal(dir, { fs, segmentBytesMax: 2048 });
  const kept = reopened.entries.filter((e) => e.index >= 39);
  const expected = [entry(39, 1, 200), entry(40, 1, 200), ...Array.from({ length: 30 }, (_, i) => entry(41 + i, 2, 150))];
  t.deepEqual(plain(kept.slice(0, expected.length)), plain(expected));
  t.true(kept.length === expected.length || (kept.length === expected.length + 1 && kept.at(-1)!.index === 71));
  await reopened.wal.close();
});

test('wal reuse - a write over a reused file ends on a page boundary, zeros after its records (no read of a partial page)', async (t) => {
  const dir = await tempDir(t);
  // Every writev on a file opened for writing over it (a reused one): its path, position and length.
  const writes: { path: string; position: number; bytes: number }[] = [];
  const fs: FileSystem = {
    ...nodeFileSystem,
    async open(path, flags) {
      const handle = await nodeFileSystem.open(path, flags);
      if (flags !== 'r+') return handle;
      return new Proxy(handle, {
        get(target, key, receiver) {
          if (key !== 'writev') return Reflect.get(target, key, receiver) as unknown;
          return async (buffers: readonly Uint8Array[], position: number) => {
            writes.push({ path: target.path, position, bytes: buffers.reduce((sum, b) => sum + b.byteLength, 0) });
            await target.writev(buffers, position);
          };
        },
      });
    },
  };
  const { wal } = await openWal(dir, { fs, segmentBytesMax: 64 * 1024, recycleFilesMax: 2 });
  for (let i = 1; i <= 40; i++) await wal.append([entry(i, 1, 3000)]);
  await wal.compact(39);
  t.true((await names(dir)).free.length > 0);
  t.is(writes.length, 0, 'nothing written over a file yet');
  // Records of odd sizes: without padding almost every write would end inside a page.
  for (let i = 41; i <= 60; i++) await wal.append([entry(i, 2, 100 + 37 * i)]);
  t.true(wal.stats.segmentsReused >= 1, `${wal.stats.segmentsReused} segments reused`);
  t.true(writes.length >= 5, `${writes.length} writes over reused files`);
  for (const w of writes) t.is((w.position + w.bytes) % PAGE_BYTES, 0, `a write at ${w.position} of ${w.bytes} bytes in ${w.path}`);
  // The bytes between the last record and the page's end are zeros.
  const current = (await names(dir)).segments.at(-1)!;
  t.is(join(dir, current), writes.at(-1)!.path, 'the last segment is a reused file');
  const buf = await readFile(join(dir, current));
  const sequence = Number(/^wal-(\d{16})/.exec(current)![1]);
  const scan = scanSegment(buf, walRecordSalt(sequence));
  t.not(scan.bad, null, 'the records end before the file does');
  t.true(buf.subarray(scan.validBytes, alignUpToPage(scan.validBytes)).every((b) => b === 0));
  // Abandoned there (a kill), it reopens with exactly its entries.
  const reopened = await openWal(dir, { segmentBytesMax: 64 * 1024 });
  t.deepEqual(reopened.entries.map((e) => e.index).filter((i) => i >= 41), Array.from({ length: 20 }, (_, k) => 41 + k));
  t.deepEqual(plain(reopened.entries.filter((e) => e.index === 57)), plain([entry(57, 2, 100 + 37 * 57)]));
  t.not(reopened.repair, null, 'the zeros and the old bytes after them are dropped as a tail');
  await reopened.wal.close();
  await wal.close();
});

test('wal reuse - a segment of the first format (unsalted .log) is read, and reused once compacted', async (t) => {
  const dir = await tempDir(t);
  const old = entries(1, 5, 1, 100);
  await writeFile(join(dir, legacySegmentFileName(1, 1)), encodeEntries(old));
  const opened = await openWal(dir, { segmentBytesMax: 1024 });
  t.is(opened.repair, null);
  t.deepEqual(plain(opened.entries), plain(old));
  for (let i = 6; i <= 30; i++) await opened.wal.append([entry(i, 2, 100)]);
  await opened.wal.compact(20);
  const listed = await names(dir);
  t.false(listed.segments.some((n) => n.endsWith('.log')), 'the first-format segment is compacted away');
  t.true(listed.free.includes('free-0000000000000001.wal'), 'and its file kept for reuse');
  for (let i = 31; i <= 45; i++) await opened.wal.append([entry(i, 2, 100)]);
  t.true(opened.wal.stats.segmentsReused > 0);
  await opened.wal.close();
  const reopened = await openWal(dir, { segmentBytesMax: 1024 });
  t.is(reopened.entries.at(-1)!.index, 45);
  t.deepEqual(plain(reopened.entries.filter((e) => e.index >= 21)), plain(Array.from({ length: 25 }, (_, i) => entry(21 + i, 2, 100))));
  await reopened.wal.close();
});

test('wal reuse - recycleFilesMax 0 deletes compacted segments; extra free files found at open are deleted', async (t) => {
  const dir = await tempDir(t);
  const first = await openWal(dir, { segmentBytesMax: 1024, recycleFilesMax: 0 });
  for (let i = 1; i <= 30; i++) await first.wal.append([entry(i, 1, 100)]);
  await first.wal.compact(25);
  t.deepEqual((await names(dir)).free, []);
  await first.wal.close();
  const second = await openWal(dir, { segmentBytesMax: 1024, recycleFilesMax: 5 });
  for (let i = 31; i <= 60; i++) await second.wal.append([entry(i, 1, 100)]);
  await second.wal.compact(58);
  const free = (await names(dir)).free.length;
  t.true(free >= 3 && free <= 5, `${free} free files`);
  await second.wal.close();
  const third = await openWal(dir, { segmentBytesMax: 1024, recycleFilesMax: 1 });
  t.is((await names(dir)).free.length, 1);
  t.is(third.entries.at(-1)!.index, 60);
  await third.wal.close();
});

test('wal reuse - re-sealing records for another salt equals sealing them with it (small and zero-copy payloads)', (t) => {
  const small = entries(1, 4, 3, 200);
  const large = [entry(5, 3, ZERO_COPY_PAYLOAD_BYTES_MIN + 17), entry(6, 3, 40)];
  for (const list of [small, large, [...small, ...large]]) {
    const a = walRecordSalt(41);
    const b = walRecordSalt(42);
    const encoded = encodeEntriesForWrite(list, a);
    resealRecords(encoded.headers, encoded.recordStarts, a, b);
    const resealed = Buffer.concat(encoded.buffers);
    const direct = Buffer.concat(encodeEntriesForWrite(list, b).buffers);
    t.true(resealed.equals(direct));
    const scan = scanSegment(resealed, b);
    t.is(scan.bad, null);
    t.is(scan.records.length, list.length);
    t.not(scanSegment(resealed, a).bad, null, 'no longer valid under the first salt');
  }
});

test('wal reuse - a Raft node keeps as many free files as one snapshot compacts, at most WAL_RECYCLE_FILES_MAX', (t) => {
  const MiB = 1024 * 1024;
  t.is(walRecycleFilesFor(512 * MiB), 8);
  t.is(walRecycleFilesFor(128 * MiB), 2);
  t.is(walRecycleFilesFor(100 * MiB), 2);
  t.is(walRecycleFilesFor(1024), 1);
  t.is(walRecycleFilesFor(64 * 1024 * MiB), WAL_RECYCLE_FILES_MAX);
});

test('wal reuse - a last segment ending in 32 MiB of random bytes (a reused file) opens with its records and a tail repair', async (t) => {
  const dir = await tempDir(t);
  const sequence = 7;
  const good = encodeEntries(entries(1, 3, 1, 100), walRecordSalt(sequence));
  // Random bytes hold a plausible record length about every few hundred bytes; without the
  // cheap checks before a CRC, the search for a later valid record would CRC most of the tail
  // at each one (hours for this size).
  const noise = randomBytes(32 * 1024 * 1024);
  await writeFile(join(dir, 'wal-0000000000000007-0000000000000001.wal'), Buffer.concat([good, noise]));
  const opened = await openWal(dir);
  t.deepEqual(plain(opened.entries), plain(entries(1, 3, 1, 100)));
  t.is(opened.repair?.offset, good.length);
  t.is(opened.repair?.bytesDropped, noise.length);
  await opened.wal.append(entries(4, 4, 1, 100));
  await opened.wal.close();
  const reopened = await openWal(dir);
  t.is(reopened.repair, null);
  t.is(reopened.entries.at(-1)!.index, 4);
  await reopened.wal.close();
});
