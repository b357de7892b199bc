/**
 * A client of the RaftAdmin service across a group's nodes, with a small route table: it
 * remembers the leader, follows NOT_LEADER hints, and tries the next node when one is down.
 */
import * as grpc from '@grpc/grpc-js';
import { loadAdminProtocol } from './proto.ts';
import type { AdminError__Output } from './generated/qjournal/raft/admin/v1/AdminError.ts';
import type { Configuration__Output } from './generated/qjournal/raft/admin/v1/Configuration.ts';
import type { NodeStatus__Output } from './generated/qjournal/raft/admin/v1/NodeStatus.ts';
import type { RaftAdminClient as GeneratedClient } from './generated/qjournal/raft/admin/v1/RaftAdmin.ts';

/** Most hops (hints followed plus nodes tried) for one call. */
export const ADMIN_CALL_ATTEMPTS_MAX = 16;

/** An error answered by a node (typed), or a transport failure (code 'UNAVAILABLE'). */
export class AdminCallError extends Error {
  override readonly name = 'AdminCallError';
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

type Reply<T> = { success?: T | null; error?: AdminError__Output | null; result?: string };

export interface RaftAdminClientOptions {
  /** host:port of the group's nodes (any subset that includes a live one). */
  readonly nodes: readonly string[];
  readonly groupId?: string;
  /** Deadline of one call, in ms (membership changes pass a longer one). */
  readonly callTimeoutMs?: number;
}

/** See module comment. Close with `close()`. */
export class RaftAdminClient {
  private readonly clients = new Map<string, GeneratedClient>();
  private readonly groupId: string;
  private readonly callTimeoutMs: number;
  private leaderAddress: string | undefined;

  constructor(private readonly options: RaftAdminClientOptions) {
    if (options.nodes.length === 0) throw new Error('admin client: no nodes');
    this.groupId = options.groupId ?? '';
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
  }

  /** The status of one node (by address). */
  async statusOf(address: string): Promise<NodeStatus__Output> {
    return this.unwrap(await this.call<NodeStatus__Output>(address, 'Status', { groupId: this.groupId }, this.callTimeoutMs));
  }

  /** The status of every node given; a node that does not answer gets its error instead. */
  async statusAll(): Promise<{ address: string; status?: NodeStatus__Output; error?: string }[]> {
    return Promise.all(
      this.options.nodes.map(async (address) => {
        try {
          return { address, status: await this.statusOf(address) };
        } catch (e) {
          return { address, error: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
  }

  addPeer(id: string, address: string, options: { learner?: boolean; timeoutMs?: number } = {}): Promise<Configuration__Output> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    return this.onLeader('AddPeer', { groupId: this.groupId, peer: { id, address }, learner: options.learner ?? false, timeoutMs }, timeoutMs + 5000);
  }

  removePeer(id: string): Promise<Configuration__Output> {
    return this.onLeader('RemovePeer', { groupId: this.groupId, id }, 60_000);
  }

  changePeers(peers: readonly { id: string; address: string }[], timeoutMs = 60_000): Promise<Configuration__Output> {
    return this.onLeader('ChangePeers', { groupId: this.groupId, peers, timeoutMs }, timeoutMs + 5000);
  }

  /** UNSAFE: sent to one node (`address`), which takes `peers` as its configuration. */
  async resetPeer(address: string, peers: readonly { id: string; address: string }[], force: boolean): Promise<Configuration__Output> {
    return this.unwrap(await this.call<Configuration__Output>(address, 'ResetPeer', { groupId: this.groupId, peers, force }, this.callTimeoutMs));
  }

  /** Snapshot on one node (`address`), or on the leader when not given. */
  async snapshot(address?: string): Promise<{ index: number }> {
    if (address !== undefined) return this.unwrap(await this.call<{ index: number }>(address, 'Snapshot', { groupId: this.groupId }, 120_000));
    return this.onLeader('Snapshot', { groupId: this.groupId }, 120_000);
  }

  transferLeader(id: string, timeoutMs = 30_000): Promise<{ leaderId: string }> {
    return this.onLeader('TransferLeader', { groupId: this.groupId, id, timeoutMs }, timeoutMs + 5000);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  /** Call on the leader: the cached one first, then every node, following hints. */
  private async onLeader<T>(method: string, request: object, timeoutMs: number): Promise<T> {
    const queue = [...new Set([...(this.leaderAddress ? [this.leaderAddress] : []), ...this.options.nodes])];
    let last: AdminCallError | undefined;
    for (let attempt = 0; attempt < ADMIN_CALL_ATTEMPTS_MAX && queue.length > 0; attempt++) {
      const address = queue.shift()!;
      try {
        const reply = await this.call<T>(address, method, request, timeoutMs);
        if (reply.error && reply.error.code === 'NOT_LEADER') {
          last = new AdminCallError('NOT_LEADER', reply.error.message, true);
          const hint = reply.error.leaderHint;
          if (hint && hint !== address) {
            queue.unshift(hint);
            this.leaderAddress = hint;
          }
          continue;
        }
        const value = this.unwrap(reply);
        this.leaderAddress = address;
        return value;
      } catch (e) {
        if (e instanceof AdminCallError && e.code !== 'UNAVAILABLE') throw e;
        last = e instanceof AdminCallError ? e : new AdminCallError('UNAVAILABLE', String(e), true, { cause: e });
        if (this.leaderAddress === address) this.leaderAddress = undefined;
      }
    }
    throw last ?? new AdminCallError('UNAVAILABLE', 'no node answered', true);
  }

  private unwrap<T>(reply: Reply<T>): T {
    if (reply.error) throw new AdminCallError(reply.error.code, reply.error.message, reply.error.retryable);
    if (reply.success === undefined || reply.success === null) throw new AdminCallError('INTERNAL', 'empty reply', false);
    return reply.success;
  }

  private client(address: string): GeneratedClient {
    let c = this.clients.get(address);
    if (c === undefined) {
      const admin = loadAdminProtocol();
      c = new admin.RaftAdmin(address, grpc.credentials.createInsecure()) as unknown as GeneratedClient;
      this.clients.set(address, c);
    }
    return c;
  }

  private call<T>(address: string, method: string, request: object, timeoutMs: number): Promise<Reply<T>> {
    const client = this.client(address) as unknown as Record<string, (req: object, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Reply<T>) => void) => void>;
    return new Promise((resolve, reject) => {
      client[method]!.call(client, request, { deadline: Date.now() + timeoutMs }, (e, reply) => {
        if (e) reject(new AdminCallError('UNAVAILABLE', `${address}: ${e.details || e.message}`, true, { cause: e }));
        else resolve(reply ?? {});
      });
    });
  }
}
