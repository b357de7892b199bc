/**
 * Test support: a cluster of real `./bin/journalnode` child processes on free loopback ports.
 *
 * Ports are picked before the start (deploy/ports.ts: below the ephemeral range, reserved) so a
 * restarted node keeps its addresses. Each node logs (pino JSON) to `<baseDir>/<id>.log`; its data directory is
 * `<baseDir>/<id>`. Children run with `--exit-with-parent` and are SIGKILLed when this process
 * exits, so none outlives the test.
 */
import { mkdtempSync } from 'node:fs';
import { ManagedProcess } from '../../deploy/managed-process.ts';
import { journalNodeArgs, journalNodeProcessEnv } from '../../deploy/launcher.ts';
import { rm } from 'node:fs/promises';
import { freePort } from './ports.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from './wait.ts';

/** The project root (where `bin/journalnode` lives). */
export const projectRoot = resolve(import.meta.dirname, '..', '..');

/** Time a node gets to print its ready line, ms (tsx compiles on first start). */
export const nodeStartTimeoutMs = 60_000;

/** Time the cluster gets to elect a leader, ms. */
export const leaderTimeoutMs = 30_000;

/** Options of {@link startJournalCluster}. */
export interface JournalClusterOptions {
  readonly nodes?: number;
  /** Parent of the data directories and logs; default a fresh temporary directory. */
  readonly dataDir?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Extra flags for every node. */
  readonly extraArgs?: readonly string[];
  readonly tickMs?: number;
  readonly electionTicks?: number;
}

/** Options of one restart. */
export interface RestartOptions {
  /** Start with `--join` (mandatory after `wipe`). */
  readonly join?: boolean;
  readonly extraArgs?: readonly string[];
}

/** The subset of /status the tests read. */
export interface NodeStatus {
  readonly id: string;
  readonly raft: {
    readonly role: string;
    readonly term: number;
    readonly leader: { readonly id: string; readonly address: string };
    readonly commitIndex: number;
    readonly appliedIndex: number;
    readonly lastIndex: number;
    readonly snapshotIndex: number;
    readonly configuration: { readonly voters: string[]; readonly learners: string[] };
    readonly progress: Record<string, { match: number; next: number; state: string }> | null;
  };
  readonly stateMachine: { readonly appliedIndex: number };
  readonly journals: {
    readonly journalId: string;
    readonly lastTxId: number;
    readonly promisedEpoch: number;
    readonly segments: { firstTxId: number; lastTxId: number; inProgress: boolean; sizeBytes: number }[];
  }[];
}

/** A running test cluster. Indexes are 0-based; ids are `jn1`, `jn2`, ... */
export interface JournalCluster {
  readonly ids: readonly string[];
  readonly rpcAddresses: readonly string[];
  readonly httpAddresses: readonly string[];
  readonly dataDirs: readonly string[];
  readonly baseDir: string;
  /** Signal node `i` (default SIGKILL) and wait until it exited. */
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** Start node `i` again (it must be stopped) and wait for its ready line. */
  restart(i: number, options?: RestartOptions): Promise<void>;
  /** SIGSTOP / SIGCONT node `i`. */
  pause(i: number): void;
  resume(i: number): void;
  /** Delete node `i`'s data directory (the node must be stopped). */
  wipe(i: number): Promise<void>;
  /** True while node `i`'s process runs. */
  isRunning(i: number): boolean;
  /** The exit code of node `i`'s last process (undefined while it runs or when signalled). */
  exitCode(i: number): number | null | undefined;
  /** GET /status of node `i`. */
  status(i: number): Promise<NodeStatus>;
  /** The index of the leader (polls /status of the running nodes until one leads), ms deadline. */
  leaderIndex(timeoutMs?: number): Promise<number>;
  /** The log file of node `i`. */
  logPath(i: number): string;
  /** SIGKILL every node and delete the base directory (unless QJ_KEEP_DATA is set). */
  stop(): Promise<void>;
}

/** A free loopback TCP port (bound and released: a small race, fine on a test machine). */
export { freePort };

/** The ready line of a JournalNode. */
const readyLine = /^journalnode: id=\S+ rpc=\S+ http=\S+$/m;

/**
 * Start `nodes` JournalNodes (default 3) with short ticks (50 ms, election after 10 ticks) and
 * wait until a leader exists.
 */
