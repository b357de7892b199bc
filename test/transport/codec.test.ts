import test from 'ava';
import fc from 'fast-check';
import { crc32c } from '@node-rs/crc32';
import type { Entry, Message, MessageType, Snapshot } from '../../raft/core/types.ts';
import { decodeMessage, encodeMessage, messageBytesUpperBound, decodeSnapshotFiles, snapshotHeaderCrc32c } from '../../raft/transport/codec.ts';
import { WireFormatError } from '../../raft/transport/errors.ts';
import { BATCH_OVERHEAD_BYTES } from '../../raft/transport/peer-stream.ts';
import { decodeAckFrame, decodeBatchFrame, encodeAckFrame, encodeBatchFrame, ZERO_COPY_DATA_BYTES_MIN } from '../../raft/transport/link-codec.ts';
import { crc32cCombine, DATA_CRC_CACHE_BYTES_MIN, entryDataCrc32c, knownEntryDataCrc32c } from '../../raft/crc32c.ts';
import { FRAME_HEADER_BYTES } from '../../raft/transport/peer-link.ts';
import { raftV1 } from '../../raft/transport/proto.ts';
import { message, pseudoRandomBytes } from './harness.ts';

const MESSAGE_TYPES: MessageType[] = [
  'MsgApp', 'MsgAppResp', 'MsgVote', 'MsgVoteResp', 'MsgPreVote', 'MsgPreVoteResp', 'MsgHeartbeat',
  'MsgHeartbeatResp', 'MsgSnap', 'MsgProp', 'MsgTransferLeader', 'MsgTimeoutNow', 'MsgReadIndex', 'MsgReadIndexResp',
];

const nodeId = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/);
const uint = fc.oneof(fc.nat(1000), fc.maxSafeNat());
const bytes = fc.uint8Array({ maxLength: 300 });
const entry: fc.Arbitrary<Entry> = fc.record({ term: uint, index: uint, type: fc.constantFrom('normal' as const, 'confChange' as const), data: bytes });
const snapshot: fc.Arbitrary<Snapshot> = fc.record({
  meta: fc.record({
    index: uint,
    term: uint,
    confState: fc.record({
      voters: fc.array(nodeId, { maxLength: 5 }),
      votersOutgoing: fc.array(nodeId, { maxLength: 5 }),
      learners: fc.array(nodeId, { maxLength: 3 }),
      learnersNext: fc.array(nodeId, { maxLength: 3 }),
      autoLeave: fc.boolean(),
    }),
  }),
  data: bytes,
});
const anyMessage: fc.Arbitrary<Message> = fc
  .record({
    groupId: fc.string({ maxLength: 40, unit: 'grapheme' }),
    type: fc.constantFrom(...MESSAGE_TYPES),
    from: nodeId,
    to: nodeId,
    term: uint,
    logTerm: uint,
    index: uint,
    entries: fc.array(entry, { maxLength: 6 }),
    commit: uint,
    reject: fc.boolean(),
    rejectHint: uint,
    snapshot,
    context: bytes,
    commitOnly: fc.boolean(),
  })
  .map((m) => ({ ...m, snapshot: m.type === 'MsgSnap' ? m.snapshot : null, commitOnly: m.commitOnly && m.type === 'MsgApp' && m.entries.length === 0 }));

/** Bytes as plain arrays, so ava compares values, not Buffer vs Uint8Array. */
function plain(m: Message): unknown {
  return {
    ...m,
    context: [...m.context],
    entries: m.entries.map((e) => ({ ...e, data: [...e.data] })),
    snapshot: m.snapshot === null ? null : { ...m.snapshot, data: [...m.snapshot.data] },
  };
}

test('codec - every message survives encode, protobuf bytes, decode', (t) => {
  fc.assert(
    fc.property(anyMessage, (m) => {
      const wire = raftV1.Message.serialize(encodeMessage(m));
      const back = decodeMessage(raftV1.Message.deserialize(wire));
      t.deepEqual(plain(back), plain(m));
    }),
    { numRuns: 300 },
  );
});

