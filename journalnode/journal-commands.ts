/**
 * Commands of the journal state machine (the payload of Raft entries) and their results.
 *
 * Encoding (first byte = tag):
 * - empty entry or `0x00`: no-op;
 * - `0x01` + UTF-8 JSON: every rare command (format, newEpoch, startSegment, finalize, purge,
 *   lease ops), checked with zod when decoded;
 * - `0x02`: journal, the hot path, binary, little endian:
 *   `0x02 | version u8 (1) | idLength u8 | journalId | epoch u64 | firstTxId u64 | count u32 |
 *   crc32c u32 | framed records` (the records exactly as they will be appended to the
 *   segment file, so applying is one append). Decoding does not copy the records: the
 *   command's `records` is a view into the entry.
 *
 * Decoding checks shapes and types only (InvalidArgumentError); the state machine checks the
 * meaning (ids, ranges, epochs, txids) when it applies.
 */
import { crc32c } from '@node-rs/crc32';
import { z } from 'zod';
import { crc32cCombine, rememberEntryDataCrc32c } from '../raft/crc32c.ts';
import type { JournalErrorWire } from './protocol/errors.ts';
import { InvalidArgumentError } from './protocol/errors.ts';
import { readTxId, writeTxId } from './protocol/records.ts';
import { roomBeforeRecords } from './protocol/journal-request.ts';

/** The namespace a journal belongs to (proto `NamespaceInfo`). Matching compares nsId and clusterId. */
export interface NamespaceInfo {
  readonly nsId: string;
  readonly clusterId: string;
  readonly blockPoolId: string;
  readonly layoutVersion: number;
}

/** Set the namespace of a journal; `force` wipes an existing one. */
export interface FormatCommand {
  readonly type: 'format';
  readonly journalId: string;
  readonly namespace: NamespaceInfo;
  readonly force: boolean;
}

/** Promise `epoch`; `writerId` ('' for none) makes a retry of the same promise idempotent. */
export interface NewEpochCommand {
  readonly type: 'newEpoch';
  readonly journalId: string;
  readonly namespace: NamespaceInfo;
  readonly epoch: number;
  readonly writerId: string;
}

/** Open `edits_inprogress_<txId>`. */
export interface StartSegmentCommand {
  readonly type: 'startSegment';
  readonly journalId: string;
  readonly epoch: number;
  readonly txId: number;
}

/** Append `count` framed records starting at `firstTxId`; `crc32c` covers `records`. */
export interface JournalCommand {
  readonly type: 'journal';
  readonly journalId: string;
  readonly epoch: number;
  readonly firstTxId: number;
  readonly count: number;
  readonly records: Uint8Array;
  readonly crc32c: number;
}

/** Finalize the segment starting at `firstTxId` at `lastTxId` (firstTxId - 1: drop an empty one). */
export interface FinalizeCommand {
  readonly type: 'finalize';
  readonly journalId: string;
  readonly epoch: number;
  readonly firstTxId: number;
  readonly lastTxId: number;
}

/** Delete finalized segments ending before `minTxIdToKeep`; `epoch` 0 skips the epoch check. */
export interface PurgeCommand {
  readonly type: 'purge';
  readonly journalId: string;
  readonly epoch: number;
  readonly minTxIdToKeep: number;
}

/** Take the lease for `ttlMs` at `nowMs` (the proposing leader's clock). */
export interface AcquireLeaseCommand {
  readonly type: 'acquireLease';
  readonly journalId: string;
  readonly leaseName: string;
  readonly candidate: string;
  readonly ttlMs: number;
  readonly nowMs: number;
}

/** Extend a held lease to `nowMs + ttlMs`. */
export interface RenewLeaseCommand {
  readonly type: 'renewLease';
  readonly journalId: string;
  readonly leaseName: string;
  readonly candidate: string;
  readonly token: number;
  readonly ttlMs: number;
  readonly nowMs: number;
}

/** Free a held lease. */
export interface ReleaseLeaseCommand {
  readonly type: 'releaseLease';
  readonly journalId: string;
  readonly leaseName: string;
  readonly candidate: string;
  readonly token: number;
  readonly nowMs: number;
}

/** Does nothing (a leader's barrier entry, a ReadIndex substitute). */
export interface NoopCommand {
  readonly type: 'noop';
}

