/**
 * The codec between the core's vocabulary (raft/core/types.ts) and the wire objects of
 * raft.proto (as proto-loader hands them out: camelCase fields, uint64 as JS numbers, enums as
 * strings). Encoding trusts the core; decoding trusts nothing: every field is checked
 * (safe integers, known enum values, valid node ids) and a violation throws WireFormatError.
 *
 * Byte fields are passed through without copies: encoded entries reference the core's
 * `Uint8Array`s, decoded entries are views into the received gRPC message buffer.
 */
import type {
  ConfState,
  Entry,
  EntryType,
  Message,
  MessageType,
  NodeId,
  Snapshot,
  SnapshotMeta,
} from '../core/types.ts';
import type { ConfState as WireConfState, ConfState__Output as WireConfStateOutput } from './generated/qjournal/raft/v1/ConfState.ts';
import type { Entry as WireEntry, Entry__Output as WireEntryOutput } from './generated/qjournal/raft/v1/Entry.ts';
import type { EntryType__Output as WireEntryType } from './generated/qjournal/raft/v1/EntryType.ts';
import type { Message as WireMessage, Message__Output as WireMessageOutput } from './generated/qjournal/raft/v1/Message.ts';
import type { MessageType__Output as WireMessageType } from './generated/qjournal/raft/v1/MessageType.ts';
import type { SnapshotFile as WireSnapshotFile, SnapshotFile__Output as WireSnapshotFileOutput } from './generated/qjournal/raft/v1/SnapshotFile.ts';
import type { SnapshotMeta as WireSnapshotMeta, SnapshotMeta__Output as WireSnapshotMetaOutput } from './generated/qjournal/raft/v1/SnapshotMeta.ts';
import { crc32c } from '@node-rs/crc32';
import { WireFormatError } from './errors.ts';

/** A node id as the core defines it: `[A-Za-z0-9_.-]{1,64}`. */
const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Longest group id accepted from the wire, in UTF-16 code units. */
export const GROUP_ID_LENGTH_MAX = 256;

/** Longest snapshot file path accepted from the wire, in UTF-16 code units. */
export const SNAPSHOT_FILE_PATH_LENGTH_MAX = 1024;

/** Most files in one snapshot file set accepted from the wire. */
export const SNAPSHOT_FILES_MAX = 4096;

/** Core message types by their raft.proto names (link-codec.ts derives its names from it). */
export const MESSAGE_TYPE_TO_WIRE: Readonly<Record<MessageType, WireMessageType>> = {
  MsgApp: 'MSG_APP',
  MsgAppResp: 'MSG_APP_RESP',
  MsgVote: 'MSG_VOTE',
  MsgVoteResp: 'MSG_VOTE_RESP',
  MsgPreVote: 'MSG_PRE_VOTE',
  MsgPreVoteResp: 'MSG_PRE_VOTE_RESP',
  MsgHeartbeat: 'MSG_HEARTBEAT',
  MsgHeartbeatResp: 'MSG_HEARTBEAT_RESP',
  MsgSnap: 'MSG_SNAP',
  MsgProp: 'MSG_PROP',
  MsgTransferLeader: 'MSG_TRANSFER_LEADER',
  MsgTimeoutNow: 'MSG_TIMEOUT_NOW',
  MsgReadIndex: 'MSG_READ_INDEX',
  MsgReadIndexResp: 'MSG_READ_INDEX_RESP',
};

const MESSAGE_TYPE_FROM_WIRE: ReadonlyMap<unknown, MessageType> = new Map(
  Object.entries(MESSAGE_TYPE_TO_WIRE).map(([core, wire]) => [wire, core as MessageType]),
);

/** Core entry types by their raft.proto names. */
export const ENTRY_TYPE_TO_WIRE: Readonly<Record<EntryType, WireEntryType>> = {
  normal: 'ENTRY_TYPE_NORMAL',
  confChange: 'ENTRY_TYPE_CONF_CHANGE',
};

const ENTRY_TYPE_FROM_WIRE: ReadonlyMap<unknown, EntryType> = new Map(
  Object.entries(ENTRY_TYPE_TO_WIRE).map(([core, wire]) => [wire, core as EntryType]),
);

/**
 * One file of a snapshot's file set: its path relative to the snapshot directory (`a/b.bin`),
 * its size in bytes and the CRC-32C of its whole content.
 */
export interface SnapshotFileInfo {
  readonly name: string;
  readonly bytes: number;
  readonly crc32c: number;
}

