/**
 * A cluster of kv-node processes (the Raft runtime with a key-value state machine) on loopback,
 * for the runtime's tests: real processes, real files, SIGKILL, optional fault proxies on every
 * raft link.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnChild, type Child } from './child.ts';
import { freePorts } from './ports.ts';
import { FaultProxy } from './fault-proxy.ts';
import { waitFor } from './wait.ts';
import { RaftAdminClient } from '../../raft/admin/client.ts';

export interface KvClusterOptions {
  nodes: number;
  proxies?: boolean;
  snapshotEntries?: number;
  snapshotKeepEntries?: number;
  laggingFollowerCacheBytes?: number;
  tickMs?: number;
  electionTicks?: number;
}

export interface KvNodeInfo {
  id: string;
  rpc: string;
  dataDir: string;
  http: string;
  child: Child | undefined;
  join: boolean;
}

const KV_NODE = new URL('./kv-node.ts', import.meta.url).pathname;

export class KvCluster {
  readonly nodes: KvNodeInfo[] = [];
  readonly proxies = new Map<string, FaultProxy>();
  readonly admin: RaftAdminClient;
  private constructor(private readonly root: string, private readonly options: KvClusterOptions, rpcs: string[]) {
    this.admin = new RaftAdminClient({ nodes: rpcs, groupId: 'kv', callTimeoutMs: 5000 });
  }

  static async start(options: KvClusterOptions): Promise<KvCluster> {
    const root = await mkdtemp(join(tmpdir(), 'kv-cluster-'));
    const ports = await freePorts(options.nodes);
    const rpcs = ports.map((p) => `127.0.0.1:${p}`);
    const cluster = new KvCluster(root, options, rpcs);
    for (let i = 0; i < options.nodes; i++) {
      cluster.nodes.push({ id: `n${i + 1}`, rpc: rpcs[i]!, dataDir: join(root, `n${i + 1}`), http: '', child: undefined, join: false });
    }
    if (options.proxies) {
      for (const from of cluster.nodes) {
        for (const to of cluster.nodes) {
          if (from === to) continue;
          const [host, port] = to.rpc.split(':');
          const proxy = new FaultProxy(host!, Number(port));
          await proxy.start();
          cluster.proxies.set(`${from.id}->${to.id}`, proxy);
        }
      }
    }
    await Promise.all(cluster.nodes.map((_, i) => cluster.launch(i)));
    await cluster.waitLeader();
    return cluster;
  }

  peersMap(): Record<string, string> {
    return Object.fromEntries(this.nodes.filter((n) => !n.join).map((n) => [n.id, n.rpc]));
  }

  async launch(i: number): Promise<void> {
    const n = this.nodes[i]!;
    const dialOverrides: Record<string, string> = {};
    for (const other of this.nodes) {
      const proxy = this.proxies.get(`${n.id}->${other.id}`);
      if (proxy) dialOverrides[other.id] = proxy.address;
    }
    const config = {
      id: n.id,
      dataDir: n.dataDir,
      rpc: n.rpc,
      peers: n.join ? Object.fromEntries(this.nodes.map((m) => [m.id, m.rpc])) : this.peersMap(),
      join: n.join,
      tickMs: this.options.tickMs ?? 50,
      electionTicks: this.options.electionTicks ?? 10,
      snapshotEntries: this.options.snapshotEntries ?? 100_000,
      snapshotKeepEntries: this.options.snapshotKeepEntries ?? 1000,
      laggingFollowerCacheBytes: this.options.laggingFollowerCacheBytes,
      dialOverrides,
    };
    const child = spawnChild(process.execPath, ['--import', 'tsx', KV_NODE, JSON.stringify(config)]);
    n.child = child;
    const m = await child.waitForLine(/^kv-node: id=\S+ rpc=\S+ http=(\S+)/, 120_000);
    n.http = m[1]!;
  }

  /** Add a brand new node process that joins the running group (not yet in the configuration). */
  async addNode(): Promise<KvNodeInfo> {
    const [port] = await freePorts(1);
    const id = `n${this.nodes.length + 1}`;
    const n: KvNodeInfo = { id, rpc: `127.0.0.1:${port}`, dataDir: join(this.root, id), http: '', child: undefined, join: true };
    this.nodes.push(n);
    await this.launch(this.nodes.length - 1);
    return n;
  }

  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.nodes[i]!.child?.kill(signal);
    this.nodes[i]!.child = undefined;
  }

  async restart(i: number): Promise<void> {
    await this.kill(i);
    await this.launch(i);
  }

  async wipe(i: number): Promise<void> {
    await this.kill(i);
    await rm(this.nodes[i]!.dataDir, { recursive: true, force: true });
  }

  live(): number[] {
    return this.nodes.map((n, i) => (n.child ? i : -1)).filter((i) => i >= 0);
  }

  async status(i: number): Promise<StatusLike> {
    const r = await fetch(`http://${this.nodes[i]!.http}/status`);
    return (await r.json()) as StatusLike;
  }

  /** Index of the node that is leader as seen by itself, among the live ones (-1 if none). */
  async leaderIndex(): Promise<number> {
    for (const i of this.live()) {
      try {
        const s = await this.status(i);
        if (s.softState.role === 'leader') return i;
      } catch {
        // down or starting
      }
    }
    return -1;
  }

  async waitLeader(timeoutMs = 60_000, exclude: number[] = []): Promise<number> {
    return waitFor(
      async () => {
        const i = await this.leaderIndex();
        return i >= 0 && !exclude.includes(i) ? i + 1 : 0;
      },
      { timeoutMs, what: 'a leader' },
    ).then((v) => v - 1);
  }

  /** Put through whichever live node is the leader; resolves with the applied result, throws after the deadline. */
  async put(key: string, value: string, timeoutMs = 20_000): Promise<{ index: number }> {
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    while (Date.now() < deadline) {
      for (const i of this.live()) {
        try {
          const r = await fetch(`http://${this.nodes[i]!.http}/put`, { method: 'POST', body: `${key}=${value}`, signal: AbortSignal.timeout(5000) });
          const body = (await r.json()) as { index: number; error?: string };
          if (r.status === 200) return body;
          lastError = `${this.nodes[i]!.id}: ${r.status} ${body.error ?? ''}`;
        } catch (e) {
          lastError = `${this.nodes[i]!.id}: ${String(e)}`;
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`put ${key} failed until the deadline: ${lastError}`);
  }

  /** Try one put on node i only, once: 'ok' or the error. */
  async tryPutOn(i: number, key: string, value: string, timeoutMs = 2000): Promise<string> {
    try {
      const r = await fetch(`http://${this.nodes[i]!.http}/put`, { method: 'POST', body: `${key}=${value}`, signal: AbortSignal.timeout(timeoutMs) });
      return r.status === 200 ? 'ok' : `status ${r.status}`;
    } catch (e) {
      return String(e);
    }
  }

  async dump(i: number): Promise<{ data: Record<string, string>; lastIndex: number; writes: number }> {
    const r = await fetch(`http://${this.nodes[i]!.http}/dump`);
    return (await r.json()) as { data: Record<string, string>; lastIndex: number; writes: number };
  }

  /** Cut every link between the two sides (both directions). */
  partition(sideA: number[], sideB: number[]): void {
    for (const a of sideA) for (const b of sideB) {
      this.proxies.get(`${this.nodes[a]!.id}->${this.nodes[b]!.id}`)?.setMode('cut');
      this.proxies.get(`${this.nodes[b]!.id}->${this.nodes[a]!.id}`)?.setMode('cut');
    }
  }

  heal(): void {
    for (const p of this.proxies.values()) p.setMode('pass');
  }

  async stop(): Promise<void> {
    this.admin.close();
    await Promise.all(this.nodes.map((n) => n.child?.kill('SIGKILL')));
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    await rm(this.root, { recursive: true, force: true });
  }
}

export interface StatusLike {
  id: string;
  softState: { role: string; leader: string };
  hardState: { term: number; commit: number };
  applied: number;
  lastIndex: number;
  snapshotIndex: number;
  confState: { voters: string[]; learners: string[]; votersOutgoing: string[] };
  walStats: Record<string, number>;
  logHeldBytes: number;
  readAhead: { heldBytes: number; readsInFlight: number; misses: number };
}
