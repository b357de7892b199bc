/**
 * The processes of a chaos run on loopback: JournalNodes (`./bin/journalnode`) in numbered
 * slots and chaos masters (`chaos/master.ts`), each with its own {@link ConnectProxy} so every
 * gRPC connection it opens crosses the {@link FaultNetwork} (`grpc_proxy` in its environment).
 *
 * JournalNode slots are allocated up front, with their ports and data directories: the initial
 * members, then spares that replace members during the run (membership changes). Masters are
 * given every slot's address: a slot not (or no longer) running refuses connections, as a
 * decommissioned host would.
 *
 * Every process is started with `--exit-with-parent` (or the master's equivalent) and SIGKILLed
 * when this process exits, so none outlives the run. Unexpected exits are recorded.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ManagedProcess } from '../deploy/managed-process.ts';
import { journalNodeArgs, journalNodeProcessEnv } from '../deploy/launcher.ts';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { freePort } from '../test/support/ports.ts';
import { join, resolve } from 'node:path';
import { ConnectProxy, type FaultNetwork } from './fault-proxy.ts';
import type { MasterConfig } from './master.ts';

/** The project root (where `bin/journalnode` lives). */
export const projectRoot = resolve(import.meta.dirname, '..');

/** Time a process gets to print its ready line, ms (tsx compiles on a cold start). */
export const processStartTimeoutMs = 60_000;

/** Time a process gets to exit after SIGTERM before it is SIGKILLed, ms. */
export const stopGraceMs = 15_000;

/** Time an HTTP status request gets, ms. */
export const statusTimeoutMs = 2_000;

/** The part of a JournalNode's `/status` the runner reads. */
export interface JnStatus {
  readonly id: string;
  readonly raft: {
    readonly role: string;
    readonly term: number;
    readonly leader: { readonly id: string; readonly address: string };
    readonly commitIndex: number;
    readonly appliedIndex: number;
    readonly lastIndex: number;
    readonly snapshotIndex: number;
    readonly configuration: { readonly voters: string[]; readonly learners: string[]; readonly votersOutgoing?: string[] };
    readonly progress: Record<string, { match: number; next: number; state: string }> | null;
  };
  readonly journals: readonly { readonly journalId: string; readonly lastTxId?: number; readonly promisedEpoch?: number }[];
}

/** An unexpected exit of a process, for the report. */
export interface ExitRecord {
  readonly name: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly atMs: number;
}

/** A free loopback TCP port (bound and released). */
export { freePort };

/** Lowest port {@link stablePort} picks. */
export const stablePortMin = 10_000;

/** The kernel's ephemeral port range (outgoing connections take their local port from it). */
function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return { low: low!, high: high! };
  } catch {
    // not Linux: the IANA range
  }
  return { low: 49152, high: 65535 };
}

/** True when 127.0.0.1:`port` can be bound now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolveBind) => {
    const server = createServer();
    server.once('error', () => resolveBind(false));
    server.listen({ host: '127.0.0.1', port }, () => server.close(() => resolveBind(true)));
  });
}

/**
 * A free loopback port below the kernel's ephemeral range, for an address that must stay
 * usable while its process is down (a killed node restarts on it, a spare slot starts on it
 * minutes later): no outgoing connection can take it meanwhile, as it could an ephemeral port.
 * `taken` ports are skipped.
 */
export async function stablePort(taken: ReadonlySet<number>): Promise<number> {
  const { low } = ephemeralRange();
  const high = Math.max(stablePortMin + 1000, low);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = stablePortMin + Math.floor(Math.random() * (high - stablePortMin));
    if (!taken.has(port) && (await canBind(port))) return port;
  }
  return freePort();
}

/** A chaos process: supervised by deploy's ManagedProcess, its unexpected exits recorded. */
function chaosProcess(name: string, logPath: string, readyLine: RegExp, onUnexpectedExit: (record: ExitRecord) => void): ManagedProcess {
  return new ManagedProcess({
    name,
    command: process.execPath,
    args: [],
    cwd: projectRoot,
    logPath,
    readyLine,
    startTimeoutMs: processStartTimeoutMs,
    ownProcessGroup: false,
    onExit: (exit, expected) => {
      if (!expected) onUnexpectedExit({ name, code: exit.code, signal: exit.signal, atMs: Date.now() });
    },
  });
}

