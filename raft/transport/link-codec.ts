/**
 * The frames of a peer link (peer-link.ts): a batch of Raft messages one way, acknowledgements
 * the other. A hand-written little-endian layout rather than protobuf, so that a leader sends
 * an entry's data to each follower straight from the Raft log (one writev, no copy and no
 * allocation per follower): protobuf encoding copied every entry into a fresh buffer per peer,
 * the largest copy on a leader under load, and each such buffer fed V8's external-memory
 * trigger of full collections.
 *
 * Batch frame payload:
 *   u8 format (2) | u32 crc32c | f64 sequence | u32 count | count x message
 * message:
 *   u8 type (index in MESSAGE_TYPES) | u16 n + groupId (UTF-8) | u16 n + from | u16 n + to |
 *   f64 term | f64 logTerm | f64 index | f64 commit | f64 rejectHint |
 *   u8 flags (1: reject, 2: commitOnly) | u32 n + context | u32 entries | entries x entry
 * entry:
 *   f64 term | f64 index | u8 type (0: normal, 1: confChange) | u32 n |
 *   u32 crc32c of data (only when n >= ZERO_COPY_DATA_BYTES_MIN) | data
 * Ack frame payload: f64 sequence.
 *
 * Integrity: the frame's crc32c covers every byte after it except the data of large entries
 * (n >= ZERO_COPY_DATA_BYTES_MIN), which carry their own. A frame whose bytes do not match is
 * refused before any of it is used (the link closes and the sender sends again), so a bit
 * flipped on the way (TCP's 16-bit checksum misses some) never reaches a WAL. The CRC of a
 * large entry's data is computed once per node (raft/crc32c.ts remembers it per buffer): the
 * leader's WAL and its links to every follower share it, and a follower's WAL reuses the one
 * it checked.
 *
 * Integers travel as float64: every safe integer is exact there, and the decoder refuses
 * anything else. Decoding checks every field with codec.ts's decodeMessage (the same checks
 * as for protobuf input), and reads nothing beyond the frame; entry data are views into it.
 * MsgSnap never travels on a link (its file set goes by InstallSnapshot).
 */
import { crc32c } from '@node-rs/crc32';
import type { Message, MessageType } from '../core/types.ts';
import { DATA_CRC_CACHE_BYTES_MIN, entryDataCrc32c, rememberEntryDataCrc32c } from '../crc32c.ts';
import { decodeMessage, decodeUint64, ENTRY_TYPE_TO_WIRE, MESSAGE_TYPE_TO_WIRE } from './codec.ts';
import { WireFormatError } from './errors.ts';
import type { Entry__Output as WireEntryOutput } from './generated/qjournal/raft/v1/Entry.ts';
import type { Message__Output as WireMessageOutput } from './generated/qjournal/raft/v1/Message.ts';
import type { MessageType__Output as WireMessageType } from './generated/qjournal/raft/v1/MessageType.ts';

/** The batch layout's version byte (1: the layout without CRCs, no longer spoken). */
export const BATCH_FORMAT = 2;
/** Bytes of a batch frame payload before its messages. */
export const BATCH_HEADER_BYTES = 1 + 4 + 8 + 4;
/** Where the frame's crc32c sits in a batch payload, and where the bytes it covers start. */
const CRC_OFFSET = 1;
const CRC_COVERS_FROM = CRC_OFFSET + 4;
/** Bytes of an ack frame payload. */
export const ACK_BYTES = 8;
/**
 * Entry data at least this long are sent from the entry's own buffer (a writev piece), not
 * copied, with their own crc32c (the one raft/crc32c.ts remembers per buffer).
 */
export const ZERO_COPY_DATA_BYTES_MIN = DATA_CRC_CACHE_BYTES_MIN;
/** Longest string field (group id, node id) in UTF-8 bytes. */
const STRING_BYTES_MAX = 0xffff;

