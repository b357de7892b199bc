/**
 * The metadata master: a namespace kept in memory, every mutation logged to the quorum journal
 * before it is applied and answered, and an {@link HAController} deciding who is active.
 *
 * - Standby: the controller tails the journal and hands every committed edit to `apply`.
 * - Active: edits go through an {@link ActiveTerm} (queue, write, commit, apply, answer).
 * - Failover: the controller of a standby wins the election, opens the journal with the
 *   election's token as epoch (fencing the old active, recovering its in-progress segment),
 *   applies what it has not yet applied, and becomes active.
 *
 * The namespace is rebuilt from txid 1 at every start (this example keeps no checkpoint; the
 * journal is never purged).
 */
import { hostname } from 'node:os';
import {
  EtcdElection,
  HAController,
  JournalElection,
  QuorumJournalManager,
  NoQuorumError,
  NotFormattedError,
  isRetryable,
} from '../../libqjm/index.ts';
import type { ElectionHook, HAState, JournalWriter, Logger, NamespaceInfo, StandbyReason } from '../../libqjm/index.ts';
import { ActiveTerm, NotActiveError } from './active-term.ts';
import type { Committed } from './active-term.ts';
import { decodeEdit, encodeEdit } from './edits.ts';
import { Namespace } from './namespace.ts';
import type { EditOutcome, ListResult, NamespaceEdit } from './namespace.ts';

export { NotActiveError, NotAcknowledgedError, OverloadedError } from './active-term.ts';

/** Which election decides the active master. */
export type ElectionChoice =
  | { readonly kind: 'journal'; readonly ttlMs: number }
  | { readonly kind: 'etcd'; readonly endpoints: readonly string[]; readonly ttlSeconds: number };

/** Options of a {@link MetadataMaster}. Times in milliseconds. */
export interface MetadataMasterOptions {
  /** This master's id (`[A-Za-z0-9_.-]{1,64}`). */
  readonly id: string;
  /** QJournal gRPC addresses (host:port) of the JournalNodes. */
  readonly journalNodes: readonly string[];
  /** HTTP addresses of the JournalNodes (WebSocket tail); none: the standby polls. */
  readonly journalHttp?: readonly string[];
  /** The journal. Default 'namespace'. */
  readonly journalId?: string;
  /** The namespace identity the journal is formatted with. */
  readonly namespaceInfo?: NamespaceInfo;
  /** Format the journal at start when it is not formatted yet (an identical format is harmless). */
  readonly format?: boolean;
  /** Default: the embedded journal election with a 3,000 ms lease. */
  readonly election?: ElectionChoice;
  /** Edits per segment before it is rolled. Default 1,000. */
  readonly segmentEditsMax?: number;
  /** Most edits queued on the active before requests are refused (503). Default 10,000. */
  readonly queuedEditsMax?: number;
  /** Most edits written and not yet acknowledged. Default 4,096. */
  readonly inflightEditsMax?: number;
  /** How often a standby asks the election who is active (for the hint it answers with). Default 1,000. */
  readonly hintRefreshMs?: number;
  readonly log?: Logger;
}

/** The active master, as the election knows it: its id and advertised HTTP address. */
export interface ActiveHint {
  readonly id: string;
  readonly http: string;
}

/** What GET /status shows. */
export interface MasterStatus {
  readonly id: string;
  /** The HA role: 'active' only once the first segment of the term is open. */
  readonly role: HAState;
  /** The advertised HTTP address. */
  readonly http: string;
  /** The active master as last known (itself when active). */
  readonly active: ActiveHint | null;
  /** The last txid this master knows committed: the writer's when active, else the applied one. */
  readonly lastTxId: number;
  /** The last txid applied to the namespace. */
  readonly appliedTxId: number;
  /** The epoch (election token) while active or catching up. */
  readonly epoch: number | null;
  /** First txid of the open segment when active. */
  readonly segmentFirstTxId: number | null;
  /** Segments this master finalized since it started. */
  readonly segmentsRolled: number;
  /** Edits waiting to be written (active). */
  readonly queuedEdits: number;
  /** Directories and files in the namespace. */
  readonly entries: number;
  readonly election: 'journal' | 'etcd';
  readonly journalId: string;
  /** Times this master became active. */
  readonly activations: number;
  /** Why it last stopped being active. */
  readonly lastStandbyReason: StandbyReason | null;
}

