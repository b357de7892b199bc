/** JournalRequest serialized around its records (journal-request.ts), against protobufjs. */
import test from 'ava';
import fc from 'fast-check';
import { crc32c } from '@node-rs/crc32';
import * as protoLoader from '@grpc/proto-loader';
import type * as grpc from '@grpc/grpc-js';
import { frameRecords, journalProtoLoaderOptions, journalProtoPath, parseRecords } from '../../journalnode/protocol/index.ts';
import { FramingBufferPool, frameRecordsForRequest, JOURNAL_REQUEST_HEADROOM_BYTES, serializeJournalRequestInPlace } from '../../journalnode/protocol/journal-request.ts';
import type { JournalRequest } from '../../journalnode/protocol/generated/qjournal/v1/JournalRequest.ts';

/** protobufjs's codec of JournalRequest, loaded on its own (not the wrapped one). */
const method = (protoLoader.loadSync(journalProtoPath, journalProtoLoaderOptions)['qjournal.v1.QJournal'] as Record<string, grpc.MethodDefinition<JournalRequest, unknown>>)['JournalStream']!;
const decode = (bytes: Buffer): Record<string, unknown> => method.requestDeserialize(bytes) as Record<string, unknown>;

const safeUint = fc.oneof(fc.constant(0), fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER }));
const journalId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const records = fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 20 });

test('journal request - serialized in place: what protobufjs decodes, over the framed bytes themselves', (t) => {
  fc.assert(
    fc.property(safeUint, journalId, safeUint, fc.integer({ min: 1, max: 2 ** 40 }), fc.nat(0xffff_ffff), records, (sequence, id, epoch, firstTxId, crc, edits) => {
      const framed = frameRecordsForRequest(firstTxId, edits);
      const before = Buffer.from(framed);
      const request = { sequence, journalId: id, epoch, firstTxId, count: edits.length, records: framed, crc32c: crc };
      const message = serializeJournalRequestInPlace(request);
      if (message === undefined) return false;
      t.is(message.buffer, framed.buffer, 'a view, not a copy');
      t.true(message.byteLength - framed.byteLength <= JOURNAL_REQUEST_HEADROOM_BYTES);
      t.deepEqual(Buffer.from(framed), before, 'the records are left as framed');
      const back = decode(message);
      t.like(back, { sequence, journalId: id, epoch, firstTxId, count: edits.length, crc32c: crc });
      t.deepEqual(Buffer.from(back['records'] as Uint8Array), before);
      t.deepEqual(
        parseRecords(back['records'] as Uint8Array).map((r) => Buffer.from(r.data)),
        edits.map((e) => Buffer.from(e)),
      );
      // A second serialization (a resend with another sequence) is as good.
      t.like(decode(serializeJournalRequestInPlace({ ...request, sequence: sequence + 1 <= Number.MAX_SAFE_INTEGER ? sequence + 1 : 0 })!), { journalId: id, count: edits.length });
      return true;
    }),
    { numRuns: 200 },
  );
});

test('journal request - anything else is left to protobufjs', (t) => {
  const edits = [Buffer.from('one'), Buffer.from('two')];
  const framed = frameRecordsForRequest(5, edits);
  const base = { sequence: 1, journalId: 'j', epoch: 2, firstTxId: 5, count: 2, records: framed, crc32c: crc32c(framed) };
  t.truthy(serializeJournalRequestInPlace(base));
  t.is(serializeJournalRequestInPlace({ ...base, records: frameRecords(5, edits) }), undefined, 'records without the headroom');
  t.is(serializeJournalRequestInPlace({ ...base, records: Buffer.from(framed) }), undefined, 'a copy of them');
  t.is(serializeJournalRequestInPlace({ ...base, sequence: 2 ** 53 }), undefined, 'not a safe integer');
  t.is(serializeJournalRequestInPlace({ ...base, epoch: -1 }), undefined, 'negative');
  t.is(serializeJournalRequestInPlace({ ...base, epoch: '2' }), undefined, 'a string');
  t.is(serializeJournalRequestInPlace({ ...base, journalId: 'é' }), undefined, 'not ASCII');
  t.is(serializeJournalRequestInPlace({ ...base, journalId: 'x'.repeat(65) }), undefined, 'too long for the headroom');
});

