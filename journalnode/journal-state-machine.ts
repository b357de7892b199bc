/**
 * The journal state machine: applied by the Raft runtime on every JournalNode, it keeps the
 * journals' epochs, segments and leases, and the segment files under `<dataDir>/journals/`.
 *
 * Determinism: every decision depends only on the state and the command (time comes from the
 * command's `nowMs`, tokens from the entry index); every replica applying the same entries from
 * the same snapshot ends with byte-identical segment files. A rejected command is a result
 * (`{ ok: false, error }`), never an exception, and is checked completely before any file is
 * touched. A thrown error (an I/O failure) is fatal to the node.
 *
 * Durability: apply does not wait for fsyncs of segment files (the Raft log is the durable
 * source of truth; after a crash the runtime restores the latest snapshot and replays the log;
 * the segment writer's write-behind only keeps dirty pages few). Snapshots fsync
 * every file they hold. Because of that, the content of `<dataDir>/journals` found at startup is
 * not state: the first `apply` or `restore` moves it to `<dataDir>/journals.previous` (one
 * generation kept for forensics) and rebuilds from scratch.
 *
 * Visibility: reads (manifest, edits, journal state) see a view published at the end of each
 * `apply`, once the appended bytes are written, so a reader never sees an edit whose bytes are
 * not in the file yet. Everything applied is committed: readers never see an edit that could be
 * lost.
 *
 * Checks at apply, in order (design section 4):
 * - format(ns, force): a valid id and namespace; an existing journal is refused
 *   (ALREADY_FORMATTED) unless `force` (wipes segments and txids, keeps epochs: they never go
 *   down); an identical re-format of a journal holding no data and no promise is acknowledged.
 * - newEpoch(ns, e): formatted; namespace matches (nsId, clusterId); e > promised, or
 *   e == promised from the same non-empty writerId (a retry). Returns the last segment.
 * - startSegment(e, txid): e == promised; no open segment (a retry of the same empty segment by
 *   the same epoch is acknowledged); txid == lastTxId + 1. Sets writerEpoch = e.
 * - journal(e, first, count, records, crc): valid counts and sizes; e == promised; an exact
 *   retry (same first, epoch, count, crc as one of the last {@link recentBatchesMax} applied
 *   batches) is acknowledged without writing; the open segment was opened by e; first ==
 *   lastTxId + 1; the records' framing valid (their CRCs and the batch's were checked at
 *   admission, and the Raft log keeps an entry's bytes intact). Then one append.
 * - finalize(e, first, last): e == promised; the open segment starts at first and ends at last
 *   (an empty one, last == first - 1, is deleted rather than renamed); an identical finalized
 *   segment, or an already dropped empty one, is acknowledged.
 * - purge(e, minTxIdToKeep): e == 0 (operator) or e == promised; deletes finalized segments
 *   ending before minTxIdToKeep.
 * - lease ops: see journal-leases.ts.
 */
