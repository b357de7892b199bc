/**
 * The HA controller of one master process (design section 6, as HDFS's failover controller):
 *
 * ```
 *   initial --start--> standby --elected--> catching-up --caught up--> active
 *                        ^                       |                       |
 *                        +---- lost / fenced / failed to open -----------+
 *   any --stop--> closed;  standby / catching-up / active --fatal--> failed --stop--> closed
 * ```
 * - standby: tails the journal and hands every edit to `apply`, while campaigning;
 * - catching-up: elected; opens the journal with `epoch = token` (fencing the old writer,
 *   recovering its segment), reads and applies every edit up to the recovered last txid;
 * - active: `onActive(writer, lastTxId)`; the master writes. On `lost` or a fenced/failed writer
 *   the writer is aborted at once, `onStandby` is called, the leadership resigned, and the
 *   controller goes back to standby.
 *
 * Duty of the master while active: apply its own edit to its state only once `write` resolved
 * (committed). Edits whose write rejected are not applied; if they were committed after all,
 * the standby tail delivers them (it resumes after the writer's last acknowledged txid).
 */
import { EventEmitter } from 'node:events';
import type { EditRecord } from '../journalnode/protocol/records.ts';
import { AbortedError } from './errors.ts';
import type { ElectionHook, Leadership } from './election.ts';
import type { QuorumJournalManager } from './qjm.ts';
import type { JournalWriter } from './writer.ts';
import type { TailOptions } from './tail.ts';
import { abortableDelay } from './clock.ts';
import type { Logger } from './log.ts';
import { silentLogger } from './log.ts';