test('journal request - framed into reused memory full of old bytes: what protobufjs decodes is the new request', (t) => {
  const big = fc.array(fc.uint8Array({ minLength: 1, maxLength: 40_000 }), { minLength: 2, maxLength: 6 });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 40 }), big, big, (firstTxId, oldEdits, newEdits) => {
      const pool = new FramingBufferPool(2);
      const old = frameRecordsForRequest(firstTxId, oldEdits.map((e) => e.fill(0xee)));
      const oldRequest = { sequence: 1, journalId: 'j1', epoch: 9, firstTxId, count: oldEdits.length, records: old, crc32c: crc32c(old) };
      serializeJournalRequestInPlace(oldRequest);
      pool.give(old);
      const framed = frameRecordsForRequest(firstTxId + 100, newEdits, pool.reuse);
      // (Small buffers share Node's allocation pool, so equal ArrayBuffers alone prove nothing.)
      const reused = pool.reused === 1;
      t.is(reused, old.buffer.byteLength >= FramingBufferPool.minBytes && old.buffer.byteLength >= framed.byteLength + JOURNAL_REQUEST_HEADROOM_BYTES);
      if (reused) t.is(framed.buffer, old.buffer);
      const request = { sequence: 2, journalId: 'j1', epoch: 10, firstTxId: firstTxId + 100, count: newEdits.length, records: framed, crc32c: crc32c(framed) };
      const back = decode(serializeJournalRequestInPlace(request)!);
      t.like(back, { sequence: 2, journalId: 'j1', epoch: 10, firstTxId: firstTxId + 100, count: newEdits.length, crc32c: crc32c(frameRecords(firstTxId + 100, newEdits)) });
      t.deepEqual(
        parseRecords(back['records'] as Uint8Array).map((r) => Buffer.from(r.data)),
        newEdits.map((e) => Buffer.from(e)),
      );
    }),
    { numRuns: 60 },
  );
});

test('journal request - the framing pool keeps whole allocations only, up to its limit, the largest ones', (t) => {
  const framedOf = (bytes: number): Buffer => frameRecordsForRequest(1, [Buffer.alloc(bytes - 16 - JOURNAL_REQUEST_HEADROOM_BYTES)]);
  const pool = new FramingBufferPool(2);
  t.is(pool.take(10), undefined, 'empty');
  pool.give(framedOf(1000));
  t.is(pool.size, 0, 'small buffers may share Node\'s pool: never kept');
  const a = framedOf(100_000);
  pool.give(a.subarray(10));
  t.is(pool.size, 0, 'not at the start of its allocation');
  pool.give(a);
  t.throws(() => pool.give(a), { message: /twice/ });
  const b = framedOf(200_000);
  pool.give(b);
  t.is(pool.size, 2);
  const c = framedOf(300_000);
  pool.give(c);
  t.is(pool.size, 2, 'full');
  t.is(pool.take(150_000)?.buffer, b.buffer, 'the smallest that fits: the 100 kB one was replaced by a larger one');
  t.is(pool.take(250_000)?.buffer, c.buffer);
  t.is(pool.take(1), undefined);
  t.is(pool.reused, 2);
  const none = new FramingBufferPool(0);
  none.give(framedOf(100_000));
  t.is(none.size, 0);
  t.throws(() => new FramingBufferPool(-1), { instanceOf: RangeError });
  t.throws(() => frameRecordsForRequest(1, [Buffer.alloc(10)], () => Buffer.alloc(5)), { instanceOf: RangeError });
});
