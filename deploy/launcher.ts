/**
 * The local cluster launcher: N JournalNodes (`./bin/journalnode`) and M metadata masters
 * (`examples/metadata-master/main.ts`) as child processes on one host, for `npm start`, the
 * failover demo, tests and benchmarks.
 *
 * Data folder layout:
 * ```
 * <dataDir>/cluster.json    the layout: ids and addresses (written at the first start)
 * <dataDir>/launcher.pid    the launcher using the folder (refused while that pid lives)
 * <dataDir>/jn1/ ...        each JournalNode's data directory
 * <dataDir>/logs/jn1.log    each child's output (JournalNode and master logs are pino JSON)
 * ```
 * A second start on the same folder reuses it: the same JournalNode ports (they are written in
 * the Raft log), the journal and its namespace. Masters get their former HTTP ports back when
 * free. Stop order: standby masters, the active master (it finalizes its segment and resigns),
 * then the JournalNodes; SIGKILL for anything that does not stop in time.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess } from './managed-process.ts';
import { freePort, portIsFree } from './ports.ts';
import { journalNodeEnv, JOURNALNODE_NODE_FLAGS } from '../journalnode/gc-tuning.ts';
import { acquirePidLock, PidLockHeldError } from '../journalnode/pid-lock.ts';

/** The project root (where bin/ and examples/ are). */
export const projectRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

/** The JournalNode command, run as `node <journalNodeArgs(args)>`. */
export const journalNodeBin = join(projectRoot, 'bin', 'journalnode');

/** `node` arguments that run a JournalNode with `args`: its node flags first (journalnode/gc-tuning.ts). */
export function journalNodeArgs(args: readonly string[]): string[] {
  return [...JOURNALNODE_NODE_FLAGS, journalNodeBin, ...args];
}

/**
 * The environment a launcher gives a JournalNode, over this process's and with `extra` last:
 * glibc's malloc settings (journalnode/gc-tuning.ts).
 */
export function journalNodeProcessEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { ...journalNodeEnv(process.env), ...extra };
}

/** Time a child gets to print its ready line, ms (tsx compiles TypeScript on a first start). */
export const childStartTimeoutMs = 60_000;

/** Time a child gets to stop after SIGTERM before SIGKILL, ms. */
export const childStopTimeoutMs = 15_000;

/** Most JournalNodes / masters the launcher starts. */
export const journalNodesMax = 9;
export const mastersMax = 5;

/** Data folders used by launchers of this process. */

/** The cluster layout file's version. */
const layoutVersion = 1;

/** A launcher refusal (bad options, folder in use, port taken). */
export class LauncherError extends Error {
  override readonly name = 'LauncherError';
}

/** Addresses of one JournalNode. */
export interface JournalNodeLayout {
  readonly id: string;
  readonly rpc: string;
  readonly http: string;
}

/** Address of one master. */
export interface MasterLayout {
  readonly id: string;
  readonly http: string;
}

/** What cluster.json holds. */
export interface ClusterLayout {
  readonly version: number;
  readonly host: string;
  readonly journalId: string;
  readonly journalNodes: readonly JournalNodeLayout[];
  readonly masters: readonly MasterLayout[];
}

/** Options of {@link startLocalCluster}. Times in milliseconds. */
export interface LocalClusterOptions {
  /** The data folder (created when missing; reused when it holds a cluster.json). */
  readonly dataDir: string;
  /** JournalNodes (default 3, or the folder's). */
  readonly journalNodes?: number;
  /** Metadata masters (default 2, or the folder's). */
  readonly masters?: number;
  /** Host to bind and advertise. Default 127.0.0.1. */
  readonly host?: string;
  /** First port of a consecutive range (JournalNode rpc and http, then masters); default: free ports. */
  readonly basePort?: number;
  /** `journal` (embedded, default) or `etcd://HOST:PORT`. */
  readonly election?: string;
  /** The masters' election lease. Default 3,000. */
  readonly leaseTtlMs?: number;
  /** The masters roll their segment every N edits. Default 1,000. */
  readonly segmentEdits?: number;
  /** JournalNode Raft tick. Default 50 (election after 10 ticks: 0.5 to 1 s). */
  readonly tickMs?: number;
  readonly electionTicks?: number;
  /** Children's log level. Default info. */
  readonly logLevel?: string;
  /** Start the masters (default true). */
  readonly startMasters?: boolean;
  /** Time to wait for a Raft leader and for an active master. Default 60,000. */
  readonly readyTimeoutMs?: number;
}

