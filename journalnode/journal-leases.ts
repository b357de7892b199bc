/**
 * The embedded election: leases kept in the journal state machine, one per
 * (journal id, lease name). Pure and deterministic: time comes only from the commands
 * (`nowMs`, stamped by the Raft leader that proposed them), tokens from Raft indexes.
 *
 * Rules (checked at apply, identical on every replica):
 * - the lease clock is the largest `nowMs` applied so far, so time never runs backwards when
 *   leadership moves to a JournalNode whose clock is behind;
 * - acquire succeeds when the lease is free, expired (expiresAtMs <= clock) or held by the
 *   same candidate; every successful acquire gets a new token = the Raft index of its entry
 *   (strictly increasing), so a restarted candidate fences its previous incarnation;
 * - renew succeeds for the holder with its current token while not expired;
 * - release by the holder with its token frees the lease; any other release is a no-op answer.
 */
import type { JournalErrorWire } from './protocol/errors.ts';
import { journalErrorWire } from './protocol/errors.ts';
import { candidatePattern, isSafeUint, journalIdPattern, leaseNamePattern, leaseTtlMsMax, leaseTtlMsMin } from './protocol/limits.ts';
import type { AcquireLeaseCommand, CommandResult, LeaseInfo, LeaseResult, ReleaseLeaseCommand, RenewLeaseCommand } from './journal-commands.ts';

/** Most leases kept; expired ones are dropped to make room, oldest first. */
export const leasesMax = 10_000;

/** One held lease, as snapshotted. */
export interface LeaseState {
  readonly journalId: string;
  readonly leaseName: string;
  readonly holder: string;
  readonly token: number;
  readonly expiresAtMs: number;
}

/** The snapshot form of a {@link LeaseTable}. Lease order is kept (it decides evictions). */
export interface LeaseTableState {
  readonly clockMs: number;
  readonly leases: readonly LeaseState[];
}

function invalid(message: string): { ok: false; error: JournalErrorWire } {
  return { ok: false, error: journalErrorWire('INVALID_ARGUMENT', message) };
}

function keyOf(journalId: string, leaseName: string): string {
  return `${journalId}/${leaseName}`;
}

/** The leases of the state machine. */
export class LeaseTable {
  private readonly leases = new Map<string, LeaseState>();
  private clock = 0;

  /** The lease clock: the largest `nowMs` applied. */
  get clockMs(): number {
    return this.clock;
  }

  /** Apply an acquire carried by the entry at Raft index `index`. */
  acquire(command: AcquireLeaseCommand, index: number): CommandResult<LeaseResult> {
    const bad = checkIdentity(command) ?? checkTtl(command.ttlMs) ?? checkNow(command.nowMs);
    if (bad !== undefined) return bad;
    const now = this.advance(command.nowMs);
    const key = keyOf(command.journalId, command.leaseName);
    const current = this.leases.get(key);
    if (current !== undefined && current.holder !== command.candidate && current.expiresAtMs > now) {
      return {
        ok: false,
        error: journalErrorWire('LEASE_HELD', `lease ${key} held by ${current.holder} for ${current.expiresAtMs - now} ms more`),
      };
    }
    if (current === undefined && !this.makeRoom(now)) return invalid(`too many leases (${leasesMax})`);
    const lease: LeaseState = {
      journalId: command.journalId,
      leaseName: command.leaseName,
      holder: command.candidate,
      token: index,
      expiresAtMs: now + command.ttlMs,
    };
    this.leases.delete(key);
    this.leases.set(key, lease);
    return { ok: true, lease: infoOf(lease, now), released: false };
  }

  /** Apply a renew. */
  renew(command: RenewLeaseCommand): CommandResult<LeaseResult> {
    const bad = checkIdentity(command) ?? checkTtl(command.ttlMs) ?? checkNow(command.nowMs) ?? checkToken(command.token);
    if (bad !== undefined) return bad;
    const now = this.advance(command.nowMs);
    const key = keyOf(command.journalId, command.leaseName);
    const current = this.leases.get(key);
    if (current === undefined || current.holder !== command.candidate || current.token !== command.token) {
      return { ok: false, error: journalErrorWire('LEASE_EXPIRED', `lease ${key} is not held by ${command.candidate} with token ${command.token}`) };
    }
    if (current.expiresAtMs <= now) {
      return { ok: false, error: journalErrorWire('LEASE_EXPIRED', `lease ${key} expired ${now - current.expiresAtMs} ms ago`) };
    }
    const lease: LeaseState = { ...current, expiresAtMs: now + command.ttlMs };
    this.leases.set(key, lease);
    return { ok: true, lease: infoOf(lease, now), released: false };
  }

