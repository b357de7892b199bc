import test from 'ava';
import { crc32c } from '@node-rs/crc32';
import { link, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  catJournalDir,
  copyFilePrefix,
  finalizedFileName,
  inProgressFileName,
  JournalDirectoryError,
  listSegments,
  parseSegmentFileName,
  readSegmentFile,
  segmentReadChunkBytes,
  streamSegmentRecords,
} from '../../journalnode/segments.ts';
import { SegmentWriter, writeBehindSyncBytes } from '../../journalnode/segment-writer.ts';
import { readSegmentRange, SegmentIndex, segmentIndexIntervalBytes } from '../../journalnode/segment-index.ts';
import { frameRecords } from '../../journalnode/protocol/records.ts';
import { CorruptRecordsError } from '../../journalnode/protocol/errors.ts';
import { recordHeaderBytes } from '../../journalnode/protocol/limits.ts';
import { editsFor, tempDir } from './helpers.ts';
import { residentBytes } from '../support/page-residency.ts';
import { waitFor } from '../support/wait.ts';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

test('segments - file names are zero-padded to 19 digits as in HDFS and parse back', (t) => {
  t.is(inProgressFileName(1), 'edits_inprogress_0000000000000000001');
  t.is(finalizedFileName(1, 100), 'edits_0000000000000000001-0000000000000000100');
  t.deepEqual(parseSegmentFileName('edits_0000000000000000001-0000000000000000100'), { firstTxId: 1, lastTxId: 100, inProgress: false });
  t.deepEqual(parseSegmentFileName('edits_inprogress_0000000000000000101'), { firstTxId: 101, lastTxId: undefined, inProgress: true });
  t.is(parseSegmentFileName('edits_0000000000000000005-0000000000000000004'), undefined);
  t.is(parseSegmentFileName('edits_1-2'), undefined);
  t.is(parseSegmentFileName('journal-state.json'), undefined);
});

test('segments - one writer keeps the order of a burst of appends and reports its length', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, inProgressFileName(1));
  const writer = await SegmentWriter.create(path);
  const batches: Buffer[] = [];
  let txid = 1;
  for (let i = 0; i < 3000; i += 1) {
    const count = 1 + (i % 3);
    batches.push(frameRecords(txid, editsFor(txid, count)));
    txid += count;
  }
  // Appended without awaiting in between: all queued while the first writev runs.
  const appends = batches.map((b) => writer.append(b));
  await Promise.all(appends);
  await writer.flush();
  const expected = Buffer.concat(batches);
  t.is(writer.lengthBytes, expected.byteLength);
  t.true((await readFile(path)).equals(expected));
  await writer.close();
  await t.throwsAsync(writer.append(Buffer.from('x')), { name: 'SegmentWriteError' });
});

test('segments - a writer starts a write-behind fdatasync after every writeBehindSyncBytes written', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, inProgressFileName(1));
  const writer = await SegmentWriter.create(path);
  // Small appends, flushed one by one (the synchronous path), then big ones (the thread pool).
  const small = Buffer.alloc(32 * 1024, 1);
  const rounds = (2 * writeBehindSyncBytes) / small.byteLength + 1;
  for (let i = 0; i < rounds; i += 1) {
    await writer.append(small);
    await writer.flush();
  }
  const afterSmall = writer.writeBehindSyncs;
  t.true(afterSmall >= 1 && afterSmall <= 2, `${afterSmall} syncs after ${rounds * small.byteLength} bytes`);
  // A write-behind starts only while none is in flight: on a loaded machine the last one may
  // still run, and the big appends below would then all be written before it ends.
  await writer.writeBehindSettled();
  const big = Buffer.alloc(writeBehindSyncBytes + 1, 2);
  for (let i = 0; i < 3; i += 1) await writer.append(big);
  await writer.flush();
  t.true(writer.writeBehindSyncs > afterSmall);
  t.true(writer.writeBehindSyncs <= afterSmall + 3);
  await writer.close();
  t.is((await readFile(path)).byteLength, rounds * small.byteLength + 3 * big.byteLength);
});

test('segments - a write-behind sync gives the synced pages back to the kernel, content unchanged', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, inProgressFileName(1));
  const writer = await SegmentWriter.create(path);
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < chunk.length; i += 1) chunk[i] = (i * 7) & 0xff;
  const total = 3 * writeBehindSyncBytes + 100;
  for (let written = 0; written < total; written += chunk.length) {
    await writer.append(chunk.subarray(0, Math.min(chunk.length, total - written)));
  }
  await writer.flush();
  t.true(writer.writeBehindSyncs >= 1);
  // The first write-behind range leaves the cache once its sync and drop ran (in the background).
  await waitFor(async () => (await residentBytes(path, 0, writeBehindSyncBytes)) === 0, { timeoutMs: 10_000, what: 'the synced range to leave the page cache' });
  const crc = writer.crc32c;
  await writer.close();
  const back = await readFile(path);
  t.is(back.byteLength, total);
  t.is(crc32c(back), crc);
});

