/**
 * A light, steady stream of namespace mutations against the metadata masters' HTTP API, as a
 * client of the pair would send them: it follows the active master (the 503 hint, or the next
 * address when one is down), and it keeps an exact model of what the namespace under its own
 * folder must hold.
 *
 * Operations, on files only it touches (unique names under `root`): create `f<n>`; every
 * `renameEvery`-th operation renames the oldest live file to `r<n>`; once `liveFilesMax` files
 * live, the oldest is deleted. An operation on a file waits until the previous one on it is
 * settled, so the model is a plain replay of outcomes.
 *
 * Outcomes: 200 is acknowledged (applied to the model). A request whose answer was lost (the
 * master died, or answered NOT_ACKNOWLEDGED) may or may not have been committed: it is sent
 * again until it gets an answer, and the answer settles it (create answered ALREADY_EXISTS, or
 * rename/delete answered NOT_FOUND, means the first attempt was committed). NOT_ACTIVE and
 * refused connections are sent elsewhere; they were not logged.
 */

/** Limits and pace of a {@link NamespaceLoad}. */
export interface LoadOptions {
  /** HTTP addresses (host:port) of every master. */
  readonly masters: readonly string[];
  /** The folder the load owns (created with parents), e.g. `/load/<run id>`. */
  readonly root: string;
  /** Target operations per second. Default 50. */
  readonly ratePerSecond?: number;
  /** Most requests in flight. Default 16. */
  readonly concurrencyMax?: number;
  /** Files kept alive before the oldest are deleted. Default 500. */
  readonly liveFilesMax?: number;
  /** Every N-th operation is a rename. Default 4. */
  readonly renameEvery?: number;
  /** Time for one HTTP request, ms. Default 10,000. */
  readonly requestTimeoutMs?: number;
  /** Delay before trying again after a refused connection or NOT_ACTIVE without hint, ms. Default 100. */
  readonly retryDelayMs?: number;
  /** Keep every acknowledged operation for {@link NamespaceLoad.acknowledgedOperations} (tests, the demo). Default false. */
  readonly recordAcknowledged?: boolean;
}

/** One acknowledged operation. */
export interface AckedOperation {
  readonly op: 'mkdir' | 'create' | 'rename' | 'delete';
  readonly path: string;
  readonly to?: string;
  /** The txid the master answered with (null when a retry's answer showed the first attempt had taken effect). */
  readonly txid: number | null;
  /** The master that answered. */
  readonly master: string;
  /** When it was answered (performance.now(), ms). */
  readonly atMs: number;
}

/** Counters of a {@link NamespaceLoad}. */
export interface LoadStats {
  /** Operations answered 200 (first hand). */
  readonly acknowledged: number;
  /** Operations whose first answer was lost, settled later by a retry's answer. */
  readonly settledAfterRetry: number;
  /** Requests sent again (NOT_ACTIVE, refused, lost answers). */
  readonly retries: number;
  /** Operations answered with an unexpected error (should stay 0). */
  readonly unexpected: number;
  /** Operations given up unsettled at stop (should stay 0). */
  readonly abandoned: number;
  /** Requests in flight. */
  readonly inflight: number;
  /** The highest txid answered. */
  readonly lastTxId: number;
  /** The master the load sends to now. */
  readonly target: string;
}

interface Operation {
  readonly op: 'create' | 'rename' | 'delete';
  readonly path: string;
  readonly to?: string;
}

type Attempt =
  | { kind: 'answered'; status: number; body: { txid?: number | null; error?: { code?: string }; active?: { http?: string } | null } }
  | { kind: 'not-sent' }
  | { kind: 'lost' };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Network errors that prove the request never reached the server. */
function notSent(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED' || cause?.code === 'EHOSTUNREACH' || cause?.code === 'ENOTFOUND';
}

/** A steady stream of mutations; see the module comment. */
export class NamespaceLoad {
  private readonly options: Required<LoadOptions>;
  private readonly masters: string[];
  private targetIndex = 0;
  private started = false;
  private stopping = false;
  private abandoning = false;
  private readonly uncertain = new Set<string>();
  private ticker: NodeJS.Timeout | undefined;
  private startedAtMs = 0;
  private launched = 0;
  private inflightCount = 0;
  private readonly inflightDone = new Set<Promise<void>>();
  private counter = 0;
  private opCount = 0;
  /** Live files, oldest first (the model: what must exist under root). */
  private readonly live: string[] = [];
  /** Files with an operation in flight. */
  private readonly busy = new Set<string>();
  private stats = { acknowledged: 0, settledAfterRetry: 0, retries: 0, unexpected: 0, abandoned: 0, lastTxId: 0 };
  private readonly ackListeners: ((acked: AckedOperation) => void)[] = [];
  private readonly ackedLog: AckedOperation[] = [];
  /** Acknowledged operations kept for {@link acknowledgedOperations}. */
  static readonly ackedLogMax = 1_000_000;