export async function startJournalCluster(options: JournalClusterOptions = {}): Promise<JournalCluster> {
  const count = options.nodes ?? 3;
  const baseDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'qj-cluster-'));
  const ids = Array.from({ length: count }, (_, i) => `jn${i + 1}`);
  const rpcAddresses: string[] = [];
  const httpAddresses: string[] = [];
  for (let i = 0; i < count; i++) {
    rpcAddresses.push(`127.0.0.1:${await freePort()}`);
    httpAddresses.push(`127.0.0.1:${await freePort()}`);
  }
  const dataDirs = ids.map((id) => join(baseDir, id));
  const initialCluster = ids.map((id, i) => `${id}=${rpcAddresses[i]}`).join(',');
  const env = journalNodeProcessEnv(options.env);

  const argsOf = (i: number, restart: RestartOptions): string[] => [
    '--id', ids[i]!,
    '--data', dataDirs[i]!,
    '--rpc', rpcAddresses[i]!,
    '--http', httpAddresses[i]!,
    '--initial-cluster', initialCluster,
    '--tick-ms', String(options.tickMs ?? 50),
    '--election-ticks', String(options.electionTicks ?? 10),
    '--exit-with-parent',
    ...(restart.join === true ? ['--join'] : []),
    ...(options.extraArgs ?? []),
    ...(restart.extraArgs ?? []),
  ];
  const logPath = (i: number): string => join(baseDir, `${ids[i]}.log`);
  const processes = ids.map(
    (id, i) =>
      new ManagedProcess({ name: id, command: process.execPath, args: journalNodeArgs(argsOf(i, {})), cwd: projectRoot, env, logPath: logPath(i), readyLine, startTimeoutMs: nodeStartTimeoutMs, ownProcessGroup: false }),
  );
  const running = (i: number): boolean => processes[i]!.running;
  const start = async (i: number, restart: RestartOptions): Promise<void> => {
    processes[i]!.respec({ args: journalNodeArgs(argsOf(i, restart)) });
    await processes[i]!.start();
  };
  const assertIndex = (i: number): void => {
    if (!Number.isInteger(i) || i < 0 || i >= count) throw new RangeError(`no node ${i}`);
  };

  const status = async (i: number): Promise<NodeStatus> => {
    assertIndex(i);
    const response = await fetch(`http://${httpAddresses[i]}/status`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`status of ${ids[i]}: HTTP ${response.status}`);
    return (await response.json()) as NodeStatus;
  };

  const cluster: JournalCluster = {
    ids,
    rpcAddresses,
    httpAddresses,
    dataDirs,
    baseDir,
    async kill(i, signal = 'SIGKILL') {
      assertIndex(i);
      const proc = processes[i]!;
      if (!proc.running) return;
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM' && signal !== 'SIGINT') throw new RangeError(`kill with ${signal}: use pause/resume`);
      proc.signal(signal);
      await proc.exited;
    },
    async restart(i, restart = {}) {
      assertIndex(i);
      if (running(i)) throw new Error(`${ids[i]} is still running`);
      await start(i, restart);
    },
    pause(i) {
      assertIndex(i);
      processes[i]!.pause();
    },
    resume(i) {
      assertIndex(i);
      processes[i]!.resume();
    },
    async wipe(i) {
      assertIndex(i);
      if (running(i)) throw new Error(`wipe ${ids[i]}: the node is running`);
      await rm(dataDirs[i]!, { recursive: true, force: true });
    },
    isRunning: running,
    exitCode: (i) => (running(i) ? undefined : processes[i]!.exit?.code),
    status,
    async leaderIndex(timeoutMs = leaderTimeoutMs) {
      return waitFor(
        async () => {
          let best: { index: number; term: number } | undefined;
          for (let i = 0; i < count; i++) {
            if (!running(i)) continue;
            const s = await status(i).catch(() => undefined);
            if (s?.raft.role === 'leader' && (best === undefined || s.raft.term > best.term)) best = { index: i, term: s.raft.term };
          }
          return best === undefined ? undefined : best.index + 1;
        },
        { timeoutMs, intervalMs: 50, what: 'a leader' },
      ).then((indexPlusOne) => indexPlusOne - 1);
    },
    logPath,
    async stop() {
      await Promise.all(processes.map((proc) => proc.kill()));
      if (process.env['QJ_KEEP_DATA'] === undefined && options.dataDir === undefined) await rm(baseDir, { recursive: true, force: true });
    },
  };

  try {
    await Promise.all(ids.map((_, i) => start(i, {})));
    await cluster.leaderIndex();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