/** The subset of a JournalNode's GET /status the launcher reads. */
export interface JournalNodeStatusView {
  readonly id: string;
  readonly raft: { readonly role: string; readonly term: number; readonly leader: { readonly id: string }; readonly commitIndex: number };
  readonly journals: readonly { readonly journalId: string; readonly lastTxId?: number; readonly promisedEpoch?: number; readonly segmentCount: number }[];
}

/** The subset of a master's GET /status the launcher reads (the JSON contract of examples/metadata-master). */
export interface MasterStatusView {
  readonly id: string;
  readonly role: string;
  readonly http: string;
  readonly active: { readonly id: string; readonly http: string } | null;
  readonly lastTxId: number;
  readonly appliedTxId: number;
  readonly epoch: number | null;
  readonly segmentFirstTxId: number | null;
  readonly segmentsRolled: number;
  readonly entries: number;
}

/** A running local cluster. Indexes are 0-based. */
export interface LocalCluster {
  readonly dataDir: string;
  /** True when the folder held a cluster already. */
  readonly reused: boolean;
  readonly layout: ClusterLayout;
  readonly journalNodes: readonly ManagedProcess[];
  readonly masters: readonly ManagedProcess[];
  /** `host:port,...` of the JournalNodes' rpc ports (for `qjm --cluster` and libqjm). */
  readonly rpcAddresses: readonly string[];
  readonly journalHttpAddresses: readonly string[];
  readonly masterHttpAddresses: readonly string[];
  /** The log file of a child (`jn1`, `m1`). */
  logPath(name: string): string;
  journalNodeStatus(i: number): Promise<JournalNodeStatusView>;
  masterStatus(i: number): Promise<MasterStatusView>;
  /** The index of the master reporting role 'active' (undefined when none does). */
  activeMaster(): Promise<number | undefined>;
  /** Poll until a master (other than `except`) is active; its index. */
  waitForActiveMaster(options?: { timeoutMs?: number; except?: number }): Promise<number>;
  /** Poll until a JournalNode leads; its index. */
  waitForJournalLeader(timeoutMs?: number): Promise<number>;
  /** Start master `i` again (it must have exited). */
  restartMaster(i: number): Promise<void>;
  /** Start JournalNode `i` again (it must have exited). */
  restartJournalNode(i: number): Promise<void>;
  /** Stop everything (standbys, active, JournalNodes) and release the folder. Idempotent. */
  stop(): Promise<void>;
}

export { freePort, portIsFree } from './ports.ts';

/** Write a file atomically (temp then rename). */
function writeFileAtomic(path: string, text: string): void {
  const temp = `${path}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

/** Poll `condition` every `intervalMs` until it returns a value other than undefined. */
async function poll<T>(condition: () => Promise<T | undefined>, options: { timeoutMs: number; intervalMs?: number; what: string }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new LauncherError(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`, { cause: lastError });
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}

async function fetchJson<T>(url: string, timeoutMs = 3_000): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** Read cluster.json, or undefined when the folder holds none. */
export function readLayout(dataDir: string): ClusterLayout | undefined {
  const path = join(dataDir, 'cluster.json');
  if (!existsSync(path)) return undefined;
  const layout = JSON.parse(readFileSync(path, 'utf8')) as ClusterLayout;
  if (layout.version !== layoutVersion || !Array.isArray(layout.journalNodes) || !Array.isArray(layout.masters)) {
    throw new LauncherError(`${path} is not a cluster layout of version ${layoutVersion}`);
  }
  return layout;
}

