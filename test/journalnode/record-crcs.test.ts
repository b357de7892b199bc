/** Record CRCs checked against the batch's CRC by arithmetic (journalnode/record-crcs.ts). */
import test from 'ava';
import fc from 'fast-check';
import { crc32c } from '@node-rs/crc32';
import { recordCrcsMatchBatch } from '../../journalnode/record-crcs.ts';
import { frameRecords } from '../../journalnode/protocol/records.ts';
import { crc32cCombine, crc32cCombineShifted, crc32cShift, crc32cUpdate } from '../../raft/crc32c.ts';

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
});

test('record crcs - a well framed batch matches its CRC; any flipped bit, or another batch CRC, does not', (t) => {
  fc.assert(
    fc.property(edits, fc.nat(), (records, pick) => {
      const framed = frameRecords(1, records);
      t.true(recordCrcsMatchBatch(framed, crc32c(framed)));
      t.false(recordCrcsMatchBatch(framed, (crc32c(framed) ^ 1) >>> 0));
      // A writer that got one record's CRC (or the bytes under it) wrong, and then computed the
      // batch's CRC over what it sent: the batch CRC matches the bytes, the records do not.
      const damaged = Buffer.from(framed);
      const bit = pick % (damaged.length * 8);
      damaged[bit >> 3]! ^= 1 << (bit & 7);
      t.false(recordCrcsMatchBatch(damaged, crc32c(damaged)), `bit ${bit} of ${damaged.length} bytes`);
    }),
    { numRuns: 300 },
  );
});
