/** JournalRequest serialized around its records (journal-request.ts), against protobufjs. */
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { crc32c } from '@node-rs/crc32';
import * as protoLoader from '@grpc/proto-loader';
import type * as grpc from '@grpc/grpc-js';
import { frameRecords, journalProtoLoaderOptions, journalProtoPath, parseRecords } from '../../journalnode/protocol/index.ts';
import {
  FramingBufferPool,
  frameRecordsForRequest,
  IN_PLACE_MESSAGE_BYTES_MIN,
  JOURNAL_REQUEST_HEADROOM_BYTES,
  rememberingMessages,
  roomBeforeRecords,
  serializeJournalRequestInPlace,
} from '../../journalnode/protocol/journal-request.ts';
import { decodeCommand, encodeCheckedJournal, type JournalCommand } from '../../journalnode/journal-commands.ts';
import { entryDataCrc32c } from '../../raft/crc32c.ts';
import type { JournalRequest, JournalRequest__Output } from '../../journalnode/protocol/generated/qjournal/v1/JournalRequest.ts';

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

/** What grpc-js hands a server's deserializer: the message after its 5-byte prefix, in one allocation. */
function received(message: Buffer, extraBytes = 0): Buffer {
  const framed = Buffer.alloc(5 + message.byteLength + extraBytes);
  framed.writeUInt32BE(message.byteLength, 1);
  message.copy(framed, 5);
  return framed.subarray(5, 5 + message.byteLength);
}

const remembering = rememberingMessages((bytes: Buffer) => method.requestDeserialize(bytes) as JournalRequest__Output);

/** Decode `message` as a JournalNode does and build its Raft entry; checks the entry whatever the path. */
function entryOf(t: ExecutionContext, message: Buffer, deserialize: (bytes: Buffer) => JournalRequest__Output, expected: { journalId: string; epoch: number; firstTxId: number; records: Buffer }): Buffer {
  const request = deserialize(message);
  const command: JournalCommand = { type: 'journal', journalId: request.journalId, epoch: request.epoch, firstTxId: request.firstTxId, count: request.count, records: request.records, crc32c: request.crc32c };
  const data = encodeCheckedJournal(command);
  const back = decodeCommand(data) as JournalCommand;
  t.like(back, { type: 'journal', journalId: expected.journalId, epoch: expected.epoch, firstTxId: expected.firstTxId, crc32c: crc32c(expected.records) });
  t.true(Buffer.from(back.records).equals(expected.records));
  // The CRC the WAL and the peer links will use, derived from the request's, is the entry's.
  t.is(entryDataCrc32c(data), crc32c(data));
  return data;
}

test('journal request - a JournalNode builds the Raft entry inside a large received message, uncopied; elsewhere it copies', (t) => {
  const big = Array.from({ length: 80 }, (_, i) => Buffer.alloc(1024, i));
  fc.assert(
    fc.property(journalId, fc.nat(), fc.integer({ min: 1, max: 2 ** 40 }), (id, epoch, firstTxId) => {
      const framed = frameRecordsForRequest(firstTxId, big);
      const expected = { journalId: id, epoch, firstTxId, records: Buffer.from(framed) };
      const request = { sequence: 7, journalId: id, epoch, firstTxId, count: big.length, records: framed, crc32c: crc32c(framed) };
      const message = received(serializeJournalRequestInPlace(request)!);
      t.true(message.byteLength >= IN_PLACE_MESSAGE_BYTES_MIN);
      const data = entryOf(t, message, remembering, expected);
      t.is(data.buffer, message.buffer, 'the entry is the message');
      // Not remembered (another deserializer), a message sharing a larger allocation, one without
      // the headroom field (protobufjs's own serialization): copied, and as good.
      t.not(entryOf(t, received(serializeJournalRequestInPlace(request)!), (bytes) => method.requestDeserialize(bytes) as JournalRequest__Output, expected).buffer, message.buffer);
      const shared = received(serializeJournalRequestInPlace(request)!, 4096);
      t.not(entryOf(t, shared, remembering, expected).buffer, shared.buffer);
      t.is(roomBeforeRecords(remembering(shared).records), 0);
      const plain = received(method.requestSerialize({ ...request, records: Buffer.from(framed) }));
      t.not(entryOf(t, plain, remembering, expected).buffer, plain.buffer);
    }),
    { numRuns: 40 },
  );
  // A small batch is always copied: its message may be a view into a larger read buffer.
  const small = frameRecordsForRequest(3, [Buffer.from('edit')]);
  const message = received(serializeJournalRequestInPlace({ sequence: 1, journalId: 'j', epoch: 1, firstTxId: 3, count: 1, records: small, crc32c: crc32c(small) })!);
  t.is(roomBeforeRecords(remembering(message).records), 0);
  t.not(entryOf(t, message, remembering, { journalId: 'j', epoch: 1, firstTxId: 3, records: Buffer.from(small) }).buffer, message.buffer);
});