test('codec - messageBytesUpperBound bounds the protobuf message with its field tag and length', (t) => {
  fc.assert(
    fc.property(anyMessage, (m) => {
      const encoded = raftV1.Message.serialize(encodeMessage(m));
      return encoded.length + 6 <= messageBytesUpperBound(m);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

function decodeWire(fields: Record<string, unknown>): Message {
  const wire = { ...encodeMessage(message({ type: 'MsgApp', from: 'a', to: 'b' })), ...fields };
  return decodeMessage(raftV1.Message.deserialize(raftV1.Message.serialize(wire as never)));
}

test('codec - unsafe integers, unknown enums, bad ids and misplaced snapshots are refused', (t) => {
  t.throws(() => decodeWire({ term: '9007199254740992' }), { instanceOf: WireFormatError, message: /term/ });
  t.throws(() => decodeWire({ commit: '18446744073709551615' }), { instanceOf: WireFormatError, message: /commit/ });
  t.throws(() => decodeWire({ entries: [{ term: 1, index: '9007199254740993', type: 'ENTRY_TYPE_NORMAL' }] }), { message: /entries\[0\]\.index/ });
  t.throws(() => decodeWire({ type: 42 }), { instanceOf: WireFormatError, message: /type/ });
  t.throws(() => decodeWire({ type: 'MESSAGE_TYPE_UNSPECIFIED' }), { instanceOf: WireFormatError, message: /type/ });
  t.throws(() => decodeWire({ entries: [{ term: 1, index: 1, type: 7 }] }), { message: /entries\[0\]\.type/ });
  t.throws(() => decodeWire({ from: '' }), { message: /from/ });
  t.throws(() => decodeWire({ to: 'a/b' }), { message: /to/ });
  t.throws(() => decodeWire({ snapshot: { meta: { index: 1, term: 1, confState: {} }, data: Buffer.alloc(0) } }), { message: /snapshot/ });
  t.throws(() => decodeWire({ type: 'MSG_SNAP' }), { message: /snapshot/ });
  t.throws(() => decodeWire({ type: 'MSG_SNAP', snapshot: { data: Buffer.alloc(1) } }), { message: /snapshot\.meta/ });
  t.throws(() => decodeWire({ type: 'MSG_HEARTBEAT', commitOnly: true }), { instanceOf: WireFormatError, message: /commitOnly/ });
  t.throws(() => decodeWire({ commitOnly: true, entries: [{ term: 1, index: 1, type: 'ENTRY_TYPE_NORMAL' }] }), { instanceOf: WireFormatError, message: /commitOnly/ });
  t.is(decodeWire({ commitOnly: true }).commitOnly, true);
  t.notThrows(() => decodeWire({ term: '9007199254740991' }));
});

test('codec - snapshot manifests need unique relative paths and safe sizes', (t) => {
  const ok = [{ name: 'a', bytes: 1, crc32c: 0xffffffff }, { name: 'dir/b.bin', bytes: 0, crc32c: 0 }];
  t.deepEqual(decodeSnapshotFiles(ok, 'files'), ok);
  for (const name of ['', '.', '..', '/abs', 'x//y', 'x/../y', 'x/', 'x\\y', 'a\0b', 'n'.repeat(1025)]) {
    t.throws(() => decodeSnapshotFiles([{ name, bytes: 1, crc32c: 1 }], 'files'), { instanceOf: WireFormatError }, JSON.stringify(name));
  }
  t.throws(() => decodeSnapshotFiles([ok[0], ok[0]], 'files'), { message: /duplicate/ });
  t.throws(() => decodeSnapshotFiles([{ name: 'a', bytes: 2 ** 53, crc32c: 1 }], 'files'), { message: /bytes/ });
  t.throws(() => decodeSnapshotFiles([{ name: 'a', bytes: 1, crc32c: -1 }], 'files'), { message: /crc32c/ });
});

// ---------------------------------------------------------------------------------------------
// The peer link's frames (link-codec.ts).

/** Entries, some long enough to be sent from their own buffer (a separate writev piece). */
const linkEntry: fc.Arbitrary<Entry> = fc.record({
  term: uint,
  index: uint,
  type: fc.constantFrom('normal' as const, 'confChange' as const),
  data: fc.oneof({ weight: 4, arbitrary: bytes }, { weight: 1, arbitrary: fc.uint8Array({ minLength: ZERO_COPY_DATA_BYTES_MIN, maxLength: ZERO_COPY_DATA_BYTES_MIN + 300 }) }),
});
const linkMessage: fc.Arbitrary<Message> = anyMessage
  .filter((m) => m.type !== 'MsgSnap')
  .chain((m) => fc.array(linkEntry, { maxLength: 4 }).map((entries) => ({ ...m, entries, commitOnly: m.commitOnly && entries.length === 0 })));

function frameOf(sequence: number, messages: Message[]): { frame: Buffer; pieces: number; bytes: number } {
  const { pieces, bytes } = encodeBatchFrame(sequence, messages);
  return { frame: Buffer.concat(pieces), pieces: pieces.length, bytes };
}

test('link codec - every message but MsgSnap survives a batch frame; the frame stays within the batch bound', (t) => {
  fc.assert(
    fc.property(uint, fc.array(linkMessage, { maxLength: 5 }), (sequence, messages) => {
      const { frame, bytes } = frameOf(sequence, messages);
      t.is(bytes, frame.length);
      t.is(frame.readUInt32LE(0), frame.length - FRAME_HEADER_BYTES);
      const back = decodeBatchFrame(frame.subarray(FRAME_HEADER_BYTES));
      t.is(back.sequence, sequence);
      t.deepEqual(back.messages.map(plain), messages.map(plain));
      t.true(frame.length <= BATCH_OVERHEAD_BYTES + messages.reduce((sum, m) => sum + messageBytesUpperBound(m), 0));
    }),
    { numRuns: 300 },
  );
});

test('link codec - large entry data go out as their own buffers, not copies', (t) => {
  const data = new Uint8Array(ZERO_COPY_DATA_BYTES_MIN);
  const small = new Uint8Array(100);
  const m = message({ type: 'MsgApp', from: 'a', to: 'b', entries: [{ term: 1, index: 1, type: 'normal', data }, { term: 1, index: 2, type: 'normal', data: small }] });
  const { pieces } = encodeBatchFrame(1, [m]);
  t.is(pieces.length, 3);
  t.is(pieces[1], data, 'the entry buffer itself');
  t.false(pieces.includes(small), 'small data are copied into the header piece');
  t.throws(() => encodeBatchFrame(1, [message({ type: 'MsgSnap', from: 'a', to: 'b', snapshot: { meta: { index: 1, term: 1, confState: { voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } }, data: small } })]));
});

test('link codec - a damaged, cut or extended frame is refused with WireFormatError, never another error', (t) => {
  let damaged = 0;
  fc.assert(
    fc.property(
      fc.array(linkMessage, { minLength: 1, maxLength: 3 }),
      fc.array(fc.record({ at: fc.nat(), value: fc.nat(255) }), { minLength: 1, maxLength: 4 }),
      fc.nat(),
      (messages, damage, cut) => {
        const original = frameOf(1, messages).frame.subarray(FRAME_HEADER_BYTES);
        const payload = Buffer.from(original);
        for (const d of damage) payload[d.at % payload.length] = d.value;
        const changed = !payload.equals(original);
        if (changed) damaged += 1;
        const candidates = [payload.subarray(0, cut % payload.length), Buffer.concat([payload, Buffer.from([0])])];
        if (changed) candidates.push(payload);
        for (const candidate of candidates) {
          try {
            decodeBatchFrame(candidate);
          } catch (error) {
            if (error instanceof WireFormatError) continue;
            throw error;
          }
          return false; // decoded: the damage went unnoticed
        }
        return true;
      },
    ),
    { numRuns: 500 },
  );
  t.true(damaged > 400, `${damaged} of 500 frames had a byte changed`);
});

test('link codec - the frame CRC and the CRCs of large entries: a flipped bit anywhere is refused; a good frame teaches its CRCs', (t) => {
  const large = pseudoRandomBytes(ZERO_COPY_DATA_BYTES_MIN + 100, 3);
  const small = pseudoRandomBytes(100, 4);
  const m = message({ type: 'MsgApp', from: 'a', to: 'b', index: 1, logTerm: 1, entries: [{ term: 1, index: 2, type: 'normal', data: large }, { term: 1, index: 3, type: 'normal', data: small }] });
  const payload = frameOf(7, [m]).frame.subarray(FRAME_HEADER_BYTES);
  const decoded = decodeBatchFrame(Buffer.from(payload));
  const data = decoded.messages[0]!.entries[0]!.data;
  t.deepEqual(Buffer.from(data), Buffer.from(large));
  t.is(knownEntryDataCrc32c(data), crc32c(large), 'the checked CRC of the large entry is remembered for the WAL');
  t.is(knownEntryDataCrc32c(decoded.messages[0]!.entries[1]!.data), undefined, 'small data are not remembered');
  // Every bit of the payload but the format byte is covered: by the frame CRC, or the large entry's.
  for (let at = 1; at < payload.length; at += 97) {
    const copy = Buffer.from(payload);
    copy[at]! ^= 0x10;
    t.throws(() => decodeBatchFrame(copy), { instanceOf: WireFormatError }, `bit flipped at ${at}`);
  }
  const inLarge = Buffer.from(payload);
  const largeAt = inLarge.indexOf(large.subarray(0, 64));
  t.true(largeAt > 0);
  inLarge[largeAt + 5000]! ^= 1;
  t.throws(() => decodeBatchFrame(inLarge), { instanceOf: WireFormatError, message: /large entry/ });
});

test('crc32c - combine gives the CRC of the concatenation; remembered CRCs are per buffer', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
      const whole = crc32c(Buffer.concat([a, b]));
      return crc32cCombine(crc32c(Buffer.from(a)), crc32c(Buffer.from(b)), b.length) === whole;
    }),
    { numRuns: 300 },
  );
  const big = pseudoRandomBytes(3 * 1024 * 1024 + 7, 9);
  t.is(crc32cCombine(crc32c(big.subarray(0, 17)), crc32c(big.subarray(17)), big.length - 17), crc32c(big));
  t.throws(() => crc32cCombine(1, 2, -1), { instanceOf: RangeError });
  const data = pseudoRandomBytes(DATA_CRC_CACHE_BYTES_MIN, 11);
  t.is(knownEntryDataCrc32c(data), undefined);
  t.is(entryDataCrc32c(data), crc32c(data));
  t.is(knownEntryDataCrc32c(data), crc32c(data));
  t.is(knownEntryDataCrc32c(Buffer.from(data)), undefined, 'another buffer with the same bytes is another key');
});

test('link codec - acknowledgements: safe sequences only, exact length', (t) => {
  t.is(decodeAckFrame(encodeAckFrame(0)), 0);
  t.is(decodeAckFrame(encodeAckFrame(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
  t.throws(() => decodeAckFrame(encodeAckFrame(2 ** 53)), { instanceOf: WireFormatError });
  t.throws(() => decodeAckFrame(encodeAckFrame(-1)), { instanceOf: WireFormatError });
  t.throws(() => decodeAckFrame(encodeAckFrame(0.5)), { instanceOf: WireFormatError });
  t.throws(() => decodeAckFrame(Buffer.alloc(7)), { instanceOf: WireFormatError });
});

test('codec - the snapshot header CRC depends on the values, not on the order the configuration was built in', (t) => {
  const confState = { voters: ['a', 'b'], votersOutgoing: [], learners: ['c'], learnersNext: [], autoLeave: false };
  const reordered = { autoLeave: false, learnersNext: [], learners: ['c'], votersOutgoing: [], voters: ['a', 'b'] };
  const snap = (cs: typeof confState): Message => message({ type: 'MsgSnap', from: 'a', to: 'b', snapshot: { meta: { index: 9, term: 2, confState: cs }, data: new Uint8Array([1]) } });
  const files = [{ name: 'f', bytes: 3, crc32c: 7 }];
  t.is(snapshotHeaderCrc32c(snap(reordered), files), snapshotHeaderCrc32c(snap(confState), files));
  t.not(snapshotHeaderCrc32c(snap({ ...confState, learners: [] }), files), snapshotHeaderCrc32c(snap(confState), files));
});