/** The answer to a mutation. */
export type SubmitResult =
  /** Logged at `txid` and applied with `outcome` (which may be a failure: a logged no-op). */
  | { readonly logged: true; readonly txid: number; readonly outcome: EditOutcome }
  /** Refused before logging: it could not take effect on the current namespace. */
  | { readonly logged: false; readonly outcome: EditOutcome & { ok: false } };

/** The master stopped for good (the controller failed). */
export class MasterFailedError extends Error {
  override readonly name = 'MasterFailedError';
}

const candidateSeparator = '@';

/** Longest wait between two attempts to reach the journal at start, ms. */
export const journalWaitDelayMsMax = 5_000;

/** Parse a candidate `id@host:port` back into a hint (pure). */
export function hintOfCandidate(candidate: string | undefined): ActiveHint | null {
  if (candidate === undefined) return null;
  const at = candidate.indexOf(candidateSeparator);
  if (at <= 0) return null;
  return { id: candidate.slice(0, at), http: candidate.slice(at + 1) };
}

/** One metadata master process's logic (HTTP is in http-api.ts). */
export class MetadataMaster {
  readonly id: string;
  readonly journalId: string;
  private readonly options: MetadataMasterOptions;
  private readonly log: Logger;
  private readonly namespace = new Namespace();
  private applied = 0;
  private qjm: QuorumJournalManager | undefined;
  private election: (ElectionHook & { close?: () => void }) | undefined;
  private controller: HAController | undefined;
  private term: ActiveTerm | undefined;
  private termWriter: JournalWriter | undefined;
  private advertised = '';
  private hint: ActiveHint | null = null;
  private hintTimer: NodeJS.Timeout | undefined;
  private hintRefreshing = false;
  private rolledBefore = 0;
  private activationCount = 0;
  private standbyReason: StandbyReason | null = null;
  private failedWith: Error | undefined;
  private readonly failureListeners: ((error: Error) => void)[] = [];

