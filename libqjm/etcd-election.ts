/**
 * Election through etcd (the `etcd3` package), in the manner of etcd's Go `concurrency.Election`:
 * each candidate puts a key `<prefix><name>/<lease id hex>` bound to its own lease; the key with
 * the lowest create revision leads, the others wait for the key just before theirs to go.
 *
 * Token: the campaign key's create revision (etcd revisions arrive as strings; checked to be safe
 * integers). Leadership follows create-revision order, so tokens strictly increase.
 *
 * Lost when any of: etcd3 reports the lease lost (keepalive answered "expired", or no contact
 * for long); the campaign key is deleted; or the local deadline passes: the last keepalive that
 * etcd confirmed was SENT at t, so the lease may expire at t + ttl; the holder gives up at
 * t + ttl - safetyMargin without a newer confirmation. State is re-checked after every await.
 */
import { Etcd3 } from 'etcd3';
import type { Lease, Watcher, IKeyValue } from 'etcd3';
import { AbortedError, ElectionError } from './errors.ts';
import type { ElectionHook, Leadership } from './election.ts';
import { checkToken } from './election.ts';
import type { Clock } from './clock.ts';
import { deferred, monotonicClock } from './clock.ts';
import type { Deferred } from './clock.ts';
import type { Logger } from './log.ts';
import { silentLogger } from './log.ts';

/** Options of an {@link EtcdElection}. */
export interface EtcdElectionOptions {
  /** etcd client URLs, e.g. `http://127.0.0.1:2379`. Ignored when `client` is given. */
  readonly hosts: readonly string[];
  /** The election's name: candidates of one election share it. */
  readonly name: string;
  /** Lease time to live, in seconds (>= 1). */
  readonly ttlSeconds: number;
  /** An etcd3 client to use (not closed by {@link EtcdElection.close}); default: one of our own. */
  readonly client?: Etcd3;
  /** Key prefix of every election. Default 'qjm/election/'. */
  readonly prefix?: string;
  /** The holder gives up this long before its lease could expire, in ms. Default ttl / 5. */
  readonly safetyMarginMs?: number;
  /** Time to dial etcd, in milliseconds. Default 5,000. */
  readonly dialTimeoutMs?: number;
  readonly clock?: Clock;
  readonly log?: Logger;
}

/** The lease is gone (or may be) while campaigning: campaign again with a new lease. */
class CampaignLostError extends ElectionError {
  override readonly name = 'CampaignLostError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, true, options);
  }
}

/**
 * One campaign and, once elected, one leadership: the lease, its liveness tracking and the
 * watch on the campaign key. `lost` resolves at most once.
 */
class EtcdCampaign implements Leadership {
  token = 0;
  private readonly lostDeferred: Deferred<void> = deferred<void>();
  private isLost = false;
  private lostReason = '';
  /** When each keepalive not yet answered was sent (monotonic ms), oldest first. */
  private keepalivesSentAtMs: number[] = [];
  private deadlineMs: number;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private keyWatcher: Watcher | undefined;
  private readonly election: EtcdElection;
  readonly lease: Lease;

  constructor(election: EtcdElection, lease: Lease, grantSentAtMs: number) {
    this.election = election;
    this.lease = lease;
    this.deadlineMs = grantSentAtMs + election.ttlSeconds * 1000 - election.safetyMarginMs;
    lease.on('lost', (error) => this.lose(`lease lost: ${error.message}`));
    lease.on('keepaliveEstablished', () => {
      this.keepalivesSentAtMs = [];
    });
    lease.on('keepaliveFired', () => {
      this.keepalivesSentAtMs.push(election.clock.nowMs());
      if (this.keepalivesSentAtMs.length > 64) this.keepalivesSentAtMs.shift();
    });
    lease.on('keepaliveSucceeded', () => {
      const sentAtMs = this.keepalivesSentAtMs.shift();
      if (sentAtMs === undefined || this.isLost) return;
      this.deadlineMs = Math.max(this.deadlineMs, sentAtMs + election.ttlSeconds * 1000 - election.safetyMarginMs);
    });
    this.armDeadline();
  }

