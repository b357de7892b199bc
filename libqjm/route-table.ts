/**
 * Leader routing for one JournalNode group, in the manner of braft's route table: the leader's
 * address is cached; a follower's NOT_LEADER answer names the leader (the hint) and the next
 * attempt goes there; when no leader is known the nodes are asked in turn (round robin); failed
 * attempts back off exponentially with jitter, up to the request's deadline.
 *
 * The decisions are pure functions over a {@link RouteState} (tested without sockets);
 * {@link RouteTable} holds the state and runs the retry loop around one call.
 */
import { NotLeaderError, UnavailableError, AbortedError, NoQuorumError, RpcError } from './errors.ts';
import type { Clock } from './clock.ts';
import { abortable, abortableDelay, isAborted, monotonicClock } from './clock.ts';

/** What the table knows. Immutable: every decision returns a new state. */
export interface RouteState {
  /** The configured nodes (host:port of their QJournal service), in configuration order. */
  readonly nodes: readonly string[];
  /** The cached leader, or undefined when unknown. May be an address outside `nodes` (a hint). */
  readonly leader: string | undefined;
  /** Index in `nodes` of the next node to ask when no leader is known (round robin). */
  readonly probeIndex: number;
}

/** Exponential backoff with jitter. */
export interface BackoffPolicy {
  /** Delay after the first failure, in milliseconds. */
  readonly initialDelayMs: number;
  /** Largest delay, in milliseconds. */
  readonly maxDelayMs: number;
  /** Growth factor per failure (>= 1). */
  readonly multiplier: number;
  /** Fraction of the delay drawn at random (0: none, 1: the delay is uniform in 0..base). */
  readonly jitter: number;
}

/** Backoff used unless configured: 20 ms, doubling, up to 1 s, 50 % jitter. */
export const defaultBackoffPolicy: BackoffPolicy = { initialDelayMs: 20, maxDelayMs: 1000, multiplier: 2, jitter: 0.5 };

/** A fresh state: no leader known, probing starts at the first node. */
export function initialRouteState(nodes: readonly string[]): RouteState {
  if (nodes.length === 0) throw new RangeError('a route table needs at least one node');
  return { nodes: [...nodes], leader: undefined, probeIndex: 0 };
}

/**
 * The node the next attempt goes to: the cached leader if any, otherwise the next node of the
 * round robin (which then advances).
 */
export function pickTarget(state: RouteState): { address: string; state: RouteState } {
  if (state.leader !== undefined) return { address: state.leader, state };
  const index = state.probeIndex % state.nodes.length;
  const address = state.nodes[index]!;
  return { address, state: { ...state, probeIndex: (index + 1) % state.nodes.length } };
}

/** `address` served a leader-only request: it is the leader. */
export function afterLeaderSuccess(state: RouteState, address: string): RouteState {
  return state.leader === address ? state : { ...state, leader: address };
}

/**
 * `address` answered NOT_LEADER with `hint` ('' when it knows no leader). A hint naming the
 * answering node itself is ignored (a stale view); otherwise the hint becomes the cached leader.
 * Without a usable hint the leader is forgotten and the round robin moves past `address`.
 */
export function afterNotLeader(state: RouteState, address: string, hint: string): RouteState {
  if (hint !== '' && hint !== address) return { ...state, leader: hint };
  return forget(state, address);
}

/** `address` could not be reached or could not serve (transport error, UNAVAILABLE). */
export function afterUnreachable(state: RouteState, address: string): RouteState {
  return forget(state, address);
}

function forget(state: RouteState, address: string): RouteState {
  const index = state.nodes.indexOf(address);
  const probeIndex = index >= 0 && state.probeIndex === index ? (index + 1) % state.nodes.length : state.probeIndex;
  const leader = state.leader === address ? undefined : state.leader;
  if (leader === state.leader && probeIndex === state.probeIndex) return state;
  return { ...state, leader, probeIndex };
}

/**
 * The node a hedged attempt goes to while the attempts at `busy` are unanswered: the next
 * configured node of the round robin that is not busy (the cached leader is kept: a node that
 * knows the leader names it, and an attempt at it is already running). Undefined when every
 * configured node is busy.
 */
export function pickHedgeTarget(state: RouteState, busy: ReadonlySet<string>): { address: string; state: RouteState } | undefined {
  for (let step = 0; step < state.nodes.length; step += 1) {
    const index = (state.probeIndex + step) % state.nodes.length;
    const address = state.nodes[index]!;
    if (!busy.has(address)) return { address, state: { ...state, probeIndex: (index + 1) % state.nodes.length } };
  }
  return undefined;
}