  constructor(options: LoadOptions) {
    if (options.masters.length === 0) throw new RangeError('NamespaceLoad: no master address');
    if (!options.root.startsWith('/') || options.root === '/') throw new RangeError(`NamespaceLoad: root '${options.root}' must be a folder below /`);
    this.options = {
      ratePerSecond: 50,
      concurrencyMax: 16,
      liveFilesMax: 500,
      renameEvery: 4,
      requestTimeoutMs: 10_000,
      retryDelayMs: 100,
      recordAcknowledged: false,
      ...options,
    };
    this.masters = [...options.masters];
  }

  /** The folder the load owns. */
  get root(): string {
    return this.options.root;
  }

  /** Counters now. */
  get snapshot(): LoadStats {
    return { ...this.stats, inflight: this.inflightCount, target: this.masters[this.targetIndex]! };
  }

  /** Every acknowledged operation so far, in answer order (bounded by ackedLogMax; empty unless `recordAcknowledged`). */
  get acknowledgedOperations(): readonly AckedOperation[] {
    return this.ackedLog;
  }

  /** Call `listener` on every acknowledged operation. */
  onAck(listener: (acked: AckedOperation) => void): void {
    this.ackListeners.push(listener);
  }

  /** The paths that must exist under root (files), sorted: the model of the acknowledged namespace. */
  expectedFiles(): string[] {
    return [...this.live].sort();
  }

  /** Create the root folder (retrying until a master answers), then start the stream. */
  async start(): Promise<void> {
    if (this.started) throw new Error('NamespaceLoad.start: called twice');
    this.started = true;
    for (;;) {
      const result = await this.perform({ op: 'mkdir', path: this.options.root } as const);
      if (result === 'ok') break;
      if (this.stopping) return;
    }
    this.startedAtMs = performance.now();
    this.ticker = setInterval(() => this.tick(), 20);
  }

  /**
   * Stop sending new operations and wait until every operation in flight is settled; after
   * `settleTimeoutMs` the unsettled ones are abandoned (counted in `abandoned`, their files left
   * out of the model: {@link uncertainFiles}).
   */
  async stop(settleTimeoutMs = 30_000): Promise<void> {
    this.stopping = true;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
    const timer = setTimeout(() => {
      this.abandoning = true;
    }, settleTimeoutMs);
    while (this.inflightDone.size > 0) await Promise.all([...this.inflightDone]);
    clearTimeout(timer);
  }

  /** Files whose last operation was abandoned unsettled (may or may not exist). */
  uncertainFiles(): string[] {
    return [...this.uncertain].sort();
  }

  /** Launch what the rate allows. */
  private tick(): void {
    if (this.stopping) return;
    const due = Math.floor(((performance.now() - this.startedAtMs) / 1000) * this.options.ratePerSecond);
    // Do not build a backlog while the masters cannot answer (failover): skip what is overdue.
    if (due - this.launched > this.options.concurrencyMax) this.launched = due - this.options.concurrencyMax;
    while (this.launched < due && this.inflightCount < this.options.concurrencyMax) {
      const operation = this.nextOperation();
      if (operation === undefined) return;
      this.launched += 1;
      this.inflightCount += 1;
      for (const path of [operation.path, operation.to]) if (path !== undefined) this.busy.add(path);
      const done = this.run(operation).finally(() => {
        this.inflightCount -= 1;
        for (const path of [operation.path, operation.to]) if (path !== undefined) this.busy.delete(path);
        this.inflightDone.delete(done);
      });
      this.inflightDone.add(done);
    }
  }

  private nextOperation(): Operation | undefined {
    this.opCount += 1;
    const oldest = this.live.find((path) => !this.busy.has(path));
    if (oldest !== undefined && this.live.length >= this.options.liveFilesMax) return { op: 'delete', path: oldest };
    if (oldest !== undefined && this.opCount % this.options.renameEvery === 0) {
      this.counter += 1;
      return { op: 'rename', path: oldest, to: `${this.options.root}/r${this.counter}` };
    }
    this.counter += 1;
    return { op: 'create', path: `${this.options.root}/f${this.counter}` };
  }

