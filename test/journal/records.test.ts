import test from 'ava';
import fc from 'fast-check';
import { crc32c } from '@node-rs/crc32';
import {
  frameRecords,
  parseRecords,
  parseRecordsPrefix,
  readTxId,
  scanRecordHeaders,
  validateFramed,
  writeTxId,
} from '../../journalnode/protocol/records.ts';
import { CorruptRecordsError, InvalidArgumentError } from '../../journalnode/protocol/errors.ts';
import { batchRecordsMax, recordBytesMax, recordHeaderBytes } from '../../journalnode/protocol/limits.ts';

test('records - frame and parse round trip with the documented layout', (t) => {
  const records = [Buffer.from('alpha'), Buffer.alloc(0), Buffer.from([0, 1, 2, 255])];
  const framed = frameRecords(7, records);
  t.is(framed.byteLength, 3 * recordHeaderBytes + 5 + 0 + 4);
  // First record: length 5, crc over txid + data, txid 7 little endian.
  t.is(framed.readUInt32LE(0), 5);
  t.is(framed.readUInt32LE(8), 7);
  t.is(framed.readUInt32LE(12), 0);
  t.is(framed.readUInt32LE(4), crc32c(framed.subarray(8, 21)));
  const parsed = parseRecords(framed);
  t.deepEqual(parsed.map((r) => r.txid), [7, 8, 9]);
  t.deepEqual(parsed.map((r) => Buffer.from(r.data).toString('hex')), records.map((r) => r.toString('hex')));
  t.notThrows(() => validateFramed(framed, 7, 3));
});

test('records - txids up to 2^53 - 1 survive the u64 encoding', (t) => {
  const buf = Buffer.alloc(8);
  for (const txid of [1, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER]) {
    writeTxId(buf, txid, 0);
    t.is(readTxId(buf, 0), txid);
  }
  buf.writeUInt32LE(0x20_0000, 4); // 2^53: not safe
  t.is(readTxId(buf, 0), -1);
});

test('records - frameRecords refuses bad txids, empty batches and oversized records', (t) => {
  t.throws(() => frameRecords(0, [Buffer.from('x')]), { instanceOf: InvalidArgumentError });
  t.throws(() => frameRecords(1, []), { instanceOf: InvalidArgumentError });
  t.throws(() => frameRecords(Number.MAX_SAFE_INTEGER, [Buffer.from('a'), Buffer.from('b')]), { instanceOf: InvalidArgumentError });
  t.throws(() => frameRecords(1, [Buffer.alloc(recordBytesMax + 1)]), { instanceOf: InvalidArgumentError });
  t.notThrows(() => frameRecords(1, [Buffer.alloc(recordBytesMax)]));
});

test('records - damage is reported as CorruptRecordsError with the offset', (t) => {
  const framed = frameRecords(1, [Buffer.from('one'), Buffer.from('two')]);
  const second = recordHeaderBytes + 3;
  const flipped = Buffer.from(framed);
  flipped[second + recordHeaderBytes]! ^= 0x01; // a data byte of the second record
  const error = t.throws(() => parseRecords(flipped), { instanceOf: CorruptRecordsError });
  t.is(error?.offset, second);
  t.regex(error?.message ?? '', /checksum mismatch at offset 19/);
  const truncated = t.throws(() => parseRecords(framed.subarray(0, framed.byteLength - 1)), { instanceOf: CorruptRecordsError });
  t.is(truncated?.offset, second);
  const prefix = parseRecordsPrefix(framed.subarray(0, framed.byteLength - 1));
  t.is(prefix.records.length, 1);
  t.is(prefix.validBytes, second);
  t.true(prefix.truncated);
  t.false(parseRecordsPrefix(flipped).truncated);
  // A gap in txids.
  const gap = Buffer.concat([frameRecords(1, [Buffer.from('a')]), frameRecords(3, [Buffer.from('c')])]);
  t.throws(() => parseRecords(gap), { instanceOf: CorruptRecordsError, message: /txid 3 at offset 17, expected 2/ });
  t.throws(() => parseRecords(framed, { firstTxId: 2 }), { instanceOf: CorruptRecordsError });
});