/**
 * The CRC-32C a snapshot transfer's header carries (SnapshotOffsetsRequest, SnapshotHeader):
 * over a canonical rendering of the MsgSnap and the file list, so both ends compute it from
 * the decoded values, whatever protobuf encoder wrote the bytes. The file contents have their
 * own CRCs; this one guards the snapshot's index, term and configuration, which a bit flipped on
 * the way would otherwise turn into a follower that skips or repeats entries.
 */
export function snapshotHeaderCrc32c(message: Message, files: readonly SnapshotFileInfo[]): number {
  const snapshot = message.snapshot;
  const canonical = JSON.stringify([
    message.type,
    message.groupId,
    message.from,
    message.to,
    message.term,
    message.logTerm,
    message.index,
    message.commit,
    message.reject,
    message.rejectHint,
    message.commitOnly,
    Buffer.from(message.context).toString('base64'),
    message.entries.map((e) => [e.term, e.index, e.type, Buffer.from(e.data).toString('base64')]),
    // The configuration field by field: JSON of the object would follow its keys' insertion order.
    snapshot === null ? null : [snapshot.meta.index, snapshot.meta.term, confStateFields(snapshot.meta.confState), Buffer.from(snapshot.data).toString('base64')],
    files.map((f) => [f.name, f.bytes, f.crc32c]),
  ]);
  return crc32c(Buffer.from(canonical, 'utf8'));
}

function confStateFields(cs: ConfState): unknown[] {
  return [cs.voters, cs.votersOutgoing, cs.learners, cs.learnersNext, cs.autoLeave];
}

/** True when `value` is a node id the core accepts. */
export function isNodeId(value: unknown): value is NodeId {
  return typeof value === 'string' && NODE_ID_PATTERN.test(value);
}

// ---------------------------------------------------------------------------------------------
// Encoding (core -> wire). The core is trusted: no checks beyond what the types say.

/** Encode a core message as the wire object for raft.proto `Message`. */
export function encodeMessage(m: Message): WireMessage {
  const wire: WireMessage = {
    groupId: m.groupId,
    type: MESSAGE_TYPE_TO_WIRE[m.type],
    from: m.from,
    to: m.to,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries.map(encodeEntry),
    commit: m.commit,
    reject: m.reject,
    rejectHint: m.rejectHint,
    context: m.context,
    commitOnly: m.commitOnly,
  };
  if (m.snapshot !== null) wire.snapshot = { meta: encodeSnapshotMeta(m.snapshot.meta), data: m.snapshot.data };
  return wire;
}

function encodeEntry(e: Entry): WireEntry {
  return { term: e.term, index: e.index, type: ENTRY_TYPE_TO_WIRE[e.type], data: e.data };
}

/** Encode snapshot metadata as the wire object for raft.proto `SnapshotMeta`. */
export function encodeSnapshotMeta(meta: SnapshotMeta): WireSnapshotMeta {
  return { index: meta.index, term: meta.term, confState: encodeConfState(meta.confState) };
}

function encodeConfState(c: ConfState): WireConfState {
  return {
    voters: [...c.voters],
    votersOutgoing: [...c.votersOutgoing],
    learners: [...c.learners],
    learnersNext: [...c.learnersNext],
    autoLeave: c.autoLeave,
  };
}

/** Encode a file manifest as wire `SnapshotFile`s. */
export function encodeSnapshotFiles(files: readonly SnapshotFileInfo[]): WireSnapshotFile[] {
  return files.map((f) => ({ name: f.name, bytes: f.bytes, crc32c: f.crc32c }));
}

// Upper bounds of encoded sizes, in bytes: tag (1) + varint (10) for a uint64/enum field;
// tag (1) + length varint (5) for a length-delimited field.
const VARINT_FIELD_BYTES_MAX = 11;
const DELIMITED_FIELD_OVERHEAD_BYTES_MAX = 6;

/**
 * An upper bound of the bytes `m` takes in a peer link's batch frame (link-codec.ts) and as a
 * protobuf field (with its tag and length), cheap to compute. Batches are cut with it so a
 * frame never exceeds messageBytesMax. Strings are counted at 3 bytes per UTF-16 unit (UTF-8's worst case).
 */