  get lost(): Promise<void> {
    return this.lostDeferred.promise;
  }

  /** True once lost; `reason` says why. */
  get ended(): boolean {
    return this.isLost;
  }

  get reason(): string {
    return this.lostReason;
  }

  private armDeadline(): void {
    if (this.isLost) return;
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      if (this.election.clock.nowMs() >= this.deadlineMs) this.lose('no keepalive confirmed in time (local lease deadline)');
      else this.armDeadline();
    }, Math.max(0, this.deadlineMs - this.election.clock.nowMs()));
  }

  /** Throw CampaignLostError if lost (call after every await). */
  check(signal: AbortSignal | undefined): void {
    if (signal?.aborted === true) throw new AbortedError('campaign aborted', { cause: signal.reason });
    if (this.isLost) throw new CampaignLostError(`campaign lost: ${this.lostReason}`);
  }

  /** Watch the campaign key: its deletion loses the leadership. */
  async watchKey(key: string, createRevision: number): Promise<void> {
    const watcher = await this.election.client.watch().key(key).startRevision(String(createRevision)).only('delete').create();
    if (this.isLost) {
      await watcher.cancel().catch(() => undefined);
      return;
    }
    this.keyWatcher = watcher;
    watcher.on('delete', () => this.lose('campaign key deleted'));
  }

  lose(reason: string): void {
    if (this.isLost) return;
    this.isLost = true;
    this.lostReason = reason;
    if (this.token !== 0) this.election.log.warn({ election: this.election.name, token: this.token, reason }, 'etcd leadership lost');
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    const watcher = this.keyWatcher;
    this.keyWatcher = undefined;
    void watcher?.cancel().catch(() => undefined);
    // Best effort: delete our key now rather than at expiry (a no-op when the lease is gone).
    void this.lease.revoke().catch(() => undefined);
    this.lostDeferred.resolve();
  }

  async resign(): Promise<void> {
    const wasHeld = !this.isLost;
    this.lose('resigned');
    if (!wasHeld) return;
    try {
      await this.lease.revoke();
    } catch (error) {
      this.election.log.warn({ election: this.election.name, error: String(error) }, 'lease revoke failed (it will expire)');
    }
  }
}

/** Leader election on etcd. */
export class EtcdElection implements ElectionHook {
  /** @internal */ readonly client: Etcd3;
  /** @internal */ readonly name: string;
  /** @internal */ readonly ttlSeconds: number;
  /** @internal */ readonly safetyMarginMs: number;
  /** @internal */ readonly clock: Clock;
  /** @internal */ readonly log: Logger;
  private readonly keyPrefix: string;
  private readonly ownsClient: boolean;