/**
 * Delay before retry number `failures` (1 for the first retry), in milliseconds.
 * `random01` is a number in [0, 1) (injected for determinism).
 */
export function backoffDelayMs(failures: number, policy: BackoffPolicy, random01: number): number {
  if (failures <= 0) return 0;
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * Math.pow(policy.multiplier, failures - 1));
  return Math.max(0, Math.round(base * (1 - policy.jitter * random01)));
}

/** How a failed attempt is handled. */
export type AttemptOutcome =
  /** Retry at once: a new leader was named. */
  | { readonly kind: 'follow-hint' }
  /** Retry after a backoff delay. */
  | { readonly kind: 'backoff' }
  /** Give up: the error is the caller's answer. */
  | { readonly kind: 'fail' };

/**
 * Classify the error of one attempt at `address` and update the route:
 * NOT_LEADER with a new hint is followed at once; NOT_LEADER without a hint, UNAVAILABLE and
 * retryable transport errors back off and move on; anything else is the caller's answer.
 */
export function classifyFailure(state: RouteState, address: string, error: unknown): { outcome: AttemptOutcome; state: RouteState } {
  if (error instanceof NotLeaderError) {
    const next = afterNotLeader(state, address, error.leaderHint);
    const followed = next.leader !== undefined && next.leader !== state.leader;
    return { outcome: followed ? { kind: 'follow-hint' } : { kind: 'backoff' }, state: next };
  }
  if (error instanceof UnavailableError || (error instanceof RpcError && error.retryable)) {
    return { outcome: { kind: 'backoff' }, state: afterUnreachable(state, address) };
  }
  return { outcome: { kind: 'fail' }, state };
}

/** Options of a {@link RouteTable}. */
export interface RouteTableOptions {
  /** The nodes' QJournal addresses (host:port). */
  readonly nodes: readonly string[];
  readonly backoff?: BackoffPolicy;
  /** Most hints followed in a row without a backoff delay (stops hint ping-pong); default: nodes + 1. */
  readonly hintHopsMax?: number;
  readonly clock?: Clock;
  /** Random numbers in [0, 1) for jitter; default Math.random. */
  readonly random?: () => number;
  /**
   * An attempt unanswered this long (ms) is hedged: another node is asked too, and the first
   * answer that settles the call wins. Default {@link defaultHedgeDelayMs}.
   */
  readonly hedgeDelayMs?: number;
}

/**
 * Default hedge delay: far above a healthy call (milliseconds), far below the per-attempt
 * timeout (a third of the call's), which a silent node (paused, partitioned) would otherwise
 * cost every call that tries it first.
 */
export const defaultHedgeDelayMs = 500;

/** Options of one {@link RouteTable.invoke}. */
export interface InvokeOptions {
  /** Total time for every attempt and delay, in milliseconds. */
  readonly timeoutMs: number;
  /** Ends the retries early (rejects with AbortedError). */
  readonly signal?: AbortSignal | undefined;
  /** What is being done, for error messages. */
  readonly what: string;
}

/** One attempt: call `address` with at most `attemptTimeoutMs` (ms) and return its answer or throw. */
export type Attempt<T> = (address: string, attemptTimeoutMs: number) => Promise<T>;

/** The leader cache of one JournalNode group and the retry loop around calls to it. */
export class RouteTable {
  private routeState: RouteState;
  private readonly backoff: BackoffPolicy;
  private readonly hintHopsMax: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly hedgeDelayMs: number;

  constructor(options: RouteTableOptions) {
    this.routeState = initialRouteState(options.nodes);
    this.backoff = options.backoff ?? defaultBackoffPolicy;
    this.hintHopsMax = options.hintHopsMax ?? options.nodes.length + 1;
    this.clock = options.clock ?? monotonicClock;
    this.random = options.random ?? Math.random;
    this.hedgeDelayMs = options.hedgeDelayMs ?? defaultHedgeDelayMs;
    if (!(this.hedgeDelayMs > 0)) throw new RangeError(`hedgeDelayMs must be positive, got ${this.hedgeDelayMs}`);
  }

  /** The current state (for status output and tests). */
  get state(): RouteState {
    return this.routeState;
  }

  /** The cached leader, if any. */
  get leader(): string | undefined {
    return this.routeState.leader;
  }

  /** The address the next attempt goes to (advances the round robin when no leader is known). */
  target(): string {
    const { address, state } = pickTarget(this.routeState);
    this.routeState = state;
    return address;
  }

  /** Record that `address` served a leader-only request. */
  leaderConfirmed(address: string): void {
    this.routeState = afterLeaderSuccess(this.routeState, address);
  }

