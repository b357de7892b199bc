/** JournalRequest serialized around its records (journal-request.ts), against protobufjs. */
import test from 'ava';
import fc from 'fast-check';
import { crc32c } from '@node-rs/crc32';
import * as protoLoader from '@grpc/proto-loader';
import type * as grpc from '@grpc/grpc-js';
import { frameRecords, journalProtoLoaderOptions, journalProtoPath, parseRecords } from '../../journalnode/protocol/index.ts';
import { frameRecordsForRequest, JOURNAL_REQUEST_HEADROOM_BYTES, serializeJournalRequestInPlace } from '../../journalnode/protocol/journal-request.ts';
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
