import test from 'ava';
import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import {
  EpochFencedError,
  InternalError,
  JournalError,
  journalErrorCodes,
  journalErrorFromWire,
  journalErrorToWire,
  journalErrorWire,
  NotLeaderError,
  OutOfOrderError,
} from '../../journalnode/protocol/errors.ts';
import type { EditsUnavailableError } from '../../journalnode/protocol/errors.ts';
import { loadJournalProtocol } from '../../journalnode/protocol/load.ts';
import type { Command } from '../../journalnode/journal-commands.ts';
import { decodeCommand, encodeCheckedJournal, encodeCommand } from '../../journalnode/journal-commands.ts';
import { knownEntryDataCrc32c } from '../../raft/crc32c.ts';
import { frameRecords } from '../../journalnode/protocol/records.ts';
import { crc32c } from '@node-rs/crc32';
import { InvalidArgumentError } from '../../journalnode/protocol/errors.ts';
import { journalCommand, ns } from './helpers.ts';

test('protocol - every error code round-trips through the wire form to its class', (t) => {
  for (const code of journalErrorCodes) {
    const wire = journalErrorWire(code, `boom ${code}`, { promisedEpoch: 3, expectedTxId: 9, leaderHint: 'h:1' });
    const error = journalErrorFromWire(wire);
    t.true(error instanceof JournalError);
    t.is(error.code, code);
    t.is(error.message, `boom ${code}`);
    t.is(error.retryable, code === 'NOT_LEADER' || code === 'UNAVAILABLE');
    t.not(error.name, 'Error');
    t.is(error.toWire().code, code);
  }
  const fenced = journalErrorFromWire(journalErrorWire('EPOCH_FENCED', 'x', { promisedEpoch: 12 }));
  t.true(fenced instanceof EpochFencedError);
  t.is((fenced as EpochFencedError).promisedEpoch, 12);
  const order = journalErrorFromWire(journalErrorWire('OUT_OF_ORDER', 'x', { expectedTxId: 101 }));
  t.is((order as OutOfOrderError).expectedTxId, 101);
  const leader = journalErrorFromWire(journalErrorWire('NOT_LEADER', 'x', { leaderHint: '10.0.0.2:8485' }));
  t.true(leader instanceof NotLeaderError && leader.retryable && leader.leaderHint === '10.0.0.2:8485');
  const unavailable = journalErrorFromWire(journalErrorWire('EDITS_UNAVAILABLE', 'x', { expectedTxId: 50 }));
  t.is((unavailable as EditsUnavailableError).firstAvailableTxId, 50);
  t.deepEqual(new OutOfOrderError({ expectedTxId: 5 }).toWire(), journalErrorWire('OUT_OF_ORDER', 'out of order: expected txid 5', { expectedTxId: 5 }));
});

test('protocol - unknown codes and foreign errors become INTERNAL', (t) => {
  const unknown = journalErrorFromWire({ code: 'JOURNAL_ERROR_UNSPECIFIED', message: 'm' });
  t.true(unknown instanceof InternalError);
  t.regex(unknown.message, /JOURNAL_ERROR_UNSPECIFIED/);
  t.is(journalErrorToWire(new Error('disk')).code, 'INTERNAL');
  t.is(journalErrorToWire(new EpochFencedError({ promisedEpoch: 2 })).promisedEpoch, 2);
});

test('protocol - the proto loads and its messages carry uint64 as numbers and oneofs', (t) => {
  const proto = loadJournalProtocol();
  t.is(typeof proto.qjournal.v1.QJournal, 'function');
  const service = proto.qjournal.v1.QJournal.service;
  for (const method of ['Format', 'GetJournalState', 'NewEpoch', 'StartSegment', 'Journal', 'Finalize', 'Purge', 'GetEditLogManifest', 'GetJournaledEdits', 'AcquireLease', 'RenewLease', 'ReleaseLease', 'GetLease', 'JournalStream']) {
    t.truthy(service[method], method);
  }
  t.true(service.JournalStream!.requestStream && service.JournalStream!.responseStream);
  // Serialize a response with an error and read it back as the generated output type.
  const def = service.NewEpoch!;
  const bytes = def.responseSerialize({ error: journalErrorWire('EPOCH_FENCED', 'fenced', { promisedEpoch: 2 ** 40 }) });
  const back = def.responseDeserialize(bytes) as { result: string; error: { code: string; promisedEpoch: number } };
  t.is(back.result, 'error');
  t.is(back.error.code, 'EPOCH_FENCED');
  t.is(back.error.promisedEpoch, 2 ** 40);
  t.truthy(grpc.Server);
});