  /** Record a failed attempt at `address`; returns what to do next. */
  failed(address: string, error: unknown): AttemptOutcome {
    const { outcome, state } = classifyFailure(this.routeState, address, error);
    this.routeState = state;
    return outcome;
  }

  /** Delay before retry number `failures`, in milliseconds. */
  delayMs(failures: number): number {
    return backoffDelayMs(failures, this.backoff, this.random());
  }

  /**
   * Run `attempt` against the leader, following hints and retrying retryable failures until
   * `timeoutMs` has passed. Each attempt gets at most a third of the total time (at least
   * 50 ms), and one unanswered for the hedge delay is hedged: another node (one not being asked)
   * is asked too, at most one attempt per node at a time. The first success is the answer;
   * a retryable failure while other attempts run waits for them, otherwise it backs off.
   * `leaderOnly` requests confirm the leader on success. Non-retryable errors are rethrown as
   * they are; when time runs out, the last error is wrapped in {@link NoQuorumError}.
   */
  async invoke<T>(attempt: Attempt<T>, options: InvokeOptions & { readonly leaderOnly: boolean }): Promise<T> {
    type Settled = { readonly address: string; readonly ok: true; readonly value: T } | { readonly address: string; readonly ok: false; readonly error: unknown };
    const deadlineMs = this.clock.nowMs() + options.timeoutMs;
    const attemptTimeoutMs = Math.max(50, Math.ceil(options.timeoutMs / 3));
    const tried: string[] = [];
    const running = new Map<string, Promise<Settled>>();
    let hedgeAtMs = Number.POSITIVE_INFINITY;
    let failures = 0;
    let hintHops = 0;
    let lastError: unknown;
    const aborted = (): AbortedError => new AbortedError(`${options.what}: aborted`, { cause: options.signal?.reason });
    const start = (address: string): void => {
      tried.push(address);
      const remainingMs = Math.max(1, deadlineMs - this.clock.nowMs());
      let pending: Promise<T>;
      try {
        pending = attempt(address, Math.min(attemptTimeoutMs, remainingMs));
      } catch (error) {
        pending = Promise.reject(error);
      }
      running.set(
        address,
        pending.then(
          (value): Settled => ({ address, ok: true, value }),
          (error: unknown): Settled => ({ address, ok: false, error }),
        ),
      );
      hedgeAtMs = this.clock.nowMs() + this.hedgeDelayMs;
    };
    for (;;) {
      if (isAborted(options.signal)) throw aborted();
      const nowMs = this.clock.nowMs();
      if (nowMs >= deadlineMs) break;
      if (running.size === 0) {
        start(this.target());
        continue;
      }
      const waitMs = Math.max(0, Math.min(deadlineMs, hedgeAtMs) - nowMs);
      let timer: NodeJS.Timeout | undefined;
      const elapsed = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), waitMs);
      });
      let settled: Settled | undefined;
      try {
        settled = await abortable(Promise.race([...running.values(), elapsed]), options.signal);
      } catch (error) {
        if (error instanceof AbortedError && isAborted(options.signal)) throw aborted();
        throw error;
      } finally {
        clearTimeout(timer);
      }
      if (settled === undefined) {
        if (this.clock.nowMs() >= deadlineMs) break;
        // Hedge: ask a node not being asked; none left, then wait for the running attempts.
        const picked = pickHedgeTarget(this.routeState, new Set(running.keys()));
        if (picked === undefined) {
          hedgeAtMs = Number.POSITIVE_INFINITY;
        } else {
          this.routeState = picked.state;
          start(picked.address);
        }
        continue;
      }
      running.delete(settled.address);
      if (settled.ok) {
        if (options.leaderOnly) this.leaderConfirmed(settled.address);
        return settled.value;
      }
      lastError = settled.error;
      const outcome = this.failed(settled.address, settled.error);
      if (outcome.kind === 'fail') throw settled.error;
      if (outcome.kind === 'follow-hint' && hintHops < this.hintHopsMax) {
        hintHops += 1;
        const leader = this.target();
        if (!running.has(leader)) start(leader);
        continue;
      }
      hintHops = 0;
      failures += 1;
      if (running.size > 0) continue; // the others may still answer
      const delay = Math.min(this.delayMs(failures), Math.max(0, deadlineMs - this.clock.nowMs()));
      if (delay > 0) await abortableDelay(delay, options.signal).catch((error: unknown) => {
        throw error instanceof AbortedError ? aborted() : error;
      });
    }
    throw new NoQuorumError(`${options.what}: no JournalNode answered within ${options.timeoutMs} ms`, { triedAddresses: tried }, { cause: lastError });
  }
}