/** `apply` threw: fatal for the controller (the master's state may be incomplete). */
class ApplyFailure extends Error {
  override readonly name = 'ApplyFailure';
  constructor(cause: unknown) {
    super(`apply failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** States of an {@link HAController}. */
export type HAState = 'initial' | 'standby' | 'catching-up' | 'active' | 'failed' | 'closed';

/** The legal moves: anything else is a bug and throws. */
export const haTransitions: Readonly<Record<HAState, readonly HAState[]>> = {
  initial: ['standby', 'closed'],
  standby: ['catching-up', 'failed', 'closed'],
  'catching-up': ['active', 'standby', 'failed', 'closed'],
  active: ['standby', 'failed', 'closed'],
  failed: ['closed'],
  closed: [],
};

/** True when `from -> to` is a legal move (pure). */
export function canTransition(from: HAState, to: HAState): boolean {
  return haTransitions[from].includes(to);
}

/** Why the controller left the active (or catching-up) state. */
export type StandbyReason = 'lost' | 'fenced' | 'writer-failed' | 'open-failed' | 'stopped';

/** Payload of the 'transition' event. */
export interface HATransition {
  readonly from: HAState;
  readonly to: HAState;
  /** Why, in words (for logs). */
  readonly reason: string;
  /** The leadership token, in catching-up and active. */
  readonly token: number | undefined;
}

/** Options of an {@link HAController}. */
export interface HAControllerOptions {
  readonly qjm: QuorumJournalManager;
  readonly election: ElectionHook;
  /** This master's identity in the election (unique, e.g. host:port). */
  readonly candidate: string;
  /** The first txid the master has not applied (its checkpoint's last txid + 1). Default 1. */
  readonly fromTxId?: number;
  /** Apply one committed edit to the master's state, in txid order. A throw is fatal ('failed'). */
  apply(edit: EditRecord): void | Promise<void>;
  /** Became active: write with `writer`, whose segments start at `lastTxId + 1`. */
  onActive(writer: JournalWriter, lastTxId: number): void | Promise<void>;
  /** Stopped being active (the writer is already aborted): stop serving writes. */
  onStandby(reason: StandbyReason): void | Promise<void>;
  /** Tail options for standby (poll interval, socket retry). */
  readonly tail?: Omit<TailOptions, 'from' | 'signal'>;
  /** Delay before campaigning again after a failed open or a lost leadership, in ms. Default 200. */
  readonly retryDelayMs?: number;
  readonly log?: Logger;
}

/**
 * Ties an election to the journal. Events: 'transition' ({@link HATransition}), 'failed' (Error:
 * the controller stopped for good; see `failure`).
 */
export class HAController extends EventEmitter {
  private current: HAState = 'initial';
  private readonly options: HAControllerOptions;
  private readonly log: Logger;
  private lastApplied: number;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private activeWriter: JournalWriter | undefined;
  private leadershipHeld: Leadership | undefined;
  private fatal: Error | undefined;

  constructor(options: HAControllerOptions) {
    super();
    const fromTxId = options.fromTxId ?? 1;
    if (!Number.isSafeInteger(fromTxId) || fromTxId < 1) throw new RangeError(`invalid fromTxId ${fromTxId}`);
    this.options = options;
    this.log = options.log ?? silentLogger;
    this.lastApplied = fromTxId - 1;
  }

  /** The current state. */
  get state(): HAState {
    return this.current;
  }

  /** The last txid applied through `apply` (or written by this master while it was active). */
  get lastAppliedTxId(): number {
    return this.lastApplied;
  }

  /** The writer while active. */
  get writer(): JournalWriter | undefined {
    return this.activeWriter;
  }

  /** The leadership token while catching up or active. */
  get token(): number | undefined {
    return this.leadershipHeld?.token;
  }

  /** Why the controller failed, if it did. */
  get failure(): Error | undefined {
    return this.fatal;
  }

  override on(event: 'transition', listener: (transition: HATransition) => void): this;
  override on(event: 'failed', listener: (error: Error) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  /** Start: become standby (tail and campaign). Call once. */
  start(): void {
    this.transition('standby', 'started');
    this.loop = this.run().catch((error: unknown) => this.failWith(error instanceof Error ? error : new Error(String(error))));
  }

  /** Stop: abort the writer, resign, stop tailing and campaigning. Resolves once everything stopped. */
  async stop(): Promise<void> {
    if (this.current === 'closed') return;
    this.stopping.abort(new AbortedError('controller stopped'));
    this.activeWriter?.abort(new AbortedError('controller stopped'));
    await this.loop;
    const leadership = this.leadershipHeld;
    this.leadershipHeld = undefined;
    await leadership?.resign();
    if (this.state !== 'closed') this.transition('closed', 'stopped');
  }

  private transition(to: HAState, reason: string): void {
    const from = this.current;
    if (!canTransition(from, to)) throw new Error(`HAController: illegal transition ${from} -> ${to} (${reason})`);
    this.current = to;
    this.log.info({ candidate: this.options.candidate, from, to, reason, token: this.token }, 'ha transition');
    this.emit('transition', { from, to, reason, token: this.token } satisfies HATransition);
  }

  private failWith(error: Error): void {
    if (this.current === 'failed' || this.current === 'closed') return;
    this.fatal = error;
    this.activeWriter?.abort(error);
    this.stopping.abort(error);
    this.transition('failed', error.message);
    this.emit('failed', error);
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async applyEdit(edit: EditRecord): Promise<void> {
    if (edit.txid !== this.lastApplied + 1) throw new ApplyFailure(new Error(`edit ${edit.txid} out of order (expected ${this.lastApplied + 1})`));
    try {
      await this.options.apply(edit);
    } catch (error) {
      throw new ApplyFailure(error);
    }
    this.lastApplied = edit.txid;
  }

  /**
   * Tail and apply until `signal` aborts. Rejects on a fatal error: apply threw, or the tail hit
   * a non-retryable error (edits purged below `fromTxId`: the master needs a newer checkpoint).
   */
  private async tailUntil(signal: AbortSignal): Promise<void> {
    try {
      for await (const edit of this.options.qjm.tail({ ...this.options.tail, from: this.lastApplied + 1, signal })) {
        await this.applyEdit(edit);
        if (signal.aborted) return;
      }
    } catch (error) {
      if (signal.aborted && error instanceof AbortedError) return;
      throw error;
    }
  }

  /** Read and apply every edit up to `lastTxId` (a lagging node is waited out). */
  private async catchUp(lastTxId: number, lost: AbortSignal): Promise<void> {
    while (this.lastApplied < lastTxId) {
      if (lost.aborted) return;
      const page = await this.options.qjm.readEdits(this.lastApplied + 1, { signal: lost });
      if (page.records.length === 0) {
        await abortableDelay(20, lost);
        continue;
      }
      for (const edit of page.records) {
        if (edit.txid > lastTxId || lost.aborted) return;
        await this.applyEdit(edit);
      }
    }
  }

  private async run(): Promise<void> {
    const retryDelayMs = this.options.retryDelayMs ?? 200;
    while (!this.stopped) {
      // Standby: tail and campaign at once. A fatal tail error aborts the campaign.
      const round = new AbortController();
      const roundSignal = AbortSignal.any([round.signal, this.stopping.signal]);
      let tailFatal: unknown;
      const tailing = this.tailUntil(roundSignal).catch((error: unknown) => {
        tailFatal = error;
        round.abort(error);
      });
      let leadership: Leadership | undefined;
      let campaignError: unknown;
      try {
        leadership = await this.options.election.campaign(this.options.candidate, roundSignal);
      } catch (error) {
        campaignError = error;
      }
      round.abort();
      await tailing;
      if (tailFatal !== undefined || this.stopped) {
        await leadership?.resign();
        if (tailFatal !== undefined) throw tailFatal instanceof ApplyFailure ? tailFatal.cause : tailFatal;
        return;
      }
      if (leadership === undefined) {
        this.log.warn({ candidate: this.options.candidate, error: String(campaignError) }, 'campaign failed; retrying');
        await abortableDelay(retryDelayMs, this.stopping.signal).catch(() => undefined);
        continue;
      }
      this.leadershipHeld = leadership;
      try {
        await this.serve(leadership);
      } finally {
        this.leadershipHeld = undefined;
        await leadership.resign();
      }
      if (this.stopped) return;
      await abortableDelay(retryDelayMs, this.stopping.signal).catch(() => undefined);
    }
  }

  /** Catch up and be active until the leadership ends; leaves the controller in standby (or stopped). */
  private async serve(leadership: Leadership): Promise<void> {
    const lostController = new AbortController();
    void leadership.lost.then(() => lostController.abort(new AbortedError('leadership lost')));
    const lost = AbortSignal.any([lostController.signal, this.stopping.signal]);
    this.transition('catching-up', `elected with token ${leadership.token}`);

    let writer: JournalWriter | undefined;
    try {
      writer = await this.options.qjm.openForWrite({ epoch: leadership.token, writerId: `${this.options.candidate}#${leadership.token}` });
      if (lost.aborted) throw new AbortedError('leadership lost while opening');
      await this.catchUp(writer.lastTxId, lost);
      if (lost.aborted) throw new AbortedError('leadership lost while catching up');
    } catch (error) {
      writer?.abort(error instanceof Error ? error : undefined);
      if (error instanceof ApplyFailure) throw error.cause;
      if (this.stopped) return;
      this.log.warn({ candidate: this.options.candidate, token: leadership.token, error: String(error) }, 'could not become active');
      this.transition('standby', `open failed: ${String(error)}`);
      return;
    }

    this.activeWriter = writer;
    this.transition('active', `caught up at txid ${writer.lastTxId}`);
    const activeWriter = writer;
    const reason = await (async (): Promise<StandbyReason> => {
      try {
        await this.options.onActive(activeWriter, activeWriter.lastTxId);
      } catch (error) {
        this.log.error({ candidate: this.options.candidate, error: String(error) }, 'onActive threw; stepping down');
        return 'writer-failed';
      }
      return Promise.race([
        leadership.lost.then((): StandbyReason => 'lost'),
        activeWriter.ended.then((end): StandbyReason => (end.state === 'fenced' ? 'fenced' : 'writer-failed')),
        new Promise<StandbyReason>((resolve) => this.stopping.signal.addEventListener('abort', () => resolve('stopped'), { once: true })),
      ]);
    })();
    // Stop writing at once, then tell the master.
    activeWriter.abort(new AbortedError(`no longer active: ${reason}`));
    this.activeWriter = undefined;
    this.lastApplied = Math.max(this.lastApplied, activeWriter.lastTxId);
    if (this.current === 'active' && !this.stopped) this.transition('standby', reason);
    try {
      await this.options.onStandby(reason);
    } catch (error) {
      this.log.error({ candidate: this.options.candidate, error: String(error) }, 'onStandby threw');
    }
  }
}