async function planLayout(options: LocalClusterOptions, host: string): Promise<ClusterLayout> {
  const journalNodes = options.journalNodes ?? 3;
  const masters = options.masters ?? 2;
  const ports: number[] = [];
  const needed = journalNodes * 2 + masters;
  if (options.basePort !== undefined) {
    for (let i = 0; i < needed; i += 1) ports.push(options.basePort + i);
  } else {
    while (ports.length < needed) {
      const port = await freePort(host);
      if (!ports.includes(port)) ports.push(port);
    }
  }
  const address = (port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
  return {
    version: layoutVersion,
    host,
    journalId: 'namespace',
    journalNodes: Array.from({ length: journalNodes }, (_, i) => ({ id: `jn${i + 1}`, rpc: address(ports[2 * i]!), http: address(ports[2 * i + 1]!) })),
    masters: Array.from({ length: masters }, (_, i) => ({ id: `m${i + 1}`, http: address(ports[2 * journalNodes + i]!) })),
  };
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/**
 * Start (or restart on the same folder) a local cluster: the JournalNodes, a Raft leader, then
 * the masters (the first formats the journal), and one active master. Rejects with
 * LauncherError when the folder is in use, a JournalNode port is taken, or a child fails.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const dataDir = resolve(options.dataDir);
  const host = options.host ?? '127.0.0.1';
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  mkdirSync(join(dataDir, 'logs'), { recursive: true });

  const pidPath = join(dataDir, 'launcher.pid');
  let releaseFolder: () => void;
  try {
    releaseFolder = acquirePidLock(pidPath);
  } catch (error) {
    if (!(error instanceof PidLockHeldError)) throw error;
    const whose = error.pid === process.pid ? `${process.pid} (this process)` : String(error.pid);
    throw new LauncherError(`${dataDir} is in use by the launcher with pid ${whose}`);
  }

  try {
    let layout = readLayout(dataDir);
    const reused = layout !== undefined;
    if (layout === undefined) {
      const journalNodes = options.journalNodes ?? 3;
      const masters = options.masters ?? 2;
      if (!Number.isInteger(journalNodes) || journalNodes < 1 || journalNodes > journalNodesMax) throw new LauncherError(`journal nodes: ${journalNodes} is outside 1..${journalNodesMax}`);
      if (!Number.isInteger(masters) || masters < 0 || masters > mastersMax) throw new LauncherError(`masters: ${masters} is outside 0..${mastersMax}`);
      layout = await planLayout(options, host);
    } else {
      if (options.journalNodes !== undefined && options.journalNodes !== layout.journalNodes.length) {
        throw new LauncherError(`${dataDir} holds a cluster of ${layout.journalNodes.length} JournalNodes, not ${options.journalNodes}: use another data folder, or delete this one`);
      }
      if (options.masters !== undefined && options.masters !== layout.masters.length) {
        throw new LauncherError(`${dataDir} holds a cluster of ${layout.masters.length} masters, not ${options.masters}: use another data folder, or delete this one`);
      }
      for (const jn of layout.journalNodes) {
        const port = portOf(jn.rpc);
        if (!(await portIsFree(layout.host, port))) throw new LauncherError(`port ${port} of ${jn.id} (rpc) is in use: is another cluster running on ${dataDir}?`);
      }
      // HTTP ports are not in the Raft log: move them when taken.
      const moved = (address: string, newPort: number): string => `${address.slice(0, address.lastIndexOf(':'))}:${newPort}`;
      const journalNodes = [];
      for (const jn of layout.journalNodes) {
        journalNodes.push((await portIsFree(layout.host, portOf(jn.http))) ? jn : { ...jn, http: moved(jn.http, await freePort(layout.host)) });
      }
      const masters = [];
      for (const m of layout.masters) {
        masters.push((await portIsFree(layout.host, portOf(m.http))) ? m : { ...m, http: moved(m.http, await freePort(layout.host)) });
      }
      layout = { ...layout, journalNodes, masters };
    }
    writeFileAtomic(join(dataDir, 'cluster.json'), `${JSON.stringify(layout, null, 2)}\n`);
    return await launch(dataDir, layout, reused, options, readyTimeoutMs, releaseFolder);
  } catch (error) {
    releaseFolder();
    throw error;
  }
}

async function launch(
  dataDir: string,
  layout: ClusterLayout,
  reused: boolean,
  options: LocalClusterOptions,
  readyTimeoutMs: number,
  releaseFolder: () => void,
): Promise<LocalCluster> {
  const logPath = (name: string): string => join(dataDir, 'logs', `${name}.log`);
  const initialCluster = layout.journalNodes.map((jn) => `${jn.id}=${jn.rpc}`).join(',');
  const rpcAddresses = layout.journalNodes.map((jn) => jn.rpc);
  const journalHttpAddresses = layout.journalNodes.map((jn) => jn.http);
  const logLevel = options.logLevel ?? 'info';
  const tsxLoader = import.meta.resolve('tsx');

  const journalNodes = layout.journalNodes.map(
    (jn) =>
      new ManagedProcess({
        name: jn.id,
        command: process.execPath,
        args: journalNodeArgs([
          '--id', jn.id,
          '--data', join(dataDir, jn.id),
          '--rpc', jn.rpc,
          '--http', jn.http,
          '--initial-cluster', initialCluster,
          '--tick-ms', String(options.tickMs ?? 50),
          '--election-ticks', String(options.electionTicks ?? 10),
          '--log-level', logLevel,
          '--exit-with-parent',
        ]),
        cwd: projectRoot,
        env: journalNodeProcessEnv(),
        logPath: logPath(jn.id),
        readyLine: /^journalnode: id=\S+ rpc=(\S+) http=(\S+)$/m,
        startTimeoutMs: childStartTimeoutMs,
      }),
  );
  const masters = layout.masters.map(
    (m) =>
      new ManagedProcess({
        name: m.id,
        command: process.execPath,
        args: [
          '--import', tsxLoader,
          join(projectRoot, 'examples', 'metadata-master', 'main.ts'),
          '--id', m.id,
          '--http', m.http,
          '--journal-nodes', rpcAddresses.join(','),
          '--journal-http', journalHttpAddresses.join(','),
          '--journal-id', layout.journalId,
          '--election', options.election ?? 'journal',
          '--lease-ttl-ms', String(options.leaseTtlMs ?? 3_000),
          '--segment-edits', String(options.segmentEdits ?? 1_000),
          '--format',
          '--log-level', logLevel,
          '--exit-with-parent',
        ],
        cwd: projectRoot,
        // A master writes batches like the JournalNodes receive them: the same malloc settings.
        env: journalNodeProcessEnv(),
        logPath: logPath(m.id),
        readyLine: /^metadata-master: id=\S+ http=(\S+)$/m,
        startTimeoutMs: childStartTimeoutMs,
      }),
  );

  const journalNodeStatus = (i: number): Promise<JournalNodeStatusView> => fetchJson(`http://${journalHttpAddresses[i]}/status`);
  const masterStatus = (i: number): Promise<MasterStatusView> => fetchJson(`http://${layout.masters[i]!.http}/status`);

  const activeMaster = async (): Promise<number | undefined> => {
    const roles = await Promise.all(masters.map((m, i) => (m.running ? masterStatus(i).then((s) => s.role).catch(() => 'down') : Promise.resolve('down'))));
    const index = roles.indexOf('active');
    return index < 0 ? undefined : index;
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Standbys first, then the active (it finalizes its segment and resigns), then the JournalNodes.
      const active = await activeMaster().catch(() => undefined);
      await Promise.all(masters.map((m, i) => (i === active ? Promise.resolve() : m.stop(childStopTimeoutMs))));
      if (active !== undefined) await masters[active]!.stop(childStopTimeoutMs);
      await Promise.all(journalNodes.map((jn) => jn.stop(childStopTimeoutMs)));
      releaseFolder();
    })();
    return stopping;
  };

  const cluster: LocalCluster = {
    dataDir,
    reused,
    layout,
    journalNodes,
    masters,
    rpcAddresses,
    journalHttpAddresses,
    masterHttpAddresses: layout.masters.map((m) => m.http),
    logPath,
    journalNodeStatus,
    masterStatus,
    activeMaster,
    waitForActiveMaster: ({ timeoutMs = readyTimeoutMs, except } = {}) =>
      poll(
        async () => {
          const statuses = await Promise.all(masters.map((m, i) => (m.running && i !== except ? masterStatus(i).catch(() => undefined) : Promise.resolve(undefined))));
          const index = statuses.findIndex((s) => s?.role === 'active');
          return index < 0 ? undefined : index;
        },
        { timeoutMs, intervalMs: 50, what: 'an active master' },
      ),
    waitForJournalLeader: (timeoutMs = readyTimeoutMs) =>
      poll(
        async () => {
          const statuses = await Promise.all(journalNodes.map((jn, i) => (jn.running ? journalNodeStatus(i).catch(() => undefined) : Promise.resolve(undefined))));
          const index = statuses.findIndex((s) => s?.raft.role === 'leader');
          return index < 0 ? undefined : index;
        },
        { timeoutMs, intervalMs: 50, what: 'a JournalNode leader' },
      ),
    async restartMaster(i) {
      await masters[i]!.start();
    },
    async restartJournalNode(i) {
      await journalNodes[i]!.start();
    },
    stop,
  };

  try {
    await Promise.all(journalNodes.map((jn) => jn.start()));
    await cluster.waitForJournalLeader();
    if (options.startMasters !== false && masters.length > 0) {
      await Promise.all(masters.map((m) => m.start()));
      await cluster.waitForActiveMaster();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return cluster;
}