/** Message types by their wire number (the order is the wire contract: append only). */
const MESSAGE_TYPES: readonly MessageType[] = [
  'MsgApp',
  'MsgAppResp',
  'MsgVote',
  'MsgVoteResp',
  'MsgPreVote',
  'MsgPreVoteResp',
  'MsgHeartbeat',
  'MsgHeartbeatResp',
  'MsgSnap',
  'MsgProp',
  'MsgTransferLeader',
  'MsgTimeoutNow',
  'MsgReadIndex',
  'MsgReadIndexResp',
];
const MESSAGE_TYPE_NUMBERS: ReadonlyMap<MessageType, number> = new Map(MESSAGE_TYPES.map((t, i) => [t, i]));
/** codec.ts's wire names by number, so decodeMessage does the checking. */
const WIRE_MESSAGE_TYPES: readonly WireMessageType[] = MESSAGE_TYPES.map((t) => MESSAGE_TYPE_TO_WIRE[t]);
/** Entry types by their wire number (0: normal, 1: confChange), as wire names. */
const WIRE_ENTRY_TYPES: readonly WireEntryOutput['type'][] = [ENTRY_TYPE_TO_WIRE.normal, ENTRY_TYPE_TO_WIRE.confChange];

/**
 * An upper bound of the bytes `m` adds to a batch frame, which sizes the frame's own buffer.
 * codec.ts's messageBytesUpperBound (for protobuf) is larger for every message, so batches are
 * cut with that one (the codec test checks the frame stays within it).
 */
function linkMessageBytes(m: Message): number {
  let bytes = 1 + 6 + 3 * (m.groupId.length + m.from.length + m.to.length) + 5 * 8 + 1 + 4 + m.context.length + 4;
  for (const e of m.entries) bytes += 8 + 8 + 1 + 4 + 4 + e.data.length;
  return bytes;
}

/**
 * Encode one batch frame, its 4-byte length prefix included, as pieces for one writev: the
 * header parts in one new buffer, large entry data as the entries' own buffers.
 */
export function encodeBatchFrame(sequence: number, messages: readonly Message[]): { pieces: Uint8Array[]; bytes: number } {
  let ownBytes = 4 + BATCH_HEADER_BYTES;
  for (const m of messages) {
    if (m.snapshot !== null) throw new Error('link codec: MsgSnap does not travel on a peer link');
    ownBytes += linkMessageBytes(m);
    for (const e of m.entries) if (e.data.length >= ZERO_COPY_DATA_BYTES_MIN) ownBytes -= e.data.length;
  }
  const buf = Buffer.allocUnsafe(ownBytes);
  const pieces: Uint8Array[] = [];
  let o = 4;
  let pieceStart = 0;
  let total = 0;
  buf[o] = BATCH_FORMAT;
  buf.writeDoubleLE(sequence, o + CRC_COVERS_FROM);
  buf.writeUInt32LE(messages.length, o + CRC_COVERS_FROM + 8);
  o += BATCH_HEADER_BYTES;
  const writeString = (s: string): void => {
    const n = buf.write(s, o + 2, 'utf8');
    if (n > STRING_BYTES_MAX) throw new Error('link codec: string field too long');
    buf.writeUInt16LE(n, o);
    o += 2 + n;
  };
  for (const m of messages) {
    buf[o] = MESSAGE_TYPE_NUMBERS.get(m.type)!;
    o += 1;
    writeString(m.groupId);
    writeString(m.from);
    writeString(m.to);
    buf.writeDoubleLE(m.term, o);
    buf.writeDoubleLE(m.logTerm, o + 8);
    buf.writeDoubleLE(m.index, o + 16);
    buf.writeDoubleLE(m.commit, o + 24);
    buf.writeDoubleLE(m.rejectHint, o + 32);
    buf[o + 40] = (m.reject ? 1 : 0) | (m.commitOnly ? 2 : 0);
    buf.writeUInt32LE(m.context.length, o + 41);
    buf.set(m.context, o + 45);
    o += 45 + m.context.length;
    buf.writeUInt32LE(m.entries.length, o);
    o += 4;
    for (const e of m.entries) {
      buf.writeDoubleLE(e.term, o);
      buf.writeDoubleLE(e.index, o + 8);
      buf[o + 16] = e.type === 'normal' ? 0 : 1;
      buf.writeUInt32LE(e.data.length, o + 17);
      o += 21;
      if (e.data.length >= ZERO_COPY_DATA_BYTES_MIN) {
        buf.writeUInt32LE(entryDataCrc32c(e.data), o);
        o += 4;
        pieces.push(buf.subarray(pieceStart, o), e.data);
        total += o - pieceStart + e.data.length;
        pieceStart = o;
      } else {
        buf.set(e.data, o);
        o += e.data.length;
      }
    }
  }
  if (o > pieceStart) {
    pieces.push(buf.subarray(pieceStart, o));
    total += o - pieceStart;
  }
  buf.writeUInt32LE(total - 4, 0);
  // The buffer holds every byte but the large entries' data, in frame order: one CRC call.
  buf.writeUInt32LE(crc32c(buf.subarray(4 + CRC_COVERS_FROM, o)), 4 + CRC_OFFSET);
  return { pieces, bytes: total };
}

