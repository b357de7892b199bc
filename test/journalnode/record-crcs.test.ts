/** Record CRCs checked against the batch's CRC by arithmetic (journalnode/protocol/record-crcs.ts). */
import test from 'ava';
import fc from 'fast-check';
import { crc32c } from '@node-rs/crc32';
import { TABLE_AFTER_SAME_LENGTH, foldRecordCrcs } from '../../journalnode/protocol/record-crcs.ts';
import { frameRecords, validateFramed } from '../../journalnode/protocol/records.ts';
import { recordBytesMax } from '../../journalnode/protocol/limits.ts';
import { crc32cCombine, crc32cCombineByTable, crc32cCombineShifted, crc32cShift, crc32cShiftTable, crc32cUpdate } from '../../raft/crc32c.ts';

const edits = fc.array(
  fc.oneof({ weight: 6, arbitrary: fc.uint8Array({ maxLength: 300 }) }, { weight: 1, arbitrary: fc.integer({ min: 250, max: 70_000 }).map((n) => Buffer.alloc(n, n & 0xff)) }),
  { minLength: 1, maxLength: 12 },
);

test('record crcs - the table helpers agree with the native CRC', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
      const whole = Buffer.concat([a, b]);
      t.is(crc32cUpdate(crc32c(Buffer.from(a)), whole, a.length, whole.length), crc32c(whole));
    }),
  );
  // The shift's tables (lengths below 256, 65,536 and 2^24) and the general path above them,
  // against the native CRC of the concatenation.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.oneof(fc.nat(300), fc.integer({ min: 250, max: 70_000 })), fc.nat(255), (a, length, fill) => {
      const b = Buffer.alloc(length, fill);
      const whole = crc32c(Buffer.concat([a, b]));
      t.is(crc32cCombineShifted(crc32c(Buffer.from(a)), crc32c(b), crc32cShift(length)), whole);
      t.is(crc32cCombine(crc32c(Buffer.from(a)), crc32c(b), length), whole);
    }),
    { numRuns: 200 },
  );
  const huge = Buffer.alloc(0x100_0000 + 3, 7);
  t.is(crc32cCombine(crc32c(Buffer.from('head')), crc32c(huge), huge.length), crc32c(Buffer.concat([Buffer.from('head'), huge])));
  t.throws(() => crc32cShift(-1), { instanceOf: RangeError });
  // A shift's byte tables multiply as the shift does.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 70_000 }), fc.array(fc.tuple(fc.nat(0xffff_ffff), fc.nat(0xffff_ffff)), { minLength: 1, maxLength: 20 }), (length, pairs) => {
      const shift = crc32cShift(length);
      const table = crc32cShiftTable(shift);
      for (const [a, b] of pairs) t.is(crc32cCombineByTable(a, b, table), crc32cCombineShifted(a, b, shift));
    }),
    { numRuns: 100 },
  );
});

/** Records in runs of one length each (runs long enough for the byte tables), as a writer frames them. */
const runsOfLengths = fc.array(fc.tuple(fc.nat(2_000), fc.integer({ min: 1, max: 3 * TABLE_AFTER_SAME_LENGTH })), { minLength: 1, maxLength: 6 }).map((runs) =>
  runs.flatMap(([length, count]) => Array.from({ length: count }, (_, i) => Buffer.alloc(length, (length + i) & 0xff))),
);

test('record crcs - the fold of the record CRCs is the CRC of the framed bytes, by tables or not, from one batch to the next', (t) => {
  // Several batches in one property: the table kept from one batch's length must not serve the
  // next batch's other length.
  fc.assert(
    fc.property(fc.array(fc.oneof(runsOfLengths, edits), { minLength: 1, maxLength: 4 }), (batches) => {
      for (const records of batches) {
        const framed = frameRecords(1, records);
        t.is(foldRecordCrcs(framed), crc32c(framed));
        t.is(foldRecordCrcs(framed, { firstTxId: 1, count: records.length }), crc32c(framed));
      }
    }),
    { numRuns: 300 },
  );
  const framed = frameRecords(1, [Buffer.alloc(10, 1), Buffer.alloc(20, 2)]);
  t.is(foldRecordCrcs(framed.subarray(0, framed.length - 1)), -1, 'a record cut short does not fold');
  t.is(foldRecordCrcs(Buffer.concat([framed, Buffer.alloc(3)])), -1, 'bytes after the last record do not fold');
});