export function messageBytesUpperBound(m: Message): number {
  let bytes =
    DELIMITED_FIELD_OVERHEAD_BYTES_MAX + // the message inside the batch
    3 * DELIMITED_FIELD_OVERHEAD_BYTES_MAX + // group id, from, to
    3 * (m.groupId.length + m.from.length + m.to.length) +
    8 * VARINT_FIELD_BYTES_MAX + // type, term, logTerm, index, commit, reject, rejectHint, commitOnly
    DELIMITED_FIELD_OVERHEAD_BYTES_MAX +
    m.context.length;
  for (const e of m.entries) {
    bytes += DELIMITED_FIELD_OVERHEAD_BYTES_MAX + 3 * VARINT_FIELD_BYTES_MAX + DELIMITED_FIELD_OVERHEAD_BYTES_MAX + e.data.length;
  }
  if (m.snapshot !== null) bytes += snapshotBytesUpperBound(m.snapshot);
  return bytes;
}

function snapshotBytesUpperBound(s: Snapshot): number {
  const c = s.meta.confState;
  let ids = 0;
  for (const list of [c.voters, c.votersOutgoing, c.learners, c.learnersNext]) {
    for (const id of list) ids += DELIMITED_FIELD_OVERHEAD_BYTES_MAX + 3 * id.length;
  }
  return (
    3 * DELIMITED_FIELD_OVERHEAD_BYTES_MAX + // snapshot, meta, confState
    2 * VARINT_FIELD_BYTES_MAX + // index, term
    ids +
    VARINT_FIELD_BYTES_MAX + // autoLeave
    DELIMITED_FIELD_OVERHEAD_BYTES_MAX +
    s.data.length
  );
}

// ---------------------------------------------------------------------------------------------
// Decoding (wire -> core). Nothing is trusted: the declared output types describe what a
// well-behaved peer sends, so every field is checked as `unknown`.

/** A uint64 field loaded as a number: it must be a safe non-negative integer. */
export function decodeUint64(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new WireFormatError(field, `not a safe non-negative integer (${String(value)})`);
  }
  return value;
}

function decodeUint32(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new WireFormatError(field, `not a uint32 (${String(value)})`);
  }
  return value;
}

function decodeBytes(value: unknown, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new WireFormatError(field, 'not bytes');
  return value;
}

function decodeBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new WireFormatError(field, 'not a boolean');
  return value;
}

/** A node id field: must match `[A-Za-z0-9_.-]{1,64}`. */
export function decodeNodeId(value: unknown, field: string): NodeId {
  if (!isNodeId(value)) throw new WireFormatError(field, `not a node id (${JSON.stringify(String(value).slice(0, 80))})`);
  return value;
}

/** A group id field: a string of at most GROUP_ID_LENGTH_MAX units (matching is the caller's duty). */
export function decodeGroupId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > GROUP_ID_LENGTH_MAX) throw new WireFormatError(field, 'not a group id');
  return value;
}

function decodeNodeIds(value: unknown, field: string): NodeId[] {
  if (!Array.isArray(value)) throw new WireFormatError(field, 'not a list');
  return value.map((id: unknown, i) => decodeNodeId(id, `${field}[${i}]`));
}

function decodeMessageType(value: unknown, field: string): MessageType {
  const type = MESSAGE_TYPE_FROM_WIRE.get(value);
  if (type === undefined) throw new WireFormatError(field, `unknown message type ${String(value)}`);
  return type;
}

function decodeEntry(w: WireEntryOutput, field: string): Entry {
  const type = ENTRY_TYPE_FROM_WIRE.get(w.type as unknown);
  if (type === undefined) throw new WireFormatError(`${field}.type`, `unknown entry type ${String(w.type)}`);
  return {
    term: decodeUint64(w.term, `${field}.term`),
    index: decodeUint64(w.index, `${field}.index`),
    type,
    data: decodeBytes(w.data, `${field}.data`),
  };
}

function decodeConfState(w: WireConfStateOutput | null | undefined, field: string): ConfState {
  if (w === null || w === undefined) throw new WireFormatError(field, 'missing');
  return {
    voters: decodeNodeIds(w.voters, `${field}.voters`),
    votersOutgoing: decodeNodeIds(w.votersOutgoing, `${field}.votersOutgoing`),
    learners: decodeNodeIds(w.learners, `${field}.learners`),
    learnersNext: decodeNodeIds(w.learnersNext, `${field}.learnersNext`),
    autoLeave: decodeBoolean(w.autoLeave, `${field}.autoLeave`),
  };
}