test('records - validateFramed checks count, txids, trailing bytes and limits', (t) => {
  const framed = frameRecords(10, [Buffer.from('a'), Buffer.from('b')]);
  t.throws(() => validateFramed(framed, 11, 2), { instanceOf: CorruptRecordsError });
  t.throws(() => validateFramed(framed, 10, 3), { instanceOf: InvalidArgumentError }); // too few bytes for 3 headers
  t.throws(() => validateFramed(Buffer.concat([framed, Buffer.alloc(recordHeaderBytes)]), 10, 3), { instanceOf: CorruptRecordsError });
  t.throws(() => validateFramed(framed, 10, 1), { instanceOf: CorruptRecordsError, message: /bytes after the last/ });
  t.throws(() => validateFramed(framed, 10, 0), { instanceOf: InvalidArgumentError });
  t.throws(() => validateFramed(framed, 10, batchRecordsMax + 1), { instanceOf: InvalidArgumentError });
  t.throws(() => validateFramed(framed, 0, 2), { instanceOf: InvalidArgumentError });
  // Without checksums: a damaged data byte passes, damaged framing does not.
  const damagedData = Buffer.from(framed);
  damagedData[recordHeaderBytes]! ^= 1;
  t.throws(() => validateFramed(damagedData, 10, 2), { instanceOf: CorruptRecordsError, message: /checksum mismatch/ });
  t.notThrows(() => validateFramed(damagedData, 10, 2, false));
  t.throws(() => validateFramed(framed, 11, 2, false), { instanceOf: CorruptRecordsError });
  t.throws(() => validateFramed(framed, 10, 1, false), { instanceOf: CorruptRecordsError, message: /bytes after the last/ });
});

test('records - scanRecordHeaders walks whole records and stops at a partial one', (t) => {
  const framed = frameRecords(5, [Buffer.from('aa'), Buffer.from('bbb'), Buffer.from('c')]);
  const seen: number[] = [];
  const stop = scanRecordHeaders(framed.subarray(0, framed.byteLength - 2), 0, (r) => {
    seen.push(r.txid);
    return true;
  });
  t.deepEqual(seen, [5, 6]);
  t.is(stop, 2 * recordHeaderBytes + 5);
  const early = scanRecordHeaders(framed, 0, (r) => r.txid < 6);
  t.is(early, recordHeaderBytes + 2);
});

test('records - fuzz: random bytes never crash parseRecords, only CorruptRecordsError', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        const records = parseRecords(bytes);
        // Anything accepted must re-frame to the same bytes.
        if (records.length > 0) {
          return Buffer.from(frameRecords(records[0]!.txid, records.map((r) => r.data))).equals(Buffer.from(bytes));
        }
        return bytes.byteLength === 0;
      } catch (error) {
        return error instanceof CorruptRecordsError && typeof error.offset === 'number';
      }
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('records - fuzz: truncated or bit-flipped frames are rejected, prefixes stay valid', (t) => {
  const arbitraryBatch = fc.record({
    first: fc.integer({ min: 1, max: 2 ** 52 }),
    records: fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 12 }),
  });
  fc.assert(
    fc.property(arbitraryBatch, fc.nat(), fc.nat(), (batch, cutSeed, flipSeed) => {
      const framed = frameRecords(batch.first, batch.records);
      // Truncation anywhere inside: strict parse fails, prefix parse returns whole records only.
      const cut = cutSeed % framed.byteLength;
      const part = framed.subarray(0, cut);
      const prefix = parseRecordsPrefix(part);
      let boundary = 0;
      for (let i = 0; i < prefix.records.length; i += 1) boundary += recordHeaderBytes + batch.records[i]!.byteLength;
      if (prefix.validBytes !== boundary) return false;
      if (cut !== boundary) {
        try {
          parseRecords(part);
          return false;
        } catch (error) {
          if (!(error instanceof CorruptRecordsError)) return false;
        }
      }
      // One flipped bit anywhere: validateFramed must refuse.
      const flipped = Buffer.from(framed);
      const bit = flipSeed % (flipped.byteLength * 8);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      try {
        validateFramed(flipped, batch.first, batch.records.length);
        return false;
      } catch (error) {
        return error instanceof CorruptRecordsError || error instanceof InvalidArgumentError;
      }
    }),
    { numRuns: 1000 },
  );
  t.pass();
});