  constructor(options: EtcdElectionOptions) {
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(options.name)) throw new RangeError(`invalid election name '${options.name}'`);
    if (!Number.isSafeInteger(options.ttlSeconds) || options.ttlSeconds < 1) throw new RangeError(`ttlSeconds ${options.ttlSeconds} must be an integer >= 1`);
    this.name = options.name;
    this.ttlSeconds = options.ttlSeconds;
    this.safetyMarginMs = options.safetyMarginMs ?? Math.floor((options.ttlSeconds * 1000) / 5);
    if (this.safetyMarginMs >= (options.ttlSeconds * 1000 * 2) / 3) throw new RangeError('safetyMarginMs must stay below two thirds of the TTL (keepalives go every third)');
    this.keyPrefix = `${options.prefix ?? 'qjm/election/'}${options.name}/`;
    this.clock = options.clock ?? monotonicClock;
    this.log = options.log ?? silentLogger;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new Etcd3({ hosts: [...options.hosts], dialTimeout: options.dialTimeoutMs ?? 5_000 });
  }

  /**
   * Campaign until elected (the key with the lowest create revision is ours). A lease lost while
   * waiting starts a new campaign with a new lease. Rejects with AbortedError when `signal`
   * aborts; with ElectionError for non-retryable etcd failures (bad token).
   */
  async campaign(candidate: string, signal?: AbortSignal): Promise<Leadership> {
    for (;;) {
      if (signal?.aborted === true) throw new AbortedError('campaign aborted', { cause: signal.reason });
      const grantSentAtMs = this.clock.nowMs();
      const lease = this.client.lease(this.ttlSeconds, { autoKeepAlive: true });
      const campaign = new EtcdCampaign(this, lease, grantSentAtMs);
      try {
        await this.runCampaign(campaign, candidate, signal);
        this.log.info({ election: this.name, candidate, token: campaign.token }, 'etcd leadership acquired');
        return campaign;
      } catch (error) {
        campaign.lose(`campaign ended: ${String(error)}`);
        if (error instanceof AbortedError) throw error;
        if (error instanceof ElectionError && !error.retryable) throw error;
        this.log.warn({ election: this.name, candidate, error: String(error) }, 'etcd campaign failed; retrying');
        await this.pause(200, signal);
      }
    }
  }

  private async pause(delayMs: number, signal: AbortSignal | undefined): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    if (signal?.aborted === true) throw new AbortedError('campaign aborted', { cause: signal.reason });
  }

  private async runCampaign(campaign: EtcdCampaign, candidate: string, signal: AbortSignal | undefined): Promise<void> {
    const leaseId = await campaign.lease.grant();
    campaign.check(signal);
    const key = `${this.keyPrefix}${BigInt(leaseId).toString(16)}`;
    const txn = await this.client
      .if(key, 'Create', '==', 0)
      .then(this.client.put(key).value(candidate).lease(leaseId))
      .else(this.client.get(key))
      .commit();
    campaign.check(signal);
    const existing: IKeyValue | undefined = txn.succeeded ? undefined : txn.responses[0]?.response_range.kvs[0];
    if (!txn.succeeded && existing === undefined) throw new CampaignLostError('campaign key vanished during creation');
    const token = checkToken(txn.succeeded ? txn.header.revision : existing!.create_revision, 'etcd create revision');
    campaign.token = token;
    await campaign.watchKey(key, token);
    campaign.check(signal);

    // Wait until no key of this election was created before ours.
    for (;;) {
      const before = await this.client
        .getAll()
        .prefix(this.keyPrefix)
        .maxCreateRevision(String(token - 1))
        .sort('Create', 'Descend')
        .limit(1)
        .exec();
      campaign.check(signal);
      const predecessor = before.kvs[0];
      if (predecessor === undefined) break;
      await this.waitForDelete(predecessor.key, before.header.revision, campaign, signal);
      campaign.check(signal);
    }
    // Re-check that the key is still ours (the lease may have expired while we waited).
    const own = await this.client.get(key).exec();
    campaign.check(signal);
    if (own.kvs[0]?.create_revision !== String(token)) throw new CampaignLostError('campaign key gone before election');
  }

  /** Resolve once `key` is deleted (watched from `revision`), the campaign is lost, or `signal` aborts. */
  private async waitForDelete(key: Buffer, revision: string, campaign: EtcdCampaign, signal: AbortSignal | undefined): Promise<void> {
    const watcher = await this.client.watch().key(key).startRevision(revision).only('delete').create();
    try {
      campaign.check(signal);
      await new Promise<void>((resolve, reject) => {
        watcher.once('delete', () => resolve());
        watcher.once('error', (error) => reject(new CampaignLostError(`watch failed: ${error.message}`, { cause: error })));
        void campaign.lost.then(() => resolve());
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      await watcher.cancel().catch(() => undefined);
    }
  }

  /** The current leader's candidate identity (the value of the oldest key), if any. */
  async leader(): Promise<string | undefined> {
    const result = await this.client.getAll().prefix(this.keyPrefix).sort('Create', 'Ascend').limit(1).exec();
    return result.kvs[0]?.value.toString();
  }

  /** Close the etcd client if this election created it. */
  close(): void {
    if (this.ownsClient) this.client.close();
  }
}