  private async run(operation: Operation): Promise<void> {
    const result = await this.perform(operation);
    if (result === 'abandoned') {
      for (const path of [operation.path, operation.to]) if (path !== undefined) this.uncertain.add(path);
      const at = this.live.indexOf(operation.path);
      if (at >= 0) this.live.splice(at, 1);
      return;
    }
    if (result !== 'ok') return;
    switch (operation.op) {
      case 'create':
        this.live.push(operation.path);
        break;
      case 'rename': {
        const at = this.live.indexOf(operation.path);
        if (at >= 0) this.live.splice(at, 1);
        this.live.push(operation.to!);
        break;
      }
      case 'delete': {
        const at = this.live.indexOf(operation.path);
        if (at >= 0) this.live.splice(at, 1);
        break;
      }
    }
  }

  /**
   * Send `operation` until it is settled: 'ok' when it took effect (first hand or settled by a
   * retry), 'failed' when a master refused it for good, 'stopped' when the load stopped before
   * it was ever sent, 'abandoned' when it was sent but never settled before the stop deadline.
   */
  private async perform(operation: Operation | { op: 'mkdir'; path: string }): Promise<'ok' | 'failed' | 'stopped' | 'abandoned'> {
    let lostBefore = false;
    for (;;) {
      if (this.abandoning) {
        if (!lostBefore) return 'stopped';
        this.stats.abandoned += 1;
        return 'abandoned';
      }
      const target = this.masters[this.targetIndex]!;
      const attempt = await this.send(target, operation);
      if (attempt.kind === 'not-sent') {
        if (this.stopping && !lostBefore) return 'stopped';
        this.rotateFrom(target);
        this.stats.retries += 1;
        await sleep(this.options.retryDelayMs);
        continue;
      }
      if (attempt.kind === 'lost') {
        lostBefore = true;
        this.stats.retries += 1;
        await sleep(this.options.retryDelayMs);
        continue;
      }
      const { status, body } = attempt;
      const code = body.error?.code;
      if (status === 503) {
        if (code === 'NOT_ACKNOWLEDGED') lostBefore = true;
        if (code === 'NOT_ACTIVE' && body.active?.http !== undefined && body.active.http !== target) {
          this.follow(body.active.http);
        } else {
          // No usable hint (the election is undecided, or points at this master): wait, then try another.
          if (code === 'NOT_ACTIVE') this.rotateFrom(target);
          await sleep(this.options.retryDelayMs);
        }
        if (this.stopping && !lostBefore && code === 'NOT_ACTIVE') return 'stopped';
        this.stats.retries += 1;
        continue;
      }
      const settledByRetry =
        lostBefore &&
        ((operation.op === 'create' && code === 'ALREADY_EXISTS') || ((operation.op === 'rename' || operation.op === 'delete') && code === 'NOT_FOUND'));
      if (status === 200 || settledByRetry) {
        const txid = status === 200 && typeof body.txid === 'number' ? body.txid : null;
        // 200 after a lost answer: the retry took effect (the first attempt was not committed).
        if (txid !== null) this.stats.lastTxId = Math.max(this.stats.lastTxId, txid);
        if (settledByRetry || lostBefore) this.stats.settledAfterRetry += 1;
        else this.stats.acknowledged += 1;
        const acked: AckedOperation = { op: operation.op, path: operation.path, ...('to' in operation && operation.to !== undefined ? { to: operation.to } : {}), txid, master: target, atMs: performance.now() };
        if (this.options.recordAcknowledged && this.ackedLog.length < NamespaceLoad.ackedLogMax) this.ackedLog.push(acked);
        for (const listener of this.ackListeners) listener(acked);
        return 'ok';
      }
      if (operation.op === 'mkdir' && code === 'ALREADY_EXISTS') return 'ok';
      this.stats.unexpected += 1;
      return 'failed';
    }
  }

  private async send(target: string, operation: Operation | { op: 'mkdir'; path: string }): Promise<Attempt> {
    const body =
      operation.op === 'mkdir'
        ? { path: operation.path, parents: true }
        : operation.op === 'rename'
          ? { path: operation.path, to: operation.to }
          : { path: operation.path };
    try {
      const response = await fetch(`http://${target}/${operation.op}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      const text = await response.text();
      let parsed: Extract<Attempt, { kind: 'answered' }>['body'] = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // not JSON: an error page; the status says enough
      }
      return { kind: 'answered', status: response.status, body: parsed };
    } catch (error) {
      return notSent(error) ? { kind: 'not-sent' } : { kind: 'lost' };
    }
  }

  private follow(address: string): void {
    let index = this.masters.indexOf(address);
    if (index < 0) {
      this.masters.push(address);
      index = this.masters.length - 1;
    }
    this.targetIndex = index;
  }

  /** Move to the next master, unless another request already moved away from `failed`. */
  private rotateFrom(failed: string): void {
    if (this.masters[this.targetIndex] !== failed) return;
    this.targetIndex = (this.targetIndex + 1) % this.masters.length;
  }
}