test('record crcs - a well framed batch matches its CRC; any flipped bit, or another batch CRC, does not', (t) => {
  fc.assert(
    fc.property(fc.oneof(edits, runsOfLengths), fc.nat(), (records, pick) => {
      const framed = frameRecords(1, records);
      t.is(foldRecordCrcs(framed), crc32c(framed));
      t.not(foldRecordCrcs(framed), (crc32c(framed) ^ 1) >>> 0);
      // A writer that got one record's CRC (or the bytes under it) wrong, and then computed the
      // batch's CRC over what it sent: the batch CRC matches the bytes, the records do not.
      const damaged = Buffer.from(framed);
      const bit = pick % (damaged.length * 8);
      damaged[bit >> 3]! ^= 1 << (bit & 7);
      t.not(foldRecordCrcs(damaged), crc32c(damaged), `bit ${bit} of ${damaged.length} bytes`);
    }),
    { numRuns: 300 },
  );
});

/** Whether `validateFramed` without checksums accepts the batch. */
function framingAccepted(framed: Buffer, firstTxId: number, count: number): boolean {
  try {
    validateFramed(framed, firstTxId, count, false);
    return true;
  } catch {
    return false;
  }
}

test('record crcs - with the expected records, the fold accepts exactly the batches the framing check accepts', (t) => {
  // The leader's admission folds once and trusts the fold for the framing; apply checks the
  // framing with validateFramed. Both must accept exactly the batches whose headers are intact,
  // damaged in one field or not (and validateFramed's fast walk must agree with its slow one,
  // which names the fault).
  const header = fc.constantFrom(0, 4, 8, 12);
  fc.assert(
    fc.property(fc.oneof(edits, runsOfLengths), fc.integer({ min: 1, max: 2 ** 40 }), fc.nat(), header, fc.nat(0xffff_ffff), fc.integer({ min: -1, max: 1 }), (records, firstTxId, pick, field, value, countDelta) => {
      const framed = frameRecords(firstTxId, records);
      const count = Math.max(1, records.length + countDelta);
      // Overwrite one header field of one record with another value.
      const damaged = Buffer.from(framed);
      let at = 0;
      for (let k = pick % records.length; k > 0; k -= 1) at += 16 + damaged.readUInt32LE(at);
      damaged.writeUInt32LE(value, at + field);
      // What the framing must say, known from the construction: the count right, and the field
      // overwritten the CRC (not framing) or with the value it had.
      const unchanged = field === 4 || framed.readUInt32LE(at + field) === value;
      for (const [batch, framingIntact] of [[framed, true], [damaged, unchanged]] as const) {
        const expected = framingIntact && count === records.length;
        const folded = foldRecordCrcs(batch, { firstTxId, count });
        const why = `field ${field} of record ${pick % records.length} set to ${value}, count ${count}`;
        t.is(folded >= 0, expected, why);
        t.is(framingAccepted(batch, firstTxId, count), expected, why);
        if (folded >= 0) t.is(folded, foldRecordCrcs(batch));
      }
      t.is(foldRecordCrcs(framed, { firstTxId: firstTxId + 1, count: records.length }), -1, 'txids from another first txid');
    }),
    { numRuns: 500 },
  );
  // A record longer than the limit folds without expectations, not with them.
  const big = Buffer.alloc(16 + recordBytesMax + 1, 1);
  big.writeUInt32LE(recordBytesMax + 1, 0);
  big.writeUInt32LE(1, 8);
  big.writeUInt32LE(0, 12);
  big.writeUInt32LE(crc32c(big.subarray(8)), 4);
  t.true(foldRecordCrcs(big) >= 0);
  t.is(foldRecordCrcs(big, { firstTxId: 1, count: 1 }), -1);
  // A txid's high word counts: 2^32 + 1 is not 1.
  const high = frameRecords(2 ** 32 + 1, [Buffer.from('x')]);
  t.true(foldRecordCrcs(high, { firstTxId: 2 ** 32 + 1, count: 1 }) >= 0);
  t.is(foldRecordCrcs(high, { firstTxId: 1, count: 1 }), -1);
  t.false(framingAccepted(high, 1, 1));
});