/** Reads a frame payload; every read past its end throws WireFormatError. */
class Reader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number, field: string): number {
    const at = this.offset;
    if (n > this.buf.length - at) throw new WireFormatError(field, `frame ends ${n - (this.buf.length - at)} bytes early`);
    this.offset = at + n;
    return at;
  }
  u8(field: string): number {
    return this.buf[this.need(1, field)]!;
  }
  u32(field: string): number {
    return this.buf.readUInt32LE(this.need(4, field));
  }
  f64(field: string): number {
    return this.buf.readDoubleLE(this.need(8, field));
  }
  bytes(n: number, field: string): Buffer {
    const at = this.need(n, field);
    return this.buf.subarray(at, at + n);
  }
  string(field: string): string {
    const n = this.buf.readUInt16LE(this.need(2, field));
    const at = this.need(n, field);
    return this.buf.toString('utf8', at, at + n);
  }
  end(): boolean {
    return this.offset === this.buf.length;
  }
}

/**
 * TEST ONLY (the chaos canary `skip-link-crc`, journalnode/test-hooks.ts): when true, batch
 * frames are decoded without checking their CRCs, as format 1 was. Never set it otherwise.
 */
let skipChecksums = false;

/** TEST ONLY: decode batch frames without checking their CRCs from now on (see above). */
export function skipLinkChecksumsForTest(): void {
  skipChecksums = true;
}

