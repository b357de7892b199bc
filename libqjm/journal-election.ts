/**
 * The embedded election: a lease kept in the journal state machine (AcquireLease, RenewLease,
 * ReleaseLease, GetLease). The token is the Raft index of the acquire, so it strictly increases
 * from one holding to the next.
 *
 * Safety: the JournalNodes measure the TTL from when they apply the acquire or renew, which is
 * after the client sent it. The holder counts from the moment it SENT its last successful
 * acquire/renew and considers itself lost at `sentAt + ttlMs - safetyMarginMs`, so it stops
 * before the JournalNodes let anyone else acquire (the margin covers clock-rate differences and
 * timer lateness). A renew answered LEASE_EXPIRED loses at once.
 */
import { leaseNamePattern, leaseTtlMsMax, leaseTtlMsMin } from '../journalnode/protocol/limits.ts';
import { AbortedError, LeaseExpiredError, LeaseHeldError, isRetryable } from './errors.ts';
import type { ElectionHook, Leadership } from './election.ts';
import { checkToken } from './election.ts';
import type { QuorumJournalManager } from './qjm.ts';
import type { Clock } from './clock.ts';
import { abortableDelay, deferred, isAborted, monotonicClock } from './clock.ts';
import type { Logger } from './log.ts';
import { silentLogger } from './log.ts';

/** Options of a {@link JournalElection}. Times in milliseconds. */
export interface JournalElectionOptions {
  /** The manager of the journal whose JournalNode group keeps the lease. */
  readonly qjm: QuorumJournalManager;
  /** The lease's name (`[A-Za-z0-9_-]{1,64}`). Default 'leader'. */
  readonly leaseName?: string;
  /** Lease time to live. */
  readonly ttlMs: number;
  /** Renew this often. Default ttlMs / 3. */
  readonly renewIntervalMs?: number;
  /** The holder gives up this long before the lease could expire. Default ttlMs / 5. */
  readonly safetyMarginMs?: number;
  /** Between acquire attempts while another candidate holds the lease. Default min(ttlMs / 4, 1000). */
  readonly retryIntervalMs?: number;
  readonly clock?: Clock;
  readonly log?: Logger;
}

/** One holding of the journal lease. */
class JournalLeadership implements Leadership {
  readonly token: number;
  private readonly lostDeferred = deferred<void>();
  private isLost = false;
  private deadlineMs: number;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly stopRenewing = new AbortController();
  private readonly election: JournalElection;
  private readonly candidate: string;

  constructor(election: JournalElection, candidate: string, token: number, sentAtMs: number) {
    this.election = election;
    this.candidate = candidate;
    this.token = token;
    this.deadlineMs = sentAtMs + election.ttlMs - election.safetyMarginMs;
    this.armDeadline();
    void this.renewLoop();
  }

  get lost(): Promise<void> {
    return this.lostDeferred.promise;
  }

  /** True once lost or resigned. */
  get ended(): boolean {
    return this.isLost;
  }

  private armDeadline(): void {
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      if (this.election.clock.nowMs() >= this.deadlineMs) this.lose('local lease deadline passed without a successful renew');
      else this.armDeadline();
    }, Math.max(0, this.deadlineMs - this.election.clock.nowMs()));
  }

  private async renewLoop(): Promise<void> {
    const { qjm, leaseName, ttlMs, renewIntervalMs, clock, log } = this.election;
    let delayMs = renewIntervalMs;
    while (!this.isLost) {
      try {
        await abortableDelay(delayMs, this.stopRenewing.signal);
      } catch {
        return;
      }
      if (this.isLost) return;
      const sentAtMs = clock.nowMs();
      try {
        await qjm.renewLease(leaseName, this.candidate, this.token, ttlMs, this.stopRenewing.signal);
        if (this.isLost) return;
        this.deadlineMs = Math.max(this.deadlineMs, sentAtMs + ttlMs - this.election.safetyMarginMs);
        this.armDeadline();
        delayMs = renewIntervalMs;
      } catch (error) {
        if (this.isLost) return;
        if (error instanceof LeaseExpiredError || !isRetryable(error)) {
          this.lose(`renew failed: ${(error as Error).message}`);
          return;
        }
        log.warn({ leaseName, token: this.token, error: String(error) }, 'lease renew failed; retrying');
        delayMs = Math.max(10, Math.floor(renewIntervalMs / 4));
      }
    }
  }

  /** Lose the leadership (idempotent). */
  lose(reason: string): void {
    if (this.isLost) return;
    this.isLost = true;
    this.election.log.warn({ leaseName: this.election.leaseName, candidate: this.candidate, token: this.token, reason }, 'journal lease lost');
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.stopRenewing.abort();
    this.lostDeferred.resolve();
  }

  async resign(): Promise<void> {
    const wasHeld = !this.isLost;
    this.lose('resigned');
    if (!wasHeld) return;
    try {
      await this.election.qjm.releaseLease(this.election.leaseName, this.candidate, this.token);
    } catch (error) {
      this.election.log.warn({ leaseName: this.election.leaseName, token: this.token, error: String(error) }, 'lease release failed (it will expire)');
    }
  }
}