import { link, mkdir, open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import type { AppliedEntry, SnapshotCompletion, SnapshotFilePrefix, StateMachine } from '../raft/state-machine.ts';
import type { SnapshotMeta } from '../raft/core/types.ts';
import type { JournalErrorCode, JournalErrorFields, JournalErrorWire } from './protocol/errors.ts';
import { CorruptRecordsError, InvalidArgumentError, journalErrorWire } from './protocol/errors.ts';
import { batchBytesMax, batchRecordsMax, isSafeUint, journalIdPattern, namespaceFieldCharsMax, writerIdPattern } from './protocol/limits.ts';
import { checkBatchShape, validateFramed } from './protocol/records.ts';
import type {
  Command,
  CommandResult,
  FinalizeCommand,
  FinalizeResult,
  FormatCommand,
  FormatResult,
  JournalCommand,
  JournalResult,
  LeaseInfo,
  NamespaceInfo,
  NewEpochCommand,
  NewEpochResult,
  PurgeCommand,
  PurgeResult,
  SegmentInfo,
  StartSegmentCommand,
  StartSegmentResult,
} from './journal-commands.ts';
import { decodeCommand } from './journal-commands.ts';
import { LeaseTable } from './journal-leases.ts';
import type { SnapshotJournal, SnapshotMetaFile } from './journal-snapshot.ts';
import { readSnapshotMeta, SnapshotFormatError, snapshotJournalDir, writeSnapshotMeta } from './journal-snapshot.ts';
import { readSegmentRange, SegmentIndex } from './segment-index.ts';
import { SegmentWriter } from './segment-writer.ts';
import { copyFilePrefix, finalizedFileName, fsyncDirectory, fsyncFile, inProgressFileName, journalCurrentDir } from './segments.ts';

/** Exact retries are recognised among this many most recent batches per journal. */
export const recentBatchesMax = 1024;

/** Attempts of a read that finds a file renamed or deleted under it by a concurrent apply. */
export const readAttemptsMax = 3;

/** Most records one `readEdits` returns. */
export const readRecordsMax = batchRecordsMax;

/** Most framed bytes one `readEdits` returns (one record more when a single record is larger). */
export const readBytesMax = batchBytesMax;

/** The logger the state machine reports to (a pino logger fits). */
export interface JournalLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** Options of {@link JournalStateMachine}. */
export interface JournalStateMachineOptions {
  /** The node's data directory; the state machine owns `<dataDir>/journals*`. */
  readonly dataDir: string;
  readonly log?: JournalLog;
  /**
   * TEST ONLY canary (test-hooks.ts, `QJM_CANARY=skip-epoch-check`): apply Journal batches
   * without the epoch checks. Lets a fenced writer write.
   */
  readonly canarySkipEpochCheck?: boolean;
}

/**
 * What `onApplied` listeners hear, after the bytes are written and the view published, in
 * apply order. `journal`: one applied batch (records are a view into the Raft entry: copy them
 * to keep them). `reset`: the journal's data was replaced (force format, snapshot restore):
 * tailers must re-read from their position.
 */
export type AppliedEvent =
  | { readonly type: 'journal'; readonly journalId: string; readonly firstTxId: number; readonly count: number; readonly records: Uint8Array }
  | { readonly type: 'reset'; readonly journalId: string };

/** The state of one journal as reads see it (proto `JournalState`). */
export interface JournalStateInfo {
  readonly journalId: string;
  readonly namespace: NamespaceInfo;
  readonly promisedEpoch: number;
  readonly writerEpoch: number;
  readonly lastTxId: number;
  /** The first txid held (0 when no segment holds any). */
  readonly firstTxId: number;
  readonly openSegment: SegmentInfo | null;
  readonly appliedIndex: number;
}

/** A manifest (proto `EditLogManifest`). */
export interface EditLogManifest {
  readonly segments: SegmentInfo[];
  readonly lastTxId: number;
}

/** Framed records read from a journal (proto `JournaledEdits`). */
export interface JournaledEdits {
  readonly firstTxId: number;
  readonly count: number;
  readonly records: Buffer;
  readonly crc32c: number;
  readonly lastTxId: number;
}

/** One segment of the live state. For an in-progress one, lastTxId and sizeBytes grow. */
interface SegmentState {
  readonly firstTxId: number;
  lastTxId: number;
  readonly epoch: number;
  sizeBytes: number;
  readonly index: SegmentIndex;
  /** True once the file is known fsynced (finalized files are fsynced once, at their first snapshot). */
  durable: boolean;
  /**
   * CRC-32C of the whole file, for a segment this process finalized (its writer kept it) or
   * restored from a snapshot whose metadata carried it: a snapshot declares the file with it and
   * the store never reads it back. Unknown (undefined) for segments restored from a snapshot of
   * an earlier version: the store reads those once.
   */
  crc32c?: number | undefined;
}

interface RecentBatch {
  readonly epoch: number;
  readonly count: number;
  readonly crc32c: number;
}

/** One journal of the live state (mutated only by apply and restore). */
interface JournalLive {
  readonly journalId: string;
  readonly dir: string;
  namespace: NamespaceInfo;
  promisedEpoch: number;
  promisedBy: string;
  writerEpoch: number;
  lastTxId: number;
  /** Ascending, contiguous. Replaced (never mutated) when it changes. */
  finalized: readonly SegmentState[];
  open: SegmentState | undefined;
  writer: SegmentWriter | undefined;
  /** firstTxId -> batch, oldest first; at most recentBatchesMax. */
  readonly recent: Map<number, RecentBatch>;
}

/** An immutable segment as reads see it. */
interface SegmentView extends SegmentInfo {
  readonly path: string;
  readonly index: SegmentIndex;
}

/** An immutable journal as reads see it. */
interface JournalView {
  readonly journalId: string;
  readonly namespace: NamespaceInfo;
  readonly promisedEpoch: number;
  readonly writerEpoch: number;
  readonly lastTxId: number;
  readonly finalized: readonly SegmentView[];
  readonly open: SegmentView | undefined;
}

type Failure = { readonly ok: false; readonly error: JournalErrorWire };

function fail(code: JournalErrorCode, message: string, fields?: JournalErrorFields): Failure {
  return { ok: false, error: journalErrorWire(code, message, fields) };
}

function infoOf(segment: SegmentInfo): SegmentInfo {
  return {
    firstTxId: segment.firstTxId,
    lastTxId: segment.lastTxId,
    inProgress: segment.inProgress,
    epoch: segment.epoch,
    sizeBytes: segment.sizeBytes,
  };
}

function stateInfo(segment: SegmentState, inProgress: boolean): SegmentInfo {
  return { firstTxId: segment.firstTxId, lastTxId: segment.lastTxId, inProgress, epoch: segment.epoch, sizeBytes: segment.sizeBytes };
}

function sameNamespace(a: NamespaceInfo, b: NamespaceInfo): boolean {
  return a.nsId === b.nsId && a.clusterId === b.clusterId;
}

function identicalNamespace(a: NamespaceInfo, b: NamespaceInfo): boolean {
  return sameNamespace(a, b) && a.blockPoolId === b.blockPoolId && a.layoutVersion === b.layoutVersion;
}

function checkJournalId(journalId: string): Failure | undefined {
  return journalIdPattern.test(journalId) ? undefined : fail('INVALID_ARGUMENT', `invalid journal id ${JSON.stringify(journalId)}`);
}

function checkNamespace(ns: NamespaceInfo): Failure | undefined {
  if (ns.nsId.length === 0 || ns.clusterId.length === 0) return fail('INVALID_ARGUMENT', 'namespace needs an nsId and a clusterId');
  for (const value of [ns.nsId, ns.clusterId, ns.blockPoolId]) {
    if (value.length > namespaceFieldCharsMax) return fail('INVALID_ARGUMENT', `namespace field above ${namespaceFieldCharsMax} characters`);
  }
  return undefined;
}

function checkUint(name: string, value: number, min: number): Failure | undefined {
  return isSafeUint(value) && value >= min ? undefined : fail('INVALID_ARGUMENT', `invalid ${name} ${value}`);
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** The Raft state machine of a JournalNode. See the module comment for the rules. */
export class JournalStateMachine implements StateMachine {
  readonly dataDir: string;
  private readonly log: JournalLog | undefined;
  private readonly journalsDir: string;
  /** TEST ONLY canary: see JournalStateMachineOptions.canarySkipEpochCheck. */
  private readonly canarySkipEpochCheck: boolean;
  private journals = new Map<string, JournalLive>();
  private leases = new LeaseTable();
  private appliedIndex = 0;
  private initialized = false;
  private busy = false;
  private closed = false;

  // Published for reads.
  private views = new Map<string, JournalView>();
  private publishedIndex = 0;
  private publishWaiters: (() => void)[] = [];
  private readonly listeners = new Set<(event: AppliedEvent) => void>();

  // Collected during one apply.
  private dirty = new Set<string>();
  private finalizedDirty = new Set<string>();
  private pendingEvents: AppliedEvent[] = [];

  constructor(options: JournalStateMachineOptions) {
    this.dataDir = options.dataDir;
    this.log = options.log;
    this.canarySkipEpochCheck = options.canarySkipEpochCheck === true;
    this.journalsDir = join(options.dataDir, 'journals');
  }

  // -------------------------------------------------------------------------------------------
  // StateMachine

  /** Apply committed entries in order; one result per entry (a {@link CommandResult}). */
  async apply(entries: readonly AppliedEntry[]): Promise<unknown[]> {
    this.enter('apply');
    const results: unknown[] = [];
    try {
      await this.ensureInitialized();
      for (const entry of entries) {
        if (!Number.isSafeInteger(entry.index) || entry.index <= this.appliedIndex) {
          throw new Error(`apply: entry index ${entry.index} after ${this.appliedIndex}`);
        }
        results.push(await this.applyEntry(entry));
        this.appliedIndex = entry.index;
      }
      for (const journalId of this.dirty) await this.journals.get(journalId)?.writer?.flush();
      this.publish();
    } finally {
      this.leave();
    }
    this.emitPending();
    return results;
  }

  /**
   * Snapshot the state as of the last applied entry into the empty directory `dir`:
   * `journal-state.json` plus `journals/<id>/<segment files>`. In two steps, so applies wait
   * only for the first:
   * - capture (now, between applies): finalized segments are hard-linked into `dir` (never
   *   rewritten, and a link keeps a purged one; one this process finalized is declared with the
   *   CRC its writer kept, so the store does not read it back); so is the in-progress segment, with its applied
   *   length and that prefix's CRC (kept by its writer) noted: a segment file is only ever
   *   appended to (a new segment is a new file, never one truncated in place: see
   *   SegmentWriter.create), so the prefix stays what it is while appends go on after it. The
   *   metadata is built in memory;
   * - the returned completion (while later entries apply): fsync the linked segments not yet
   *   durable, write the metadata, fsync every file and directory written, and resolve with the
   *   in-progress segment as a prefix file (raft/storage/snapshot-store.ts: the store records
   *   its declared size and CRC, fsyncs it, and sends, checks and restores only that prefix).
   *   It touches only `dir` and what the capture holds.
   * Where a link cannot be made (another file system), the in-progress segment is copied up to
   * its noted length instead, from a handle opened at capture.
   *
   * A snapshot used to copy the in-progress segment: up to the segment's size at every
   * snapshot, which grows with the segments a master writes (see the journalnode README).
   */
  async snapshot(dir: string): Promise<SnapshotCompletion> {
    this.enter('snapshot');
    const pinned: { handle: FileHandle; source: string; target: string; sizeBytes: number }[] = [];
    const prefixes = new Map<string, SnapshotFilePrefix>();
    // A linked segment file, declared to the store by its path inside the snapshot.
    const declare = (journalId: string, name: string, bytes: number, crc: number): void => {
      prefixes.set(`journals/${journalId}/${name}`, { bytes, crc32c: crc });
    };
    const unsynced: { path: string; segment: { durable: boolean } }[] = [];
    const dirs: string[] = [];
    let meta: SnapshotMetaFile;
    try {
      await this.ensureInitialized();
      const journals: SnapshotJournal[] = [];
      for (const journal of [...this.journals.values()].sort((a, b) => (a.journalId < b.journalId ? -1 : 1))) {
        await journal.writer?.flush();
        const target = snapshotJournalDir(dir, journal.journalId);
        await mkdir(target, { recursive: true });
        dirs.push(target);
        for (const segment of journal.finalized) {
          const name = finalizedFileName(segment.firstTxId, segment.lastTxId);
          const linked = await linkOrCopy(join(journal.dir, name), join(target, name), segment.sizeBytes);
          if (linked && !segment.durable) unsynced.push({ path: join(target, name), segment });
          // A finalized file never changes: declared whole, with the CRC its writer kept.
          if (segment.crc32c !== undefined) declare(journal.journalId, name, segment.sizeBytes, segment.crc32c);
        }
        if (journal.open !== undefined) {
          const name = inProgressFileName(journal.open.firstTxId);
          const source = join(journal.dir, name);
          const sizeBytes = journal.open.sizeBytes;
          const writer = journal.writer;
          if (writer !== undefined && writer.lengthBytes !== sizeBytes) throw new Error(`${source}: writer at ${writer.lengthBytes} bytes, segment at ${sizeBytes}`);
          // Linked with the CRC its writer kept; copied where that cannot be (no writer, another file system).
          if (writer !== undefined && (await linkIfPossible(source, join(target, name)))) {
            declare(journal.journalId, name, sizeBytes, writer.crc32c);
          } else {
            pinned.push({ handle: await open(source, 'r'), source, target: join(target, name), sizeBytes });
          }
        }
        journals.push(this.snapshotJournal(journal));
      }
      meta = { version: 1, appliedIndex: this.appliedIndex, leases: { clockMs: this.leases.clockMs, leases: [...this.leases.toState().leases] }, journals };
    } catch (error) {
      await Promise.all(pinned.map((p) => p.handle.close().catch(() => undefined)));
      throw error;
    } finally {
      this.leave();
    }
    return async () => {
      try {
        for (const { path, segment } of unsynced) {
          await fsyncFile(path);
          segment.durable = true;
        }
        for (const p of pinned) await copyFilePrefix(p.handle, p.target, p.sizeBytes, true, p.source);
      } finally {
        await Promise.all(pinned.map((p) => p.handle.close().catch(() => undefined)));
      }
      for (const target of dirs) await fsyncDirectory(target);
      if (dirs.length > 0) await fsyncDirectory(join(dir, 'journals'));
      await writeSnapshotMeta(dir, meta);
      await fsyncDirectory(dir);
      return prefixes;
    };
  }

  /**
   * Replace the whole state by the snapshot in `dir` (taken at `meta.index`): the live
   * `journals/` directory is rebuilt from the snapshot's files (finalized ones hard-linked,
   * the in-progress one copied, so appends never touch the snapshot). Throws
   * SnapshotFormatError when the snapshot is malformed; the live state is then unchanged.
   */
  async restore(dir: string, meta: SnapshotMeta): Promise<void> {
    this.enter('restore');
    try {
      await this.ensureInitialized();
      const file = await readSnapshotMeta(dir);
      if (file.appliedIndex > meta.index) throw new SnapshotFormatError(dir, `applied index ${file.appliedIndex} above the snapshot index ${meta.index}`);
      const staging = `${this.journalsDir}.restoring`;
      await rm(staging, { recursive: true, force: true });
      await mkdir(staging, { recursive: true });
      const linked = new Map<string, boolean>();
      const openCrcs = new Map<string, number>();
      for (const journal of file.journals) {
        const source = snapshotJournalDir(dir, journal.journalId);
        const target = join(staging, journal.journalId, 'current');
        await mkdir(target, { recursive: true });
        for (const segment of journal.segments) {
          const name = segment.inProgress ? inProgressFileName(segment.firstTxId) : finalizedFileName(segment.firstTxId, segment.lastTxId);
          const from = join(source, name);
          const size = await stat(from).then((s) => s.size, () => -1);
          // An in-progress segment may be linked to a file that grew after the snapshot: its
          // first sizeBytes bytes are the snapshot's (see snapshot()).
          if (segment.inProgress ? size < segment.sizeBytes : size !== segment.sizeBytes) {
            throw new SnapshotFormatError(dir, `${from}: ${size} bytes, expected ${segment.sizeBytes}`);
          }
          if (segment.inProgress) openCrcs.set(journal.journalId, await copyFilePrefix(from, join(target, name), segment.sizeBytes, false));
          else linked.set(`${journal.journalId}/${name}`, await linkOrCopy(from, join(target, name), segment.sizeBytes));
        }
      }
      // Past this point the old state is gone: a failure is fatal to the node.
      await this.closeWriters();
      const before = [...this.journals.keys()];
      await rm(this.journalsDir, { recursive: true, force: true });
      await rename(staging, this.journalsDir);
      this.journals = new Map();
      for (const journal of file.journals) this.journals.set(journal.journalId, await this.liveJournal(journal, linked, openCrcs.get(journal.journalId) ?? 0));
      this.leases = LeaseTable.fromState(file.leases);
      this.appliedIndex = meta.index;
      this.views = new Map();
      this.dirty = new Set(this.journals.keys());
      this.finalizedDirty = new Set(this.journals.keys());
      this.pendingEvents = [...new Set([...before, ...this.journals.keys()])].map((journalId) => ({ type: 'reset', journalId }));
      this.publish();
    } finally {
      this.leave();
    }
    this.emitPending();
    this.log?.info({ dir, index: meta.index, journals: this.journals.size }, 'journal state restored from snapshot');
  }

  /**
   * Flush and close every segment writer (shutdown). Idempotent. Afterwards apply, snapshot and
   * restore throw; reads keep answering from the last published view.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.enter('close');
    try {
      await this.closeWriters();
    } finally {
      this.closed = true;
      this.leave();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reads (committed data only; any JournalNode may serve them)

  /** Subscribe to applied batches and resets; returns the unsubscribe function. */
  onApplied(listener: (event: AppliedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The ids of every formatted journal, sorted. */
  listJournals(): string[] {
    return [...this.views.keys()].sort();
  }

  /** The Raft index of the last entry whose effects reads can see. */
  get lastAppliedIndex(): number {
    return this.publishedIndex;
  }

  /** A journal's epochs, namespace and txid range. */
  getJournalState(journalId: string): CommandResult<JournalStateInfo> {
    const view = this.viewOf(journalId);
    if (!('journalId' in view)) return view;
    const first = view.finalized[0] ?? view.open;
    return {
      ok: true,
      journalId,
      namespace: view.namespace,
      promisedEpoch: view.promisedEpoch,
      writerEpoch: view.writerEpoch,
      lastTxId: view.lastTxId,
      firstTxId: first !== undefined && first.lastTxId >= first.firstTxId ? first.firstTxId : 0,
      openSegment: view.open === undefined ? null : infoOf(view.open),
      appliedIndex: this.publishedIndex,
    };
  }

  /**
   * The segments holding txids >= `sinceTxId`: finalized ones ascending, then the in-progress
   * one (included when it holds such txids or starts at or after `sinceTxId`, even empty).
   */
  getManifest(journalId: string, sinceTxId: number): CommandResult<EditLogManifest> {
    const bad = checkUint('since txid', sinceTxId, 0);
    if (bad !== undefined) return bad;
    const view = this.viewOf(journalId);
    if (!('journalId' in view)) return view;
    const segments: SegmentInfo[] = [];
    for (const segment of view.finalized) if (segment.lastTxId >= sinceTxId) segments.push(infoOf(segment));
    const open = view.open;
    if (open !== undefined && (open.lastTxId >= sinceTxId || open.firstTxId >= sinceTxId)) segments.push(infoOf(open));
    return { ok: true, segments, lastTxId: view.lastTxId };
  }

  /**
   * Framed records from `fromTxId`, across segments, at most `maxCount` records and `maxBytes`
   * framed bytes (but at least one record when one is available). An empty answer when
   * fromTxId > lastTxId; EDITS_UNAVAILABLE below the first txid held.
   */
  async readEdits(journalId: string, fromTxId: number, maxCount: number, maxBytes: number): Promise<CommandResult<JournaledEdits>> {
    const bad =
      checkUint('from txid', fromTxId, 1) ??
      (isSafeUint(maxCount) && maxCount >= 1 && maxCount <= readRecordsMax ? undefined : fail('INVALID_ARGUMENT', `invalid max count ${maxCount} (1 .. ${readRecordsMax})`)) ??
      (isSafeUint(maxBytes) && maxBytes >= 1 && maxBytes <= readBytesMax ? undefined : fail('INVALID_ARGUMENT', `invalid max bytes ${maxBytes} (1 .. ${readBytesMax})`));
    if (bad !== undefined) return bad;
    for (let attempt = 1; ; attempt += 1) {
      const view = this.viewOf(journalId);
      if (!('journalId' in view)) return view;
      try {
        return await this.readFromView(view, fromTxId, maxCount, maxBytes);
      } catch (error) {
        if (!isNotFound(error) || attempt >= readAttemptsMax) {
          this.log?.warn({ journalId, fromTxId, err: error }, 'read of journaled edits failed');
          return fail(isNotFound(error) ? 'UNAVAILABLE' : 'INTERNAL', `read failed: ${(error as Error).message}`);
        }
        // A file renamed (finalize) or deleted (purge, format) by an apply still running: wait
        // for its view, or retry at once if it is already published.
        if (this.views.get(journalId) === view) {
          if (!this.busy) return fail('INTERNAL', `read failed: ${(error as Error).message}`);
          await new Promise<void>((resolve) => this.publishWaiters.push(resolve));
        }
      }
    }
  }

  /** The lease (journalId, leaseName) as seen at `nowMs` (the caller's clock). */
  getLease(journalId: string, leaseName: string, nowMs: number): CommandResult<{ lease: LeaseInfo; released: boolean }> {
    const bad = checkJournalId(journalId) ?? checkUint('time', nowMs, 0);
    if (bad !== undefined) return bad;
    return { ok: true, lease: this.leases.get(journalId, leaseName, nowMs), released: false };
  }

  // -------------------------------------------------------------------------------------------
  // Apply

  private async applyEntry(entry: AppliedEntry): Promise<unknown> {
    let command: Command;
    try {
      command = decodeCommand(entry.data);
    } catch (error) {
      if (error instanceof InvalidArgumentError) return fail('INVALID_ARGUMENT', error.message);
      throw error;
    }
    switch (command.type) {
      case 'noop':
        return { ok: true };
      case 'format':
        return this.applyFormat(command);
      case 'newEpoch':
        return this.applyNewEpoch(command);
      case 'startSegment':
        return this.applyStartSegment(command);
      case 'journal':
        return this.applyJournal(command);
      case 'finalize':
        return this.applyFinalize(command);
      case 'purge':
        return this.applyPurge(command);
      case 'acquireLease':
        return this.leases.acquire(command, entry.index);
      case 'renewLease':
        return this.leases.renew(command);
      case 'releaseLease':
        return this.leases.release(command);
    }
  }

  /** The journal, or the failure that a write to it gets (bad id, not formatted). */
  private writable(journalId: string): JournalLive | Failure {
    const bad = checkJournalId(journalId);
    if (bad !== undefined) return bad;
    return this.journals.get(journalId) ?? fail('NOT_FORMATTED', `journal ${journalId} is not formatted`);
  }

  /** EPOCH_FENCED below the promise, EPOCH_NOT_PROMISED above it. */
  private checkEpoch(journal: JournalLive, epoch: number): Failure | undefined {
    if (epoch < journal.promisedEpoch) {
      return fail('EPOCH_FENCED', `epoch ${epoch} is fenced: epoch ${journal.promisedEpoch} is promised`, { promisedEpoch: journal.promisedEpoch });
    }
    if (epoch > journal.promisedEpoch) {
      return fail('EPOCH_NOT_PROMISED', `epoch ${epoch} was not promised (promised: ${journal.promisedEpoch}); call newEpoch first`, {
        promisedEpoch: journal.promisedEpoch,
      });
    }
    return undefined;
  }

  private async applyFormat(command: FormatCommand): Promise<CommandResult<FormatResult>> {
    const bad = checkJournalId(command.journalId) ?? checkNamespace(command.namespace);
    if (bad !== undefined) return bad;
    const existing = this.journals.get(command.journalId);
    if (existing !== undefined && !command.force) {
      const empty = existing.finalized.length === 0 && existing.open === undefined && existing.lastTxId === 0 && existing.promisedEpoch === 0;
      if (empty && identicalNamespace(existing.namespace, command.namespace)) return { ok: true, alreadyFormatted: true };
      return fail('ALREADY_FORMATTED', `journal ${command.journalId} is already formatted (use force to wipe it)`);
    }
    const dir = journalCurrentDir(this.dataDir, command.journalId);
    await existing?.writer?.close();
    await rm(join(this.journalsDir, command.journalId), { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    this.journals.set(command.journalId, {
      journalId: command.journalId,
      dir,
      namespace: { ...command.namespace },
      promisedEpoch: existing?.promisedEpoch ?? 0,
      promisedBy: existing?.promisedBy ?? '',
      writerEpoch: existing?.writerEpoch ?? 0,
      lastTxId: 0,
      finalized: [],
      open: undefined,
      writer: undefined,
      recent: new Map(),
    });
    this.markDirty(command.journalId, true);
    if (existing !== undefined) this.pendingEvents.push({ type: 'reset', journalId: command.journalId });
    this.log?.info({ journalId: command.journalId, force: command.force }, 'journal formatted');
    return { ok: true, alreadyFormatted: false };
  }

  private applyNewEpoch(command: NewEpochCommand): CommandResult<NewEpochResult> {
    const journal = this.writable(command.journalId);
    if (!('journalId' in journal)) return journal;
    const bad =
      checkNamespace(command.namespace) ??
      checkUint('epoch', command.epoch, 1) ??
      (writerIdPattern.test(command.writerId) ? undefined : fail('INVALID_ARGUMENT', 'invalid writer id (0 to 256 printable ASCII characters)'));
    if (bad !== undefined) return bad;
    if (!sameNamespace(journal.namespace, command.namespace)) {
      return fail('NAMESPACE_MISMATCH', `namespace ${command.namespace.nsId}/${command.namespace.clusterId} does not match the journal's ${journal.namespace.nsId}/${journal.namespace.clusterId}`);
    }
    const retry = command.epoch === journal.promisedEpoch && command.writerId !== '' && command.writerId === journal.promisedBy;
    if (command.epoch <= journal.promisedEpoch && !retry) {
      return fail('EPOCH_FENCED', `epoch ${command.epoch} is not above the promised epoch ${journal.promisedEpoch}`, { promisedEpoch: journal.promisedEpoch });
    }
    journal.promisedEpoch = command.epoch;
    journal.promisedBy = command.writerId;
    this.markDirty(journal.journalId, false);
    const last = journal.open ?? journal.finalized.at(-1);
    return {
      ok: true,
      lastSegment: last === undefined ? null : stateInfo(last, last === journal.open),
      lastTxId: journal.lastTxId,
      promisedEpoch: journal.promisedEpoch,
    };
  }

  private async applyStartSegment(command: StartSegmentCommand): Promise<CommandResult<StartSegmentResult>> {
    const journal = this.writable(command.journalId);
    if (!('journalId' in journal)) return journal;
    const bad = checkUint('epoch', command.epoch, 1) ?? checkUint('txid', command.txId, 1) ?? this.checkEpoch(journal, command.epoch);
    if (bad !== undefined) return bad;
    const open = journal.open;
    if (open !== undefined) {
      if (open.firstTxId === command.txId && open.epoch === command.epoch && open.lastTxId < open.firstTxId) {
        return { ok: true, segment: stateInfo(open, true), duplicate: true };
      }
      return fail('SEGMENT_ALREADY_OPEN', `segment ${open.firstTxId} (epoch ${open.epoch}) is open; finalize it first`);
    }
    if (command.txId !== journal.lastTxId + 1) {
      return fail('OUT_OF_ORDER', `segment must start at txid ${journal.lastTxId + 1}, not ${command.txId}`, { expectedTxId: journal.lastTxId + 1 });
    }
    journal.writer = await SegmentWriter.create(join(journal.dir, inProgressFileName(command.txId)));
    journal.open = {
      firstTxId: command.txId,
      lastTxId: command.txId - 1,
      epoch: command.epoch,
      sizeBytes: 0,
      index: new SegmentIndex(command.txId),
      durable: false,
    };
    journal.writerEpoch = command.epoch;
    this.markDirty(journal.journalId, false);
    return { ok: true, segment: stateInfo(journal.open, true), duplicate: false };
  }

  private async applyJournal(command: JournalCommand): Promise<CommandResult<JournalResult>> {
    const journal = this.writable(command.journalId);
    if (!('journalId' in journal)) return journal;
    const { epoch, firstTxId, count, records } = command;
    let bad = checkUint('epoch', epoch, 1);
    if (bad === undefined) {
      try {
        checkBatchShape(records.byteLength, firstTxId, count);
      } catch (error) {
        if (!(error instanceof InvalidArgumentError)) throw error;
        bad = fail('INVALID_ARGUMENT', error.message);
      }
    }
    if (!this.canarySkipEpochCheck) bad ??= this.checkEpoch(journal, epoch);
    if (bad !== undefined) return bad;
    const recent = journal.recent.get(firstTxId);
    const lastOfBatch = firstTxId + count - 1;
    if (recent !== undefined && lastOfBatch <= journal.lastTxId && recent.epoch === epoch && recent.count === count && recent.crc32c === command.crc32c) {
      return { ok: true, firstTxId, count, lastTxId: journal.lastTxId, duplicate: true };
    }
    const open = journal.open;
    if (open === undefined || (open.epoch !== epoch && !this.canarySkipEpochCheck) || journal.writer === undefined) {
      return fail('SEGMENT_NOT_OPEN', `no segment open for epoch ${epoch}`);
    }
    if (firstTxId !== journal.lastTxId + 1) {
      return fail('OUT_OF_ORDER', `batch starts at txid ${firstTxId}, expected ${journal.lastTxId + 1}`, { expectedTxId: journal.lastTxId + 1 });
    }
    try {
      // Framing only, and no checksum: the proposer checked every record's CRC and the batch's
      // (qjournal-service), and the Raft layer delivers an entry's bytes unchanged (CRCs on the
      // peer links and in the WAL). A check here could only find damage one node saw, and
      // answering it would make that node's journal differ from the others'.
      validateFramed(records, firstTxId, count, false);
    } catch (error) {
      if (error instanceof CorruptRecordsError || error instanceof InvalidArgumentError) return fail(error.code, error.message);
      throw error;
    }
    // Every check passed: one append, then the state.
    const offset = open.sizeBytes;
    await journal.writer.append(records, command.crc32c);
    open.index.noteAppend(offset, records, firstTxId, count);
    open.sizeBytes += records.byteLength;
    open.lastTxId = lastOfBatch;
    journal.lastTxId = lastOfBatch;
    journal.recent.set(firstTxId, { epoch, count, crc32c: command.crc32c });
    if (journal.recent.size > recentBatchesMax) {
      const oldest = journal.recent.keys().next();
      if (oldest.done !== true) journal.recent.delete(oldest.value);
    }
    this.markDirty(journal.journalId, false);
    this.pendingEvents.push({ type: 'journal', journalId: journal.journalId, firstTxId, count, records });
    return { ok: true, firstTxId, count, lastTxId: lastOfBatch, duplicate: false };
  }

  private async applyFinalize(command: FinalizeCommand): Promise<CommandResult<FinalizeResult>> {
    const journal = this.writable(command.journalId);
    if (!('journalId' in journal)) return journal;
    const { firstTxId, lastTxId } = command;
    const bad =
      checkUint('epoch', command.epoch, 1) ??
      checkUint('first txid', firstTxId, 1) ??
      checkUint('last txid', lastTxId, 0) ??
      (lastTxId >= firstTxId - 1 ? undefined : fail('INVALID_ARGUMENT', `last txid ${lastTxId} before first txid ${firstTxId}`)) ??
      this.checkEpoch(journal, command.epoch);
    if (bad !== undefined) return bad;
    const open = journal.open;
    if (open !== undefined && open.firstTxId === firstTxId) {
      if (lastTxId !== open.lastTxId) {
        return fail('SEGMENT_MISMATCH', `segment ${firstTxId} ends at txid ${open.lastTxId}, not ${lastTxId}`, { expectedTxId: open.lastTxId });
      }
      const inProgressPath = join(journal.dir, inProgressFileName(firstTxId));
      open.crc32c = journal.writer?.lengthBytes === open.sizeBytes ? journal.writer.crc32c : undefined;
      await journal.writer?.close();
      journal.writer = undefined;
      journal.open = undefined;
      this.markDirty(journal.journalId, true);
      if (open.lastTxId < open.firstTxId) {
        await unlink(inProgressPath);
        return { ok: true, segment: null, alreadyFinalized: false, dropped: true };
      }
      await rename(inProgressPath, join(journal.dir, finalizedFileName(firstTxId, lastTxId)));
      journal.finalized = [...journal.finalized, open];
      return { ok: true, segment: stateInfo(open, false), alreadyFinalized: false, dropped: false };
    }
    const done = journal.finalized.find((segment) => segment.firstTxId === firstTxId);
    if (done !== undefined) {
      if (done.lastTxId !== lastTxId) {
        return fail('SEGMENT_MISMATCH', `segment ${firstTxId} was finalized at txid ${done.lastTxId}, not ${lastTxId}`, { expectedTxId: done.lastTxId });
      }
      return { ok: true, segment: stateInfo(done, false), alreadyFinalized: true, dropped: false };
    }
    if (open === undefined && firstTxId === journal.lastTxId + 1 && lastTxId === firstTxId - 1) {
      return { ok: true, segment: null, alreadyFinalized: true, dropped: true };
    }
    return fail('SEGMENT_NOT_OPEN', `no segment starts at txid ${firstTxId}`);
  }

  private async applyPurge(command: PurgeCommand): Promise<CommandResult<PurgeResult>> {
    const journal = this.writable(command.journalId);
    if (!('journalId' in journal)) return journal;
    const bad =
      checkUint('epoch', command.epoch, 0) ??
      checkUint('min txid to keep', command.minTxIdToKeep, 0) ??
      (command.epoch === 0 ? undefined : this.checkEpoch(journal, command.epoch));
    if (bad !== undefined) return bad;
    const gone = journal.finalized.filter((segment) => segment.lastTxId < command.minTxIdToKeep);
    if (gone.length > 0) {
      journal.finalized = journal.finalized.slice(gone.length);
      for (const segment of gone) await unlink(join(journal.dir, finalizedFileName(segment.firstTxId, segment.lastTxId)));
      this.markDirty(journal.journalId, true);
    }
    const first = journal.finalized[0] ?? journal.open;
    return { ok: true, purgedSegments: gone.length, firstTxId: first !== undefined && first.lastTxId >= first.firstTxId ? first.firstTxId : 0 };
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  /** Enter apply, snapshot, restore or close: they never overlap (the runtime's duty, asserted). */
  private enter(what: string): void {
    if (this.closed) throw new Error(`journal state machine: ${what} after close`);
    if (this.busy) throw new Error(`journal state machine: ${what} while another apply, snapshot or restore runs`);
    this.busy = true;
  }

  /** At the first apply or restore: set aside what a previous run left (it is not state). */
  private async ensureInitialized(): Promise<void> {
    if (this.initialized) return;
    const previous = `${this.journalsDir}.previous`;
    const exists = await stat(this.journalsDir).then(() => true, () => false);
    if (exists) {
      await rm(previous, { recursive: true, force: true });
      await rename(this.journalsDir, previous);
      this.log?.info({ dir: this.journalsDir, previous }, 'journal files of a previous run set aside; state is rebuilt from the snapshot and the log');
    }
    await rm(`${this.journalsDir}.restoring`, { recursive: true, force: true });
    await mkdir(this.journalsDir, { recursive: true });
    this.initialized = true;
  }

  private markDirty(journalId: string, finalizedChanged: boolean): void {
    this.dirty.add(journalId);
    if (finalizedChanged) this.finalizedDirty.add(journalId);
  }

  /** Publish the views of the journals changed since the last publish, and wake waiting reads. */
  private publish(): void {
    for (const journalId of this.dirty) {
      const journal = this.journals.get(journalId);
      if (journal === undefined) {
        this.views.delete(journalId);
        continue;
      }
      const previous = this.views.get(journalId);
      const finalized =
        previous === undefined || this.finalizedDirty.has(journalId)
          ? journal.finalized.map((segment) => this.segmentView(journal, segment, false))
          : previous.finalized;
      this.views.set(journalId, {
        journalId,
        namespace: journal.namespace,
        promisedEpoch: journal.promisedEpoch,
        writerEpoch: journal.writerEpoch,
        lastTxId: journal.lastTxId,
        finalized,
        open: journal.open === undefined ? undefined : this.segmentView(journal, journal.open, true),
      });
    }
    this.dirty = new Set();
    this.finalizedDirty = new Set();
    this.publishedIndex = this.appliedIndex;
  }

  /** Leave apply, snapshot, restore or close, and wake the reads waiting for a new view. */
  private leave(): void {
    this.busy = false;
    const waiters = this.publishWaiters;
    this.publishWaiters = [];
    for (const wake of waiters) wake();
  }

  private segmentView(journal: JournalLive, segment: SegmentState, inProgress: boolean): SegmentView {
    const name = inProgress ? inProgressFileName(segment.firstTxId) : finalizedFileName(segment.firstTxId, segment.lastTxId);
    return { ...stateInfo(segment, inProgress), path: join(journal.dir, name), index: segment.index };
  }

  private emitPending(): void {
    const events = this.pendingEvents;
    this.pendingEvents = [];
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (error) {
          this.log?.warn({ err: error, journalId: event.journalId }, 'onApplied listener threw');
        }
      }
    }
  }

  private viewOf(journalId: string): JournalView | Failure {
    return checkJournalId(journalId) ?? this.views.get(journalId) ?? fail('NOT_FORMATTED', `journal ${journalId} is not formatted`);
  }

  private async readFromView(view: JournalView, fromTxId: number, maxCount: number, maxBytes: number): Promise<CommandResult<JournaledEdits>> {
    const empty = { ok: true as const, firstTxId: fromTxId, count: 0, records: Buffer.alloc(0), crc32c: 0, lastTxId: view.lastTxId };
    if (fromTxId > view.lastTxId) return empty;
    const segments = view.open === undefined ? view.finalized : [...view.finalized, view.open];
    const firstHeld = segments[0] !== undefined && segments[0].lastTxId >= segments[0].firstTxId ? segments[0].firstTxId : 0;
    if (firstHeld === 0 || fromTxId < firstHeld) {
      return fail('EDITS_UNAVAILABLE', `txid ${fromTxId} is not held (first held: ${firstHeld})`, { expectedTxId: firstHeld });
    }
    // The last segment starting at or before fromTxId.
    let low = 0;
    let high = segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (segments[middle]!.firstTxId <= fromTxId) low = middle;
      else high = middle - 1;
    }
    const buffers: Buffer[] = [];
    let bytes = 0;
    let count = 0;
    let next = fromTxId;
    for (let i = low; i < segments.length && count < maxCount && bytes < maxBytes; i += 1) {
      const segment = segments[i]!;
      if (segment.lastTxId < next) continue;
      const part = await readSegmentRange(segment.path, segment.index, segment.sizeBytes, next, {
        maxCount: maxCount - count,
        maxBytes: maxBytes - bytes,
        atLeastOne: count === 0,
      });
      buffers.push(...part.buffers);
      bytes += part.bytes;
      count += part.count;
      next += part.count;
      if (next <= segment.lastTxId) break; // limits reached inside this segment
    }
    if (count === 0) return empty;
    const records = buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers, bytes);
    return { ok: true, firstTxId: fromTxId, count, records, crc32c: crc32c(records), lastTxId: view.lastTxId };
  }

  private snapshotJournal(journal: JournalLive): SnapshotJournal {
    const segments: SnapshotJournal['segments'] = journal.finalized.map((segment) =>
      segment.crc32c === undefined ? stateInfo(segment, false) : { ...stateInfo(segment, false), crc32c: segment.crc32c },
    );
    if (journal.open !== undefined) segments.push(stateInfo(journal.open, true));
    return {
      journalId: journal.journalId,
      namespace: { ...journal.namespace },
      promisedEpoch: journal.promisedEpoch,
      promisedBy: journal.promisedBy,
      writerEpoch: journal.writerEpoch,
      lastTxId: journal.lastTxId,
      segments,
      recentBatches: [...journal.recent].map(([firstTxId, batch]) => [firstTxId, batch.epoch, batch.count, batch.crc32c]),
    };
  }

  /** The live state of a journal restored into `journals/`; `openCrc` is the CRC-32C of its in-progress segment's bytes. */
  private async liveJournal(journal: SnapshotMetaFile['journals'][number], linked: ReadonlyMap<string, boolean>, openCrc: number): Promise<JournalLive> {
    const dir = journalCurrentDir(this.dataDir, journal.journalId);
    const states = journal.segments.map((segment) => ({
      segment,
      state: {
        firstTxId: segment.firstTxId,
        lastTxId: segment.lastTxId,
        epoch: segment.epoch,
        sizeBytes: segment.sizeBytes,
        index: new SegmentIndex(segment.firstTxId),
        durable: !segment.inProgress && linked.get(`${journal.journalId}/${finalizedFileName(segment.firstTxId, segment.lastTxId)}`) === true,
        // The CRC the snapshot declared the file with (a received snapshot's files were checked against it).
        crc32c: segment.inProgress ? undefined : segment.crc32c,
      } satisfies SegmentState,
    }));
    const openEntry = states.find((s) => s.segment.inProgress);
    const open = openEntry?.state;
    return {
      journalId: journal.journalId,
      dir,
      namespace: journal.namespace,
      promisedEpoch: journal.promisedEpoch,
      promisedBy: journal.promisedBy,
      writerEpoch: journal.writerEpoch,
      lastTxId: journal.lastTxId,
      finalized: states.filter((s) => !s.segment.inProgress).map((s) => s.state),
      open,
      writer: open === undefined ? undefined : await SegmentWriter.openAt(join(dir, inProgressFileName(open.firstTxId)), open.sizeBytes, openCrc),
      recent: new Map(journal.recentBatches.map(([firstTxId, epoch, count, crc]) => [firstTxId, { epoch, count, crc32c: crc }])),
    };
  }

  private async closeWriters(): Promise<void> {
    for (const journal of this.journals.values()) {
      await journal.writer?.close();
      journal.writer = undefined;
    }
  }
}

/** Hard-link `source` to `target`; false when linking is impossible (another file system). */
async function linkIfPossible(source: string, target: string): Promise<boolean> {
  try {
    await link(source, target);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw error;
    return false;
  }
}

/**
 * Hard-link `source` to `target`; copy (with fsync) when linking is impossible (another file
 * system). Returns true when linked (the target shares the source's durable inode).
 */
async function linkOrCopy(source: string, target: string, sizeBytes: number): Promise<boolean> {
  if (await linkIfPossible(source, target)) return true;
  await copyFilePrefix(source, target, sizeBytes, true);
  return false;
}
