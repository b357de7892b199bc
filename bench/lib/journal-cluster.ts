/**
 * The journal side of the bench: a 3-JournalNode cluster of real `./bin/journalnode` processes
 * (test/support/cluster.ts), production timing (100 ms ticks), and a formatted journal.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { QuorumJournalManager } from '../../libqjm/index.ts';
import type { NamespaceInfo } from '../../libqjm/index.ts';
import { startJournalCluster, type JournalCluster } from '../../test/support/cluster.ts';
import { childPidsMatching } from './machine.ts';

/** The journal every bench writes. */
export const benchJournalId = 'bench';

/** Its namespace. */
export const benchNamespace: NamespaceInfo = { nsId: 'bench-ns', clusterId: 'bench-cluster', blockPoolId: 'bench-bp', layoutVersion: 1 };

/** A running bench cluster: the JN processes, their pids, and the leader's index. */
export interface BenchJournalCluster {
  readonly cluster: JournalCluster;
  /** Pid of each JournalNode, in cluster order. */
  readonly pids: readonly number[];
  /** A manager over every node (formatting, reads). */
  manager(options?: { httpNodes?: readonly string[] }): QuorumJournalManager;
  stop(): Promise<void>;
}

/** The hook that profiles a JournalNode (see cpu-profile-hook.ts). */
const cpuProfileHook = join(import.meta.dirname, 'cpu-profile-hook.ts');

/**
 * Start 3 JournalNodes under `dataDir` and format the bench journal. With `cpuProfileDir`, each
 * node writes a CPU profile there when stopped (SIGTERM).
 */
export async function startBenchJournalCluster(dataDir: string, options: { cpuProfileDir?: string | undefined } = {}): Promise<BenchJournalCluster> {
  await mkdir(dataDir, { recursive: true });
  const profileDir = options.cpuProfileDir;
  const env: Record<string, string> = {};
  if (profileDir !== undefined) {
    await mkdir(profileDir, { recursive: true });
    env['NODE_OPTIONS'] = `--import tsx --import ${cpuProfileHook}`;
    env['QJ_CPU_PROF_DIR'] = profileDir;
  }
  const cluster = await startJournalCluster({ nodes: 3, dataDir, tickMs: 100, electionTicks: 10, extraArgs: ['--log-level', 'warn'], env });
  const pids = cluster.dataDirs.map((dir) => {
    const found = childPidsMatching(`--data ${dir} `);
    if (found.length !== 1) throw new Error(`bench: expected one JournalNode process for ${dir}, found ${found.length}`);
    return found[0]!;
  });
  const managers: QuorumJournalManager[] = [];
  const manager = (options: { httpNodes?: readonly string[] } = {}): QuorumJournalManager => {
    const qjm = new QuorumJournalManager({
      journalId: benchJournalId,
      nodes: cluster.rpcAddresses,
      httpNodes: options.httpNodes ?? cluster.httpAddresses,
      namespace: benchNamespace,
    });
    managers.push(qjm);
    return qjm;
  };
  try {
    await manager().format(benchNamespace);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return {
    cluster,
    pids,
    manager,
    async stop() {
      for (const qjm of managers) qjm.close();
      // A profiled node writes its profile on a clean exit only.
      if (profileDir !== undefined) await Promise.all(cluster.ids.map((_, i) => cluster.kill(i, 'SIGTERM')));
      await cluster.stop();
    },
  };
}