/** Every command of the journal state machine. */
export type Command =
  | FormatCommand
  | NewEpochCommand
  | StartSegmentCommand
  | JournalCommand
  | FinalizeCommand
  | PurgeCommand
  | AcquireLeaseCommand
  | RenewLeaseCommand
  | ReleaseLeaseCommand
  | NoopCommand;

// ---------------------------------------------------------------------------------------------
// Results: each success has the fields of the proto message of the same name.

/** A segment as the protocol describes it (proto `SegmentInfo`). */
export interface SegmentInfo {
  readonly firstTxId: number;
  /** firstTxId - 1 for an empty in-progress segment. */
  readonly lastTxId: number;
  readonly inProgress: boolean;
  readonly epoch: number;
  readonly sizeBytes: number;
}

/** A lease as the protocol describes it (proto `Lease`). */
export interface LeaseInfo {
  readonly journalId: string;
  readonly leaseName: string;
  /** '' when free (or expired, in reads). */
  readonly holder: string;
  readonly token: number;
  readonly expiresAtMs: number;
  readonly remainingMs: number;
}

/** format: `alreadyFormatted` when an identical format of an empty journal was retried. */
export interface FormatResult {
  readonly alreadyFormatted: boolean;
}
/** newEpoch: the last segment (null when none) and txid, for the new writer's recovery. */
export interface NewEpochResult {
  readonly lastSegment: SegmentInfo | null;
  readonly lastTxId: number;
  readonly promisedEpoch: number;
}
/** startSegment: the opened segment; `duplicate` for a retry of the same empty segment. */
export interface StartSegmentResult {
  readonly segment: SegmentInfo;
  readonly duplicate: boolean;
}
/** journal: the batch's txids and the journal's last txid; `duplicate` for an exact retry. */
export interface JournalResult {
  readonly firstTxId: number;
  readonly count: number;
  readonly lastTxId: number;
  readonly duplicate: boolean;
}
/** finalize: the finalized segment (null when an empty one was dropped). */
export interface FinalizeResult {
  readonly segment: SegmentInfo | null;
  readonly alreadyFinalized: boolean;
  readonly dropped: boolean;
}
/** purge: segments deleted and the first txid still held (0 when none). */
export interface PurgeResult {
  readonly purgedSegments: number;
  readonly firstTxId: number;
}
/** Lease ops: the lease after the command; `released` when a release freed it. */
export interface LeaseResult {
  readonly lease: LeaseInfo;
  readonly released: boolean;
}
/** noop: nothing. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface NoopResult {}

/** A command's answer: success fields, or a typed wire error. Never an exception. */
export type CommandResult<T> = ({ readonly ok: true } & T) | { readonly ok: false; readonly error: JournalErrorWire };

/** The result type of each command type. */
export interface ResultOf {
  format: FormatResult;
  newEpoch: NewEpochResult;
  startSegment: StartSegmentResult;
  journal: JournalResult;
  finalize: FinalizeResult;
  purge: PurgeResult;
  acquireLease: LeaseResult;
  renewLease: LeaseResult;
  releaseLease: LeaseResult;
  noop: NoopResult;
}

// ---------------------------------------------------------------------------------------------
// Encoding

const tagNoop = 0x00;
const tagJson = 0x01;
const tagJournal = 0x02;
const journalVersion = 1;
/** Bytes of the binary journal header after the id: epoch, firstTxId, count, crc32c. */
const journalFixedBytes = 8 + 8 + 4 + 4;
/** Longest journal id the binary header can carry (the id format allows 64). */
const journalIdBytesMax = 255;

/** Encode a command as a Raft entry payload. Asserts (InvalidArgumentError) on unencodable numbers. */
export function encodeCommand(command: Command): Buffer {
  switch (command.type) {
    case 'noop':
      return Buffer.from([tagNoop]);
    case 'journal':
      return encodeJournal(command);
    default:
      return Buffer.concat([Buffer.from([tagJson]), Buffer.from(JSON.stringify(jsonFieldsOf(command)), 'utf8')]);
  }
}