test('segments - openAt cuts bytes beyond the applied length and refuses a short file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, inProgressFileName(1));
  const framed = frameRecords(1, editsFor(1, 3));
  await writeFile(path, Buffer.concat([framed, Buffer.from('garbage')]));
  const writer = await SegmentWriter.openAt(path, framed.byteLength, crc32c(framed));
  await writer.append(frameRecords(4, editsFor(4, 1)));
  await writer.close();
  t.deepEqual((await readSegmentFile(path)).records.map((r) => r.txid), [1, 2, 3, 4]);
  t.is(writer.crc32c, crc32c(await readFile(path)));
  await t.throwsAsync(SegmentWriter.openAt(path, 10_000, 0), { name: 'SegmentWriteError' });
});

test('segments - the writer keeps the CRC of its bytes: combines the CRCs it is given, passes over appends without one', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, inProgressFileName(1));
  const writer = await SegmentWriter.create(path);
  t.is(writer.crc32c, 0);
  const small = frameRecords(1, editsFor(1, 3));
  const large = frameRecords(4, Array.from({ length: 40 }, () => Buffer.alloc(1024, 7)));
  await writer.append(small);
  await writer.append(large, crc32c(large));
  const last = frameRecords(44, editsFor(44, 1));
  await writer.append(last, crc32c(last));
  await writer.close();
  t.is(writer.crc32c, crc32c(await readFile(path)));
  // A wrong CRC given is believed: the caller's contract (the journal passes checked batch CRCs).
  const other = await SegmentWriter.create(join(dir, inProgressFileName(100)));
  await other.append(large, crc32c(large) ^ 1);
  await other.close();
  t.not(other.crc32c, crc32c(large));
});

test('segments - create makes a new file and never truncates one a snapshot links to', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, inProgressFileName(1));
  const linked = join(dir, 'held-by-a-snapshot');
  const first = await SegmentWriter.create(path);
  await first.append(frameRecords(1, editsFor(1, 3)));
  await first.close();
  const before = await readFile(path);
  await link(path, linked);
  const second = await SegmentWriter.create(path);
  await second.append(frameRecords(1, editsFor(1, 1)));
  await second.close();
  t.deepEqual(await readFile(linked), before);
  t.deepEqual((await readSegmentFile(path)).records.map((r) => r.txid), [1]);
});

test('segments - a bare directory is readable: list, read, cat from any txid, torn tail tolerated', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, finalizedFileName(1, 3)), frameRecords(1, editsFor(1, 3)));
  await writeFile(join(dir, finalizedFileName(4, 5)), frameRecords(4, editsFor(4, 2)));
  const open = frameRecords(6, editsFor(6, 2));
  await writeFile(join(dir, inProgressFileName(6)), Buffer.concat([open, Buffer.from([9, 0, 0])])); // torn tail
  await writeFile(join(dir, 'unrelated.txt'), 'x');
  const segments = await listSegments(dir);
  t.deepEqual(segments.map((s) => [s.firstTxId, s.lastTxId, s.inProgress]), [[1, 3, false], [4, 5, false], [6, undefined, true]]);
  const content = await readSegmentFile(join(dir, inProgressFileName(6)));
  t.deepEqual(content.records.map((r) => r.txid), [6, 7]);
  t.is(content.validBytes, open.byteLength);
  t.true(content.tornTail instanceof CorruptRecordsError);
  let torn = 0;
  const all = await collect(catJournalDir(dir, 1, { onTornTail: () => (torn += 1) }));
  t.deepEqual(all.map((r) => r.txid), [1, 2, 3, 4, 5, 6, 7]);
  t.deepEqual(all.map((r) => Buffer.from(r.data).toString()), editsFor(1, 7).map((b) => Buffer.from(b).toString()));
  t.is(torn, 1);
  t.deepEqual((await collect(catJournalDir(dir, 5))).map((r) => r.txid), [5, 6, 7]);
  t.deepEqual((await collect(catJournalDir(dir, 100))).map((r) => r.txid), []);
  t.deepEqual(await listSegments(join(dir, 'missing')), []);
});

test('segments - damage in a finalized segment and gaps between segments are errors', async (t) => {
  const dir = await tempDir(t);
  const first = frameRecords(1, editsFor(1, 3));
  first[first.byteLength - 1]! ^= 0xff;
  await writeFile(join(dir, finalizedFileName(1, 3)), first);
  const error = await t.throwsAsync(readSegmentFile(join(dir, finalizedFileName(1, 3))), { instanceOf: CorruptRecordsError });
  t.is(error?.filePath, join(dir, finalizedFileName(1, 3)));
  t.regex(error?.message ?? '', /checksum mismatch at offset/);
  await writeFile(join(dir, finalizedFileName(1, 3)), frameRecords(1, editsFor(1, 3)));
  await writeFile(join(dir, finalizedFileName(5, 5)), frameRecords(5, editsFor(5, 1)));
  await t.throwsAsync(collect(catJournalDir(dir)), { instanceOf: JournalDirectoryError, message: /expected 4/ });
  // A finalized file whose content does not match its name.
  const other = await tempDir(t);
  await writeFile(join(other, finalizedFileName(1, 4)), frameRecords(1, editsFor(1, 3)));
  await t.throwsAsync(readSegmentFile(join(other, finalizedFileName(1, 4))), { instanceOf: CorruptRecordsError, message: /its name says 4/ });
});

