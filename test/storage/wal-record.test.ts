/** The WAL record codec, fuzzed: random bytes never crash the reader. */
import test from 'ava';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtemp, mkdir, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../../raft/core/types.ts';
import {
  RECORD_HEADER_BYTES,
  WalCorruptError,
  encodeEntries,
  encodeReset,
  openWal,
  scanSegment,
  segmentFileName,
  walRecordSalt,
} from '../../raft/storage/index.ts';
import { plain } from './support.ts';
import { crc32c } from '@node-rs/crc32';
import { knownEntryDataCrc32c, rememberEntryDataCrc32c } from '../../raft/crc32c.ts';
import { encodeEntriesForWrite, ZERO_COPY_PAYLOAD_BYTES_MIN } from '../../raft/storage/wal.ts';

const entryArbitrary = (index: number): fc.Arbitrary<Entry> =>
  fc.record({
    index: fc.constant(index),
    term: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER)),
    type: fc.constantFrom('normal' as const, 'confChange' as const),
    data: fc.uint8Array({ maxLength: 200 }),
  });

const entryList = fc.integer({ min: 1, max: 20 }).chain((count) => fc.tuple(...Array.from({ length: count }, (_, i) => entryArbitrary(i + 1))));

test('wal record - encode then scan gives the entries back', (t) => {
  fc.assert(
    fc.property(entryList, (list) => {
      const buf = Buffer.concat([encodeEntries(list), encodeReset(7)]);
      const scan = scanSegment(buf);
      assert.equal(scan.bad, null);
      assert.equal(scan.validBytes, buf.length);
      const decoded = scan.records.filter((r) => r.entry !== null).map((r) => r.entry!);
      assert.deepEqual(plain(decoded), plain(list));
      const reset = scan.records[scan.records.length - 1]!;
      assert.equal(reset.entry, null);
      assert.equal(reset.index, 7);
    }),
    { numRuns: 200, seed: 7 },
  );
  t.pass();
});

test('wal record - random bytes never throw from the scanner', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.option(entryList, { nil: null }), (noise, prefix) => {
      const good = prefix === null ? Buffer.alloc(0) : encodeEntries(prefix);
      const buf = Buffer.concat([good, Buffer.from(noise)]);
      const scan = scanSegment(buf);
      assert.ok(scan.validBytes >= good.length && scan.validBytes <= buf.length);
      assert.equal(scan.bad === null, scan.validBytes === buf.length);
    }),
    { numRuns: 1000, seed: 11 },
  );
  t.pass();
});

test('wal record - a random segment opens as a clean tail truncation or a WalCorruptError', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'qj-wal-fuzz-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  let run = 0;
  const outcomes = { clean: 0, repaired: 0, corrupt: 0 };
  await fc.assert(
    fc.asyncProperty(entryList, fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), async (list, noise, insertAt, flipAt) => {
      const dir = join(base, `run-${run++}`);
      await mkdir(dir);
      const good = encodeEntries(list, walRecordSalt(1));
      // Either garbage appended at the end, or garbage spliced in, or a flipped byte.
      const variant = run % 3;
      let bytes: Buffer;
      if (variant === 0) bytes = Buffer.concat([good, Buffer.from(noise)]);
      else if (variant === 1) {
        const at = insertAt % (good.length + 1);
        bytes = Buffer.concat([good.subarray(0, at), Buffer.from(noise), good.subarray(at)]);
      } else {
        bytes = Buffer.from(good);
        bytes[flipAt % bytes.length] = bytes[flipAt % bytes.length]! ^ 0x5a;
      }
      await writeFile(join(dir, segmentFileName(1, 1)), bytes);
      try {
        const opened = await openWal(dir);
        await opened.wal.close();
        // Whatever survived is a prefix of the original entries.
        const n = opened.entries.length;
        assert.deepEqual(plain(opened.entries), plain(list.slice(0, n)));
        if (opened.repair === null) outcomes.clean++;
        else outcomes.repaired++;
        // After a repair, the file holds exactly the valid prefix (or is gone when empty).
        if (opened.repair !== null) {
          const left = await readdir(dir);
          if (n === 0) assert.deepEqual(left, []);
          else assert.equal(opened.repair.offset, list.slice(0, n).reduce((s, e) => s + RECORD_HEADER_BYTES + e.data.length, 0));
        }
      } catch (e) {
        if (!(e instanceof WalCorruptError)) throw e;
        outcomes.corrupt++;
        assert.ok(e.offset >= 0 && e.offset <= bytes.length);
      }
      await rm(dir, { recursive: true, force: true });
    }),
    { numRuns: 150, seed: 99 },
  );
  t.log(outcomes);
  t.true(outcomes.repaired > 0 && outcomes.corrupt > 0);
});

test('wal record - a flipped byte before the last record is corruption at that record', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'qj-wal-flip-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  let run = 0;
  await fc.assert(
    fc.asyncProperty(entryList.filter((l) => l.length >= 2), fc.nat(), async (list, pick) => {
      const dir = join(base, `run-${run++}`);
      await mkdir(dir);
      const buf = encodeEntries(list, walRecordSalt(1));
      const offsets: number[] = [];
      for (let o = 0, i = 0; i < list.length; i++) {
        offsets.push(o);
        o += RECORD_HEADER_BYTES + list[i]!.data.length;
      }
      const victim = pick % (list.length - 1);
      const recordEnd = offsets[victim + 1]!;
      const at = offsets[victim]! + ((pick >>> 5) % (recordEnd - offsets[victim]!));
      buf[at] = buf[at]! ^ 0x01;
      await writeFile(join(dir, segmentFileName(1, 1)), buf);
      await assert.rejects(openWal(dir), (e: unknown) => e instanceof WalCorruptError && e.offset === offsets[victim]);
      await rm(dir, { recursive: true, force: true });
    }),
    { numRuns: 100, seed: 5 },
  );
  t.pass();
});

test('wal record - a large entry is written with the CRC its data buffer is known by, combined with the header', (t) => {
  const data = Buffer.alloc(ZERO_COPY_PAYLOAD_BYTES_MIN + 11, 7);
  const entries: Entry[] = [
    { index: 1, term: 2, type: 'normal', data },
    { index: 2, term: 2, type: 'normal', data: Buffer.from('small') },
  ];
  const write = (list: Entry[]): Buffer => Buffer.concat(encodeEntriesForWrite(list).buffers);
  // Nothing remembered yet: the WAL computes the data's CRC (and remembers it for the links).
  const fresh = write(entries);
  t.is(scanSegment(fresh).bad, null);
  t.is(knownEntryDataCrc32c(data), crc32c(data));
  t.deepEqual(fresh, encodeEntries(entries), 'the same bytes as the copying encoder');
  // A remembered CRC is used as is, without a pass over the data: a wrong one makes a bad record.
  const other = Buffer.from(data);
  rememberEntryDataCrc32c(other, (crc32c(other) ^ 1) >>> 0);
  const scan = scanSegment(write([{ ...entries[0]!, data: other }]));
  t.is(scan.bad?.reason, 'crc32c mismatch');
});