test('protocol - commands round-trip through encodeCommand and decodeCommand', (t) => {
  const commands: Command[] = [
    { type: 'noop' },
    { type: 'format', journalId: 'j1', namespace: ns, force: true },
    { type: 'newEpoch', journalId: 'j1', namespace: ns, epoch: 2 ** 50, writerId: 'nn1:123' },
    { type: 'startSegment', journalId: 'j1', epoch: 3, txId: 1 },
    journalCommand('journal_id-64', 2 ** 45, 2 ** 52, 3),
    { type: 'finalize', journalId: 'j1', epoch: 3, firstTxId: 1, lastTxId: 0 },
    { type: 'purge', journalId: 'j1', epoch: 0, minTxIdToKeep: 100 },
    { type: 'acquireLease', journalId: 'j1', leaseName: 'active', candidate: 'nn1', ttlMs: 5000, nowMs: 1_700_000_000_000 },
    { type: 'renewLease', journalId: 'j1', leaseName: 'active', candidate: 'nn1', token: 7, ttlMs: 5000, nowMs: 1 },
    { type: 'releaseLease', journalId: 'j1', leaseName: 'active', candidate: 'nn1', token: 7, nowMs: 2 },
  ];
  for (const command of commands) {
    const decoded = decodeCommand(encodeCommand(command));
    if (command.type === 'journal' && decoded.type === 'journal') {
      t.deepEqual({ ...decoded, records: Buffer.from(decoded.records) }, { ...command, records: Buffer.from(command.records) });
    } else {
      t.deepEqual(decoded, command);
    }
  }
  t.deepEqual(decodeCommand(new Uint8Array(0)), { type: 'noop' });
  // Extra fields on the way in are not encoded.
  const extra = { type: 'startSegment', journalId: 'j', epoch: 1, txId: 1, stray: true } as unknown as Command;
  t.deepEqual(decodeCommand(encodeCommand(extra)), { type: 'startSegment', journalId: 'j', epoch: 1, txId: 1 });
});

test('protocol - malformed commands are InvalidArgumentError, never anything else', (t) => {
  const bad = [
    Buffer.from([9]),
    Buffer.from([0, 1]),
    Buffer.from([1, 0x7b]),
    Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify({ type: 'startSegment', journalId: 'j', epoch: 2 ** 53, txId: 1 }))]),
    Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify({ type: 'startSegment', journalId: 'j', epoch: -1, txId: 1 }))]),
    Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify({ type: 'journal' }))]),
    Buffer.from([2, 1, 5, 0x61]),
    Buffer.from([2, 2, 0]),
  ];
  for (const bytes of bad) t.throws(() => decodeCommand(bytes), { instanceOf: InvalidArgumentError });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      try {
        decodeCommand(bytes);
        return true;
      } catch (error) {
        return error instanceof InvalidArgumentError;
      }
    }),
    { numRuns: 2000 },
  );
});

test('protocol - a checked journal command\'s entry gets its data CRC from the batch CRC, equal to a pass over the entry', (t) => {
  let remembered = 0;
  const edits = fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000, size: 'max' }), { minLength: 1, maxLength: 12 });
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 40 }), edits, (journalId, epoch, firstTxId, batch) => {
      const records = frameRecords(firstTxId, batch);
      const command = { type: 'journal' as const, journalId, epoch, firstTxId, count: batch.length, records, crc32c: crc32c(records) };
      const data = encodeCheckedJournal(command);
      if (!data.equals(encodeCommand(command))) return false;
      if (data.byteLength < 8192) return knownEntryDataCrc32c(data) === undefined; // small entries are not remembered
      remembered += 1;
      return knownEntryDataCrc32c(data) === crc32c(data);
    }),
    { numRuns: 100, endOnFailure: true },
  );
  t.true(remembered > 20, `${remembered} of 100 entries large enough to be remembered`);
});