test('segments - streaming crosses chunk boundaries with large and small records', async (t) => {
  const dir = await tempDir(t);
  const records = [Buffer.alloc(1_000_000, 1), ...editsFor(2, 5000), Buffer.alloc(1_000_000, 2), Buffer.alloc(10, 3)];
  const framed = frameRecords(1, records);
  t.true(framed.byteLength > 2 * segmentReadChunkBytes);
  const path = join(dir, finalizedFileName(1, records.length));
  await writeFile(path, framed);
  const read = await collect(streamSegmentRecords(path, { firstTxId: 1 }));
  t.is(read.length, records.length);
  t.true(read.every((r, i) => Buffer.from(r.data).equals(records[i]!)));
  // Copy a prefix and read it as an in-progress segment.
  const copy = join(dir, inProgressFileName(1));
  const cut = framed.byteLength - 5;
  await copyFilePrefix(path, copy, cut, true);
  t.is((await readFile(copy)).byteLength, cut);
  t.is((await readSegmentFile(copy)).records.length, records.length - 1);
});

test('segments - noting an append indexes a record every interval with its txid, and refuses a batch that is not the records it claims', (t) => {
  // 1,000 records of 1 KiB: an entry every 64 KiB, each at a record boundary with that record's txid.
  const framed = frameRecords(500, Array.from({ length: 1000 }, (_, i) => Buffer.alloc(1008 + (i % 3) * 8, i & 0xff)));
  const index = new SegmentIndex(500);
  index.noteAppend(0, framed, 500, 1000);
  t.true(index.entries >= Math.floor(framed.byteLength / segmentIndexIntervalBytes));
  for (let txid = 500; txid < 1500; txid += 1) {
    const { txid: floorTxId, offset } = index.floor(txid);
    t.true(floorTxId <= txid && txid - floorTxId < 70, `floor of ${txid} is ${floorTxId}`);
    t.is(framed.readUInt32LE(offset + 8), floorTxId, `the record at ${offset} has txid ${floorTxId}`);
  }
  t.throws(() => new SegmentIndex(500).noteAppend(0, framed, 500, 999), { message: /noted as 999 records/ });
  t.throws(() => new SegmentIndex(500).noteAppend(0, framed.subarray(0, framed.byteLength - 1), 500, 1000), { message: /records/ });
});

test('segments - the sparse index finds any txid, built by appends or by a scan', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, inProgressFileName(1));
  const writer = await SegmentWriter.create(path);
  const appended = new SegmentIndex(1);
  let txid = 1;
  let offset = 0;
  for (let i = 0; i < 200; i += 1) {
    const records = Array.from({ length: 20 }, (_, k) => Buffer.alloc(100 + ((i + k) % 7) * 50, i));
    const framed = frameRecords(txid, records);
    await writer.append(framed);
    appended.noteAppend(offset, framed, txid, records.length);
    offset += framed.byteLength;
    txid += records.length;
  }
  await writer.close();
  const lastTxId = txid - 1;
  t.true(appended.entries > offset / segmentIndexIntervalBytes / 2);
  const scanned = new SegmentIndex(1);
  const expected = (await readSegmentFile(path)).records;
  for (const index of [appended, scanned]) {
    for (const from of [1, 2, 777, 2048, lastTxId]) {
      const part = await readSegmentRange(path, index, offset, from, { maxCount: 5, maxBytes: 1 << 20, atLeastOne: true });
      t.is(part.count, Math.min(5, lastTxId - from + 1));
      const records = Buffer.concat(part.buffers);
      t.is(records.byteLength, part.bytes);
      const want = expected.slice(from - 1, from - 1 + part.count);
      t.deepEqual(
        [...(function* () {
          let at = 0;
          while (at < records.byteLength) {
            const length = records.readUInt32LE(at);
            yield records.readUInt32LE(at + 8);
            at += recordHeaderBytes + length;
          }
        })()],
        want.map((r) => r.txid),
      );
    }
  }
  // Byte limit: at least one record, then only whole records within the limit.
  const one = await readSegmentRange(path, scanned, offset, 10, { maxCount: 100, maxBytes: 1, atLeastOne: true });
  t.is(one.count, 1);
  const none = await readSegmentRange(path, scanned, offset, 10, { maxCount: 100, maxBytes: 1, atLeastOne: false });
  t.is(none.count, 0);
});