  constructor(options: MetadataMasterOptions) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(options.id)) throw new RangeError(`invalid master id '${options.id}'`);
    this.options = options;
    this.id = options.id;
    this.journalId = options.journalId ?? 'namespace';
    this.log = options.log ?? { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  }

  /** The last txid applied to the namespace. */
  get appliedTxId(): number {
    return this.applied;
  }

  /** Why the master failed, if it did. */
  get failure(): Error | undefined {
    return this.failedWith;
  }

  /** Call `listener` once if the master fails for good (it must then exit). */
  onFailure(listener: (error: Error) => void): void {
    this.failureListeners.push(listener);
  }

  /**
   * Start: connect to the journal (format it if asked and needed), then campaign as
   * `id@advertisedHttp` and tail as a standby. Resolves once the controller runs.
   */
  async start(advertisedHttp: string): Promise<void> {
    if (this.controller !== undefined) throw new Error('MetadataMaster.start: called twice');
    this.advertised = advertisedHttp;
    const qjm = new QuorumJournalManager({
      journalId: this.journalId,
      nodes: this.options.journalNodes,
      ...(this.options.journalHttp !== undefined ? { httpNodes: this.options.journalHttp } : {}),
      log: this.log,
    });
    this.qjm = qjm;
    await this.ensureFormatted(qjm);
    const choice = this.options.election ?? { kind: 'journal', ttlMs: 3_000 };
    this.election =
      choice.kind === 'journal'
        ? new JournalElection({ qjm, ttlMs: choice.ttlMs, leaseName: 'active-master', log: this.log })
        : new EtcdElection({ hosts: choice.endpoints, name: `metadata-master-${this.journalId}`, ttlSeconds: choice.ttlSeconds, log: this.log });
    const controller = new HAController({
      qjm,
      election: this.election,
      candidate: `${this.id}${candidateSeparator}${advertisedHttp}`,
      fromTxId: 1,
      apply: (edit) => {
        this.applyCommitted(edit.txid, decodeEdit(edit.data));
      },
      onActive: (writer) => this.becomeActive(writer),
      onStandby: (reason) => this.becomeStandby(reason),
      retryDelayMs: 200,
      log: this.log,
    });
    this.controller = controller;
    controller.on('failed', (error) => this.fail(error));
    controller.start();
    this.refreshHint();
    this.hintTimer = setInterval(() => this.refreshHint(), this.options.hintRefreshMs ?? 1_000);
    this.hintTimer.unref();
  }

  /**
   * Stop. When active: stop taking edits, wait for the written ones, finalize the open segment
   * (so the next active starts at once, with nothing to recover), then resign. Bounded by the
   * journal's own timeouts.
   */
  async stop(): Promise<void> {
    if (this.hintTimer !== undefined) clearInterval(this.hintTimer);
    this.hintTimer = undefined;
    const term = this.term;
    if (term !== undefined) {
      try {
        await term.finish();
      } catch (error) {
        this.log.warn({ id: this.id, error: String(error) }, 'could not finalize the open segment at stop (the next active recovers it)');
      }
    }
    await this.controller?.stop();
    this.election?.close?.();
    this.qjm?.close();
  }

  /** Refused with NotActiveError unless active; OverloadedError when the queue is full. */
  async submit(edit: NamespaceEdit): Promise<SubmitResult> {
    const term = this.term;
    if (term === undefined || term.ended) throw new NotActiveError('this master is not the active one');
    const checked = this.namespace.check(edit);
    if (!checked.ok) return { logged: false, outcome: checked };
    const committed: Committed = await term.submit(edit, encodeEdit(edit));
    return { logged: true, ...committed };
  }

  /** List a directory of the namespace as applied here. */
  list(path: string): ListResult {
    return this.namespace.list(path);
  }

  /** The canonical listing of everything under `path` (see Namespace.paths), with the txid it reflects. */
  tree(path: string): { appliedTxId: number; paths: string[] | undefined } {
    return { appliedTxId: this.applied, paths: this.namespace.paths(path) };
  }

  /** The active master as last known. */
  get activeHint(): ActiveHint | null {
    return this.term !== undefined ? { id: this.id, http: this.advertised } : this.hint;
  }

  status(): MasterStatus {
    const controllerState = this.controller?.state ?? 'initial';
    const term = this.term;
    return {
      id: this.id,
      role: term === undefined && controllerState === 'active' ? 'catching-up' : controllerState,
      http: this.advertised,
      active: this.activeHint,
      lastTxId: this.termWriter !== undefined && term !== undefined ? this.termWriter.lastTxId : this.applied,
      appliedTxId: this.applied,
      epoch: this.controller?.token ?? null,
      segmentFirstTxId: term?.segmentFirstTxId ?? null,
      segmentsRolled: this.rolledBefore + (term?.segmentsRolled ?? 0),
      queuedEdits: term?.queuedEdits ?? 0,
      entries: this.namespace.size,
      election: (this.options.election?.kind ?? 'journal'),
      journalId: this.journalId,
      activations: this.activationCount,
      lastStandbyReason: this.standbyReason,
    };
  }

  /**
   * Wait for the journal (the JournalNodes may start after the masters), then check that it is
   * formatted, or format it when asked. Retryable failures are retried with a growing delay.
   */
  private async ensureFormatted(qjm: QuorumJournalManager): Promise<void> {
    const info: NamespaceInfo = this.options.namespaceInfo ?? { nsId: 'metadata-master', clusterId: 'example', blockPoolId: '', layoutVersion: 1 };
    for (let failures = 0; ; ) {
      try {
        let formatted: boolean;
        try {
          const state = await qjm.getJournalState();
          formatted = state.namespace !== null && (state.namespace.nsId !== '' || state.namespace.clusterId !== '');
        } catch (error) {
          if (!(error instanceof NotFormattedError)) throw error;
          formatted = false;
        }
        if (formatted) return;
        if (this.options.format !== true) throw new NotFormattedError(`journal ${this.journalId} is not formatted (qjm format, or start a master with --format)`);
        // Two masters may format at once: an identical format of an empty journal is accepted twice.
        await qjm.format(info);
        this.log.info({ id: this.id, journalId: this.journalId }, 'journal formatted');
        return;
      } catch (error) {
        if (error instanceof NotFormattedError || !(isRetryable(error) || error instanceof NoQuorumError)) throw error;
        failures += 1;
        const delayMs = Math.min(journalWaitDelayMsMax, 100 * 2 ** Math.min(failures, 10));
        this.log.warn({ id: this.id, error: String(error), delayMs }, 'waiting for the journal');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  /** Apply one committed edit, in txid order (standby tail, catch-up and the active's own writes). */
  private applyCommitted(txid: number, edit: NamespaceEdit): EditOutcome {
    if (txid !== this.applied + 1) throw new Error(`apply: txid ${txid} out of order (applied ${this.applied})`);
    const outcome = this.namespace.apply(edit);
    this.applied = txid;
    return outcome;
  }

  private async becomeActive(writer: JournalWriter): Promise<void> {
    if (this.applied !== writer.lastTxId) throw new Error(`onActive: applied ${this.applied}, the journal ends at ${writer.lastTxId}`);
    const term = new ActiveTerm({
      writer,
      segmentEditsMax: this.options.segmentEditsMax ?? 1_000,
      batchEditsMax: 1_000,
      batchBytesMax: 1024 * 1024,
      inflightEditsMax: this.options.inflightEditsMax ?? 4_096,
      queuedEditsMax: this.options.queuedEditsMax ?? 10_000,
      apply: (txid, edit) => this.applyCommitted(txid, edit),
      onFailure: (error) => {
        this.log.error({ id: this.id, error: error.message }, 'segment roll failed: stepping down');
        writer.abort(error);
      },
    });
    await term.open();
    this.termWriter = writer;
    this.term = term;
    this.activationCount += 1;
    this.standbyReason = null;
    this.log.info({ id: this.id, epoch: writer.epoch, lastTxId: writer.lastTxId, segment: term.segmentFirstTxId }, 'active');
  }

  private async becomeStandby(reason: StandbyReason): Promise<void> {
    const term = this.term;
    const writer = this.termWriter;
    this.term = undefined;
    this.termWriter = undefined;
    this.standbyReason = reason;
    if (term !== undefined) {
      await term.end(new NotActiveError(`no longer active: ${reason}`));
      this.rolledBefore += term.segmentsRolled;
    }
    // Edits the writer saw acknowledged are committed: the controller resumes tailing after
    // them, so they must be applied here (normally they are, through the term).
    if (writer !== undefined && this.applied < writer.lastTxId) await this.fillGap(writer.lastTxId);
    this.log.info({ id: this.id, reason, appliedTxId: this.applied }, 'standby');
    this.refreshHint();
  }

  private async fillGap(lastTxId: number): Promise<void> {
    const qjm = this.qjm!;
    try {
      while (this.applied < lastTxId) {
        const page = await qjm.readEdits(this.applied + 1, { maxCount: lastTxId - this.applied });
        if (page.records.length === 0) throw new Error(`edits ${this.applied + 1}..${lastTxId} acknowledged but not readable`);
        for (const record of page.records) {
          if (record.txid > lastTxId) break;
          this.applyCommitted(record.txid, decodeEdit(record.data));
        }
      }
    } catch (error) {
      this.fail(new MasterFailedError(`cannot apply acknowledged edits up to ${lastTxId}: ${String(error)}`, { cause: error }));
    }
  }

  /** Ask the election who is active (one question at a time), for the hint a standby answers with. */
  private refreshHint(): void {
    if (this.hintRefreshing || this.election === undefined) return;
    this.hintRefreshing = true;
    void this.election
      .leader()
      .then((candidate) => {
        this.hint = hintOfCandidate(candidate);
      })
      .catch(() => undefined)
      .finally(() => {
        this.hintRefreshing = false;
      });
  }

  private fail(error: Error): void {
    if (this.failedWith !== undefined) return;
    this.failedWith = error;
    this.log.error({ id: this.id, error: error.message }, 'metadata master failed');
    for (const listener of this.failureListeners) listener(error);
  }
}

/** The host to advertise for a bound address: a wildcard bind advertises the host name. */
export function advertisedHost(boundHost: string): string {
  return boundHost === '0.0.0.0' || boundHost === '::' || boundHost === '' ? hostname() : boundHost;
}