/** Exactly the fields the decoder accepts (objects from elsewhere may carry more). */
function jsonFieldsOf(command: Exclude<Command, JournalCommand | NoopCommand>): Command {
  const namespaceOf = (ns: NamespaceInfo): NamespaceInfo => ({
    nsId: ns.nsId,
    clusterId: ns.clusterId,
    blockPoolId: ns.blockPoolId,
    layoutVersion: ns.layoutVersion,
  });
  const { journalId } = command;
  switch (command.type) {
    case 'format':
      return { type: 'format', journalId, namespace: namespaceOf(command.namespace), force: command.force };
    case 'newEpoch':
      return { type: 'newEpoch', journalId, namespace: namespaceOf(command.namespace), epoch: command.epoch, writerId: command.writerId };
    case 'startSegment':
      return { type: 'startSegment', journalId, epoch: command.epoch, txId: command.txId };
    case 'finalize':
      return { type: 'finalize', journalId, epoch: command.epoch, firstTxId: command.firstTxId, lastTxId: command.lastTxId };
    case 'purge':
      return { type: 'purge', journalId, epoch: command.epoch, minTxIdToKeep: command.minTxIdToKeep };
    case 'acquireLease': {
      const { leaseName, candidate, ttlMs, nowMs } = command;
      return { type: 'acquireLease', journalId, leaseName, candidate, ttlMs, nowMs };
    }
    case 'renewLease': {
      const { leaseName, candidate, token, ttlMs, nowMs } = command;
      return { type: 'renewLease', journalId, leaseName, candidate, token, ttlMs, nowMs };
    }
    case 'releaseLease': {
      const { leaseName, candidate, token, nowMs } = command;
      return { type: 'releaseLease', journalId, leaseName, candidate, token, nowMs };
    }
  }
}

/**
 * {@link encodeCommand} for a journal command whose `crc32c` was checked against its `records`
 * (the service's admission does): the entry's data CRC, which the WAL and the peer links use, is
 * then derived from it and the header's (raft/crc32c.ts), not computed by a pass over the batch.
 * Computed before the copy into the entry, it also covers the copy: a byte the copy got wrong
 * fails the WAL's check on read and the followers' on the link.
 */
export function encodeCheckedJournal(command: JournalCommand): Buffer {
  const data = encodeJournalInPlace(command) ?? encodeJournal(command);
  const headerBytes = data.byteLength - command.records.byteLength;
  rememberEntryDataCrc32c(data, crc32cCombine(crc32c(data.subarray(0, headerBytes)), command.crc32c, command.records.byteLength));
  return data;
}

/**
 * The entry of a journal command made in the gRPC message its records came in: the header is
 * written over the request's own fields before the records (journal-request.ts's
 * roomBeforeRecords), so the batch is not copied. Undefined when there is no such room.
 */
function encodeJournalInPlace(command: JournalCommand): Buffer | undefined {
  const records = command.records;
  const room = roomBeforeRecords(records);
  if (room === 0) return undefined;
  const id = Buffer.from(command.journalId, 'utf8');
  const headerBytes = 3 + id.byteLength + journalFixedBytes;
  if (room < headerBytes) return undefined;
  checkJournalHeader(command, id);
  const data = Buffer.from(records.buffer, records.byteOffset - headerBytes, headerBytes + records.byteLength);
  writeJournalHeader(data, command, id);
  return data;
}