  /** Apply a release. */
  release(command: ReleaseLeaseCommand): CommandResult<LeaseResult> {
    const bad = checkIdentity(command) ?? checkNow(command.nowMs) ?? checkToken(command.token);
    if (bad !== undefined) return bad;
    const now = this.advance(command.nowMs);
    const key = keyOf(command.journalId, command.leaseName);
    const current = this.leases.get(key);
    if (current !== undefined && current.holder === command.candidate && current.token === command.token) {
      this.leases.delete(key);
      return { ok: true, lease: freeLease(command.journalId, command.leaseName), released: true };
    }
    const lease = current === undefined ? freeLease(command.journalId, command.leaseName) : infoOf(current, now);
    return { ok: true, lease, released: false };
  }

  /**
   * The lease as seen at `nowMs` (the reader's clock): holder '' when free or expired, with
   * the time left. Never changes state.
   */
  get(journalId: string, leaseName: string, nowMs: number): LeaseInfo {
    const current = this.leases.get(keyOf(journalId, leaseName));
    if (current === undefined) return freeLease(journalId, leaseName);
    const info = infoOf(current, nowMs);
    return info.remainingMs > 0 ? info : { ...info, holder: '' };
  }

  /** The snapshot form. */
  toState(): LeaseTableState {
    return { clockMs: this.clock, leases: [...this.leases.values()] };
  }

  /** Rebuild a table from its snapshot form (same lease order). */
  static fromState(state: LeaseTableState): LeaseTable {
    const table = new LeaseTable();
    table.clock = state.clockMs;
    for (const lease of state.leases) table.leases.set(keyOf(lease.journalId, lease.leaseName), lease);
    return table;
  }

  private advance(nowMs: number): number {
    if (nowMs > this.clock) this.clock = nowMs;
    return this.clock;
  }

  /** Drop expired leases (oldest first) until one more fits; false when none could go. */
  private makeRoom(now: number): boolean {
    if (this.leases.size < leasesMax) return true;
    for (const [key, lease] of this.leases) {
      if (lease.expiresAtMs <= now) {
        this.leases.delete(key);
        return true;
      }
    }
    return false;
  }
}

function infoOf(lease: LeaseState, nowMs: number): LeaseInfo {
  return { ...lease, remainingMs: Math.max(0, lease.expiresAtMs - nowMs) };
}

function freeLease(journalId: string, leaseName: string): LeaseInfo {
  return { journalId, leaseName, holder: '', token: 0, expiresAtMs: 0, remainingMs: 0 };
}

function checkIdentity(command: { journalId: string; leaseName: string; candidate: string }): { ok: false; error: JournalErrorWire } | undefined {
  if (!journalIdPattern.test(command.journalId)) return invalid(`invalid journal id ${JSON.stringify(command.journalId)}`);
  if (!leaseNamePattern.test(command.leaseName)) return invalid(`invalid lease name ${JSON.stringify(command.leaseName)}`);
  if (!candidatePattern.test(command.candidate)) return invalid('invalid candidate (1 to 256 printable ASCII characters)');
  return undefined;
}

function checkTtl(ttlMs: number): { ok: false; error: JournalErrorWire } | undefined {
  if (!isSafeUint(ttlMs) || ttlMs < leaseTtlMsMin || ttlMs > leaseTtlMsMax) return invalid(`invalid ttl ${ttlMs} ms (${leaseTtlMsMin} .. ${leaseTtlMsMax})`);
  return undefined;
}

function checkNow(nowMs: number): { ok: false; error: JournalErrorWire } | undefined {
  if (!isSafeUint(nowMs) || nowMs > Number.MAX_SAFE_INTEGER - leaseTtlMsMax) return invalid(`invalid time ${nowMs} ms`);
  return undefined;
}

function checkToken(token: number): { ok: false; error: JournalErrorWire } | undefined {
  if (!isSafeUint(token) || token < 1) return invalid(`invalid token ${token}`);
  return undefined;
}