/** Decode and check a batch frame payload (WireFormatError on anything malformed). */
export function decodeBatchFrame(payload: Buffer): { sequence: number; messages: Message[] } {
  const r = new Reader(payload);
  const format = r.u8('batch.format');
  if (format !== BATCH_FORMAT) throw new WireFormatError('batch.format', `unknown format ${format}`);
  const frameCrc = r.u32('batch.crc32c');
  // The large entries' data, which the frame's CRC skips: checked against their own.
  const large: { data: Buffer; crc: number }[] = [];
  const sequence = decodeUint64(r.f64('batch.sequence'), 'batch.sequence');
  const count = r.u32('batch.count');
  // Every message takes at least 56 bytes: a count beyond what the frame can hold is a lie.
  if (count > payload.length / 56) throw new WireFormatError('batch.count', `${count} messages cannot fit ${payload.length} bytes`);
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) {
    const field = `batch.messages[${i}]`;
    const typeNumber = r.u8(`${field}.type`);
    const groupId = r.string(`${field}.groupId`);
    const from = r.string(`${field}.from`);
    const to = r.string(`${field}.to`);
    const term = r.f64(`${field}.term`);
    const logTerm = r.f64(`${field}.logTerm`);
    const index = r.f64(`${field}.index`);
    const commit = r.f64(`${field}.commit`);
    const rejectHint = r.f64(`${field}.rejectHint`);
    const flags = r.u8(`${field}.flags`);
    if ((flags & ~3) !== 0) throw new WireFormatError(`${field}.flags`, `unknown flags ${flags}`);
    const context = r.bytes(r.u32(`${field}.context`), `${field}.context`);
    const entryCount = r.u32(`${field}.entries`);
    if (entryCount > (payload.length - r.offset) / 21) throw new WireFormatError(`${field}.entries`, `${entryCount} entries cannot fit the frame`);
    const entries: WireEntryOutput[] = [];
    for (let j = 0; j < entryCount; j++) {
      const entryField = `${field}.entries[${j}]`;
      const entryTerm = r.f64(`${entryField}.term`);
      const entryIndex = r.f64(`${entryField}.index`);
      const entryType = r.u8(`${entryField}.type`);
      const length = r.u32(`${entryField}.data`);
      const dataCrc = length >= ZERO_COPY_DATA_BYTES_MIN ? r.u32(`${entryField}.crc32c`) : 0;
      const data = r.bytes(length, `${entryField}.data`);
      if (length >= ZERO_COPY_DATA_BYTES_MIN) large.push({ data, crc: dataCrc });
      // An unknown number becomes a name decodeMessage refuses.
      const type = WIRE_ENTRY_TYPES[entryType] ?? (`unknown(${entryType})` as WireEntryOutput['type']);
      entries.push({ term: entryTerm, index: entryIndex, type, data });
    }
    const wire: WireMessageOutput = {
      groupId,
      type: WIRE_MESSAGE_TYPES[typeNumber] ?? (`unknown(${typeNumber})` as WireMessageType),
      from,
      to,
      term,
      logTerm,
      index,
      entries,
      commit,
      reject: (flags & 1) !== 0,
      rejectHint,
      context,
      commitOnly: (flags & 2) !== 0,
      snapshot: null,
    };
    messages.push(decodeMessage(wire, field));
  }
  if (!r.end()) throw new WireFormatError('batch', `${payload.length - r.offset} bytes after the last message`);
  if (!skipChecksums) checkFrameCrc(payload, frameCrc, large);
  return { sequence, messages };
}

/**
 * Check the frame's CRC (every byte after it but the large entries' data, in order) and each
 * large entry's own; remember the latter for this node's WAL. WireFormatError on a mismatch.
 */
function checkFrameCrc(payload: Buffer, frameCrc: number, large: readonly { data: Buffer; crc: number }[]): void {
  let crc = 0;
  let from = CRC_COVERS_FROM;
  for (const { data } of large) {
    const at = data.byteOffset - payload.byteOffset;
    crc = crc32c(payload.subarray(from, at), crc);
    from = at + data.byteLength;
  }
  crc = crc32c(payload.subarray(from), crc);
  if (crc !== frameCrc) throw new WireFormatError('batch.crc32c', `frame checksum mismatch (${crc} computed, ${frameCrc} sent)`);
  for (const [i, { data, crc: sent }] of large.entries()) {
    if (crc32c(data) !== sent) throw new WireFormatError('batch.crc32c', `checksum mismatch in the data of large entry ${i} of the frame`);
    rememberEntryDataCrc32c(data, sent);
  }
}

/** Encode an ack frame payload. */
export function encodeAckFrame(sequence: number): Buffer {
  const buf = Buffer.allocUnsafe(ACK_BYTES);
  buf.writeDoubleLE(sequence, 0);
  return buf;
}

/** Decode and check an ack frame payload. */
export function decodeAckFrame(payload: Buffer): number {
  if (payload.length !== ACK_BYTES) throw new WireFormatError('ack', `${payload.length} bytes, expected ${ACK_BYTES}`);
  return decodeUint64(payload.readDoubleLE(0), 'ack.sequence');
}