function checkJournalHeader(command: JournalCommand, id: Buffer): void {
  if (id.byteLength === 0 || id.byteLength > journalIdBytesMax) throw new InvalidArgumentError(`journal id of ${id.byteLength} bytes`);
  for (const [name, value] of [['epoch', command.epoch], ['firstTxId', command.firstTxId]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`${name} ${value} is not a safe unsigned integer`);
  }
  for (const [name, value] of [['count', command.count], ['crc32c', command.crc32c]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new InvalidArgumentError(`${name} ${value} is not a u32`);
  }
}

/** Write a journal entry's header (3 + id + journalFixedBytes bytes) at the start of `out`. */
function writeJournalHeader(out: Buffer, command: JournalCommand, id: Buffer): void {
  out[0] = tagJournal;
  out[1] = journalVersion;
  out[2] = id.byteLength;
  id.copy(out, 3);
  const at = 3 + id.byteLength;
  writeTxId(out, command.epoch, at);
  writeTxId(out, command.firstTxId, at + 8);
  out.writeUInt32LE(command.count, at + 16);
  out.writeUInt32LE(command.crc32c, at + 20);
}

function encodeJournal(command: JournalCommand): Buffer {
  const id = Buffer.from(command.journalId, 'utf8');
  checkJournalHeader(command, id);
  const headerBytes = 3 + id.byteLength + journalFixedBytes;
  const out = Buffer.allocUnsafe(headerBytes + command.records.byteLength);
  writeJournalHeader(out, command, id);
  out.set(command.records, headerBytes);
  return out;
}

const uint = z.int().nonnegative();
const namespaceSchema = z.strictObject({
  nsId: z.string(),
  clusterId: z.string(),
  blockPoolId: z.string(),
  layoutVersion: z.int().min(-0x8000_0000).max(0x7fff_ffff),
});
const jsonCommandSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('format'), journalId: z.string(), namespace: namespaceSchema, force: z.boolean() }),
  z.strictObject({ type: z.literal('newEpoch'), journalId: z.string(), namespace: namespaceSchema, epoch: uint, writerId: z.string() }),
  z.strictObject({ type: z.literal('startSegment'), journalId: z.string(), epoch: uint, txId: uint }),
  z.strictObject({ type: z.literal('finalize'), journalId: z.string(), epoch: uint, firstTxId: uint, lastTxId: uint }),
  z.strictObject({ type: z.literal('purge'), journalId: z.string(), epoch: uint, minTxIdToKeep: uint }),
  z.strictObject({ type: z.literal('acquireLease'), journalId: z.string(), leaseName: z.string(), candidate: z.string(), ttlMs: uint, nowMs: uint }),
  z.strictObject({ type: z.literal('renewLease'), journalId: z.string(), leaseName: z.string(), candidate: z.string(), token: uint, ttlMs: uint, nowMs: uint }),
  z.strictObject({ type: z.literal('releaseLease'), journalId: z.string(), leaseName: z.string(), candidate: z.string(), token: uint, nowMs: uint }),
]);

// Compile-time check: every JSON schema decodes to a command type.
const _jsonDecodesToCommand: (value: z.infer<typeof jsonCommandSchema>) => Command = (value) => value;
void _jsonDecodesToCommand;

/**
 * Decode a Raft entry payload. Throws InvalidArgumentError on anything malformed (unknown tag,
 * bad JSON, wrong field types, numbers above 2^53 - 1, a truncated header).
 */
export function decodeCommand(bytes: Uint8Array): Command {
  if (bytes.byteLength === 0) return { type: 'noop' };
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (buf[0]) {
    case tagNoop:
      if (buf.byteLength !== 1) throw new InvalidArgumentError('no-op command with a payload');
      return { type: 'noop' };
    case tagJson:
      return decodeJson(buf);
    case tagJournal:
      return decodeJournal(buf);
    default:
      throw new InvalidArgumentError(`unknown command tag ${buf[0]}`);
  }
}

function decodeJson(buf: Buffer): Command {
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8', 1));
  } catch (error) {
    throw new InvalidArgumentError('command is not valid JSON', { cause: error });
  }
  const parsed = jsonCommandSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(`malformed command: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

function decodeJournal(buf: Buffer): JournalCommand {
  if (buf.byteLength < 3) throw new InvalidArgumentError('truncated journal command');
  if (buf[1] !== journalVersion) throw new InvalidArgumentError(`journal command version ${buf[1]}`);
  const idBytes = buf[2]!;
  const headerBytes = 3 + idBytes + journalFixedBytes;
  if (buf.byteLength < headerBytes) throw new InvalidArgumentError('truncated journal command header');
  const journalId = buf.toString('utf8', 3, 3 + idBytes);
  const at = 3 + idBytes;
  const epoch = readTxId(buf, at);
  const firstTxId = readTxId(buf, at + 8);
  if (epoch < 0 || firstTxId < 0) throw new InvalidArgumentError('journal command number above 2^53 - 1');
  return {
    type: 'journal',
    journalId,
    epoch,
    firstTxId,
    count: buf.readUInt32LE(at + 16),
    crc32c: buf.readUInt32LE(at + 20),
    records: buf.subarray(headerBytes),
  };
}