/** The ready line of a JournalNode. */
const jnReadyLine = /^journalnode: id=\S+ rpc=\S+ http=\S+$/m;

/** The ready line of a chaos master. */
const masterReadyLine = /^chaos-master: id=\S+ ready$/m;

/** One JournalNode slot: fixed id, ports and directories; a process when started. */
export interface JnSlot {
  readonly index: number;
  readonly id: string;
  readonly rpc: string;
  readonly http: string;
  readonly dataDir: string;
  /** The control file of the fault-injecting file layer (`enospc` or `ok`). */
  readonly diskControlPath: string;
  readonly proxy: ConnectProxy;
  readonly process: ManagedProcess;
  /** True once the slot's node was removed from the group for good. */
  retired: boolean;
}

/** One master: id, history file, process. */
export interface MasterSlot {
  readonly id: string;
  readonly historyPath: string;
  readonly proxy: ConnectProxy;
  readonly process: ManagedProcess;
}

/** Settings of a {@link ChaosCluster}. */
export interface ChaosClusterOptions {
  readonly baseDir: string;
  readonly network: FaultNetwork;
  /** Initial members. */
  readonly nodes: number;
  /** Extra slots for members added during the run. */
  readonly spareSlots: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly snapshotEntries: number;
  readonly snapshotKeepEntries: number;
  /** Extra environment of every JournalNode (canaries, the fault-injecting file layer). */
  readonly jnEnv: Readonly<Record<string, string>>;
}

/** The JournalNodes and masters of one run. */
export class ChaosCluster {
  readonly slots: JnSlot[] = [];
  readonly masters: MasterSlot[] = [];
  readonly unexpectedExits: ExitRecord[] = [];
  private readonly options: ChaosClusterOptions;

  private constructor(options: ChaosClusterOptions) {
    this.options = options;
  }

  /** Allocate every slot (ports, directories, proxies). Starts nothing. */
  static async create(options: ChaosClusterOptions): Promise<ChaosCluster> {
    const cluster = new ChaosCluster(options);
    const total = options.nodes + options.spareSlots;
    const ports = new Set<number>();
    while (ports.size < total * 2) ports.add(await stablePort(ports));
    const list = [...ports];
    for (let i = 0; i < total; i++) {
      const id = `jn${i + 1}`;
      const rpc = `127.0.0.1:${list[2 * i]}`;
      const proxy = new ConnectProxy(options.network, id);
      await proxy.start();
      options.network.setAddress(rpc, id);
      cluster.slots.push({
        index: i,
        id,
        rpc,
        http: `127.0.0.1:${list[2 * i + 1]}`,
        dataDir: join(options.baseDir, id),
        diskControlPath: join(options.baseDir, `${id}.disk`),
        proxy,
        process: chaosProcess(id, join(options.baseDir, `${id}.log`), jnReadyLine, (record) => cluster.unexpectedExits.push(record)),
        retired: false,
      });
    }
    return cluster;
  }

  /** Environment that routes a process's gRPC connections through `proxy`. */
  private proxyEnv(proxy: ConnectProxy): Record<string, string> {
    return { grpc_proxy: proxy.url, https_proxy: '', http_proxy: '', no_grpc_proxy: '', no_proxy: '', GRPC_VERBOSITY: 'NONE' };
  }