/** The embedded election: a lease in the JournalNode group. */
export class JournalElection implements ElectionHook {
  /** @internal */ readonly qjm: QuorumJournalManager;
  /** @internal */ readonly leaseName: string;
  /** @internal */ readonly ttlMs: number;
  /** @internal */ readonly renewIntervalMs: number;
  /** @internal */ readonly safetyMarginMs: number;
  /** @internal */ readonly retryIntervalMs: number;
  /** @internal */ readonly clock: Clock;
  /** @internal */ readonly log: Logger;

  constructor(options: JournalElectionOptions) {
    this.qjm = options.qjm;
    this.leaseName = options.leaseName ?? 'leader';
    if (!leaseNamePattern.test(this.leaseName)) throw new RangeError(`invalid lease name '${this.leaseName}'`);
    if (!Number.isSafeInteger(options.ttlMs) || options.ttlMs < leaseTtlMsMin || options.ttlMs > leaseTtlMsMax) {
      throw new RangeError(`ttlMs ${options.ttlMs} outside ${leaseTtlMsMin} .. ${leaseTtlMsMax}`);
    }
    this.ttlMs = options.ttlMs;
    this.renewIntervalMs = options.renewIntervalMs ?? Math.max(1, Math.floor(options.ttlMs / 3));
    this.safetyMarginMs = options.safetyMarginMs ?? Math.floor(options.ttlMs / 5);
    if (this.renewIntervalMs + this.safetyMarginMs >= this.ttlMs) {
      throw new RangeError(`renewIntervalMs (${this.renewIntervalMs}) + safetyMarginMs (${this.safetyMarginMs}) must stay below ttlMs (${this.ttlMs})`);
    }
    this.retryIntervalMs = options.retryIntervalMs ?? Math.max(10, Math.min(Math.floor(options.ttlMs / 4), 1000));
    this.clock = options.clock ?? monotonicClock;
    this.log = options.log ?? silentLogger;
  }

  /**
   * Acquire the lease as `candidate`, polling while another candidate holds it. A candidate that
   * already holds it (a previous incarnation) gets a new, higher token.
   */
  async campaign(candidate: string, signal?: AbortSignal): Promise<Leadership> {
    for (let failures = 0; ; ) {
      if (isAborted(signal)) throw new AbortedError('campaign aborted', { cause: signal?.reason });
      const sentAtMs = this.clock.nowMs();
      try {
        const result = await this.qjm.acquireLease(this.leaseName, candidate, this.ttlMs, signal);
        if (result.lease === null) throw new LeaseHeldError('acquireLease answered without a lease');
        const token = checkToken(result.lease.token, 'acquireLease');
        if (isAborted(signal)) {
          // Elected, but the caller no longer wants it: give it back.
          await this.qjm.releaseLease(this.leaseName, candidate, token).catch(() => undefined);
          throw new AbortedError('campaign aborted', { cause: signal?.reason });
        }
        this.log.info({ leaseName: this.leaseName, candidate, token }, 'journal lease acquired');
        return new JournalLeadership(this, candidate, token, sentAtMs);
      } catch (error) {
        if (error instanceof AbortedError) throw error;
        if (error instanceof LeaseHeldError) {
          failures = 0;
          await abortableDelay(this.retryIntervalMs, signal);
          continue;
        }
        if (!isRetryable(error)) throw error;
        failures += 1;
        await abortableDelay(Math.min(this.retryIntervalMs * failures, 5 * this.retryIntervalMs), signal);
      }
    }
  }

  /** The holder of the lease, as a JournalNode sees it; undefined when free or expired. */
  async leader(): Promise<string | undefined> {
    const result = await this.qjm.getLease(this.leaseName);
    const lease = result.lease;
    if (lease === null || lease.holder === '' || lease.remainingMs <= 0) return undefined;
    return lease.holder;
  }
}