/** Decode and check wire snapshot metadata. */
export function decodeSnapshotMeta(w: WireSnapshotMetaOutput | null | undefined, field: string): SnapshotMeta {
  if (w === null || w === undefined) throw new WireFormatError(field, 'missing');
  return {
    index: decodeUint64(w.index, `${field}.index`),
    term: decodeUint64(w.term, `${field}.term`),
    confState: decodeConfState(w.confState, `${field}.confState`),
  };
}

/**
 * Decode and check a wire message. `snapshot` is accepted on MsgSnap only and required there.
 * Group and recipient matching are the caller's duty.
 */
export function decodeMessage(w: WireMessageOutput | null | undefined, field = 'message'): Message {
  if (w === null || w === undefined) throw new WireFormatError(field, 'missing');
  const type = decodeMessageType(w.type as unknown, `${field}.type`);
  const entriesIn: unknown = w.entries;
  if (!Array.isArray(entriesIn)) throw new WireFormatError(`${field}.entries`, 'not a list');
  const entries = (entriesIn as WireEntryOutput[]).map((e, i) => decodeEntry(e, `${field}.entries[${i}]`));
  const commitOnly = decodeBoolean(w.commitOnly, `${field}.commitOnly`);
  if (commitOnly && (type !== 'MsgApp' || entries.length > 0)) throw new WireFormatError(`${field}.commitOnly`, `set on ${type} with ${entries.length} entries`);
  let snapshot: Snapshot | null = null;
  const wireSnapshot = w.snapshot;
  if (wireSnapshot !== null && wireSnapshot !== undefined) {
    if (type !== 'MsgSnap') throw new WireFormatError(`${field}.snapshot`, `present on ${type}`);
    snapshot = {
      meta: decodeSnapshotMeta(wireSnapshot.meta, `${field}.snapshot.meta`),
      data: decodeBytes(wireSnapshot.data, `${field}.snapshot.data`),
    };
  } else if (type === 'MsgSnap') {
    throw new WireFormatError(`${field}.snapshot`, 'missing on MsgSnap');
  }
  return {
    groupId: decodeGroupId(w.groupId, `${field}.groupId`),
    type,
    from: decodeNodeId(w.from, `${field}.from`),
    to: decodeNodeId(w.to, `${field}.to`),
    term: decodeUint64(w.term, `${field}.term`),
    logTerm: decodeUint64(w.logTerm, `${field}.logTerm`),
    index: decodeUint64(w.index, `${field}.index`),
    entries,
    commit: decodeUint64(w.commit, `${field}.commit`),
    reject: decodeBoolean(w.reject, `${field}.reject`),
    rejectHint: decodeUint64(w.rejectHint, `${field}.rejectHint`),
    snapshot,
    context: decodeBytes(w.context, `${field}.context`),
    commitOnly,
  };
}

/**
 * True when `name` is a relative path safe to join under a directory: `/`-separated
 * components, none empty, `.` or `..`, no backslash or NUL, at most
 * SNAPSHOT_FILE_PATH_LENGTH_MAX units. (The snapshot store applies its own, stricter rules.)
 */
export function isRelativeFilePath(name: string): boolean {
  if (name.length === 0 || name.length > SNAPSHOT_FILE_PATH_LENGTH_MAX || /[\\\0]/.test(name)) return false;
  return name.split('/').every((part) => part.length > 0 && part !== '.' && part !== '..');
}

/** Decode and check a file manifest: unique relative paths; safe sizes; uint32 checksums. */
export function decodeSnapshotFiles(value: unknown, field: string): SnapshotFileInfo[] {
  if (!Array.isArray(value)) throw new WireFormatError(field, 'not a list');
  if (value.length > SNAPSHOT_FILES_MAX) throw new WireFormatError(field, `more than ${SNAPSHOT_FILES_MAX} files`);
  const names = new Set<string>();
  return (value as WireSnapshotFileOutput[]).map((f, i) => {
    const name: unknown = f.name;
    if (typeof name !== 'string' || !isRelativeFilePath(name)) throw new WireFormatError(`${field}[${i}].name`, 'not a relative file path');
    if (names.has(name)) throw new WireFormatError(`${field}[${i}].name`, `duplicate ${name}`);
    names.add(name);
    return { name, bytes: decodeUint64(f.bytes, `${field}[${i}].bytes`), crc32c: decodeUint32(f.crc32c, `${field}[${i}].crc32c`) };
  });
}