  /** Start slot `index`'s JournalNode with `members` as its initial cluster (slot indexes). */
  async startJn(index: number, members: readonly number[], joining: boolean): Promise<void> {
    const slot = this.slots[index]!;
    const initialCluster = members.map((m) => `${this.slots[m]!.id}=${this.slots[m]!.rpc}`).join(',');
    if (!existsSync(slot.diskControlPath)) writeFileSync(slot.diskControlPath, 'ok\n');
    const args = journalNodeArgs([
      '--id', slot.id,
      '--data', slot.dataDir,
      '--rpc', slot.rpc,
      '--http', slot.http,
      '--initial-cluster', initialCluster,
      '--tick-ms', String(this.options.tickMs),
      '--election-ticks', String(this.options.electionTicks),
      '--snapshot-entries', String(this.options.snapshotEntries),
      '--snapshot-keep-entries', String(this.options.snapshotKeepEntries),
      // Small WAL files: they roll, are compacted and reused many times in a run, under kills.
      '--wal-segment-bytes', String(1024 * 1024),
      '--exit-with-parent',
      ...(joining ? ['--join'] : []),
    ]);
    const env = journalNodeProcessEnv({ ...this.proxyEnv(slot.proxy), ...this.options.jnEnv, QJM_FAULTY_FS_CONTROL: slot.diskControlPath });
    slot.process.respec({ args, env });
    await slot.process.start();
  }

  /** Delete slot `index`'s data directory (the node must be stopped). */
  async wipeJn(index: number): Promise<void> {
    const slot = this.slots[index]!;
    if (slot.process.running) throw new Error(`wipe ${slot.id}: still running`);
    await rm(slot.dataDir, { recursive: true, force: true });
  }

  /** Fill (or free) slot `index`'s disk through its fault-injecting file layer. */
  setDiskFull(index: number, full: boolean): void {
    writeFileSync(this.slots[index]!.diskControlPath, full ? 'enospc\n' : 'ok\n');
  }

  /** GET /status of slot `index`. */
  async status(index: number): Promise<JnStatus> {
    const response = await fetch(`http://${this.slots[index]!.http}/status`, { signal: AbortSignal.timeout(statusTimeoutMs) });
    if (!response.ok) throw new Error(`status of ${this.slots[index]!.id}: HTTP ${response.status}`);
    return (await response.json()) as JnStatus;
  }

  /** Slots whose process runs and is not paused. */
  responsive(): number[] {
    return this.slots.filter((s) => s.process.running && !s.process.paused).map((s) => s.index);
  }

  /** The slot that leads with the highest term among the responsive ones, if any. */
  async leader(): Promise<{ index: number; status: JnStatus } | undefined> {
    const statuses = await Promise.all(this.responsive().map(async (index) => ({ index, status: await this.status(index).catch(() => undefined) })));
    let best: { index: number; status: JnStatus } | undefined;
    for (const { index, status } of statuses) {
      if (status?.raft.role !== 'leader') continue;
      if (best === undefined || status.raft.term > best.status.raft.term) best = { index, status };
    }
    return best;
  }

  /** Index of the slot named `id`. */
  indexOf(id: string): number {
    const slot = this.slots.find((s) => s.id === id);
    if (slot === undefined) throw new Error(`no slot ${id}`);
    return slot.index;
  }

  /** Add master `id` (not started). */
  async addMaster(id: string): Promise<MasterSlot> {
    const proxy = new ConnectProxy(this.options.network, id);
    await proxy.start();
    const slot: MasterSlot = {
      id,
      historyPath: join(this.options.baseDir, `history-${id}.jsonl`),
      proxy,
      process: chaosProcess(id, join(this.options.baseDir, `${id}.log`), masterReadyLine, (record) => this.unexpectedExits.push(record)),
    };
    this.masters.push(slot);
    return slot;
  }

  /** Start a master process with `config` (its id, history path and nodes filled in here). */
  async startMaster(slot: MasterSlot, config: Omit<MasterConfig, 'id' | 'historyPath' | 'nodes'>): Promise<void> {
    const full: MasterConfig = { ...config, id: slot.id, historyPath: slot.historyPath, nodes: this.slots.map((s) => s.rpc) };
    const args = ['--import', 'tsx', join(projectRoot, 'chaos', 'master.ts'), JSON.stringify(full)];
    slot.process.respec({ args, env: this.proxyEnv(slot.proxy) });
    await slot.process.start();
  }

  /** Stop every process (SIGKILL) and close the proxies. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.slots.map((s) => s.process.kill()), ...this.masters.map((m) => m.process.kill())]);
    await Promise.all([...this.slots.map((s) => s.proxy.close()), ...this.masters.map((m) => m.proxy.close())]);
  }
}
