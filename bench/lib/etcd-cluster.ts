/**
 * A 3-member etcd cluster (Debian's `etcd-server`, i.e. /usr/bin/etcd) on free loopback ports
 * with its data under a folder of the bench, fsync on (etcd's default). Started and stopped by
 * the bench; members are SIGKILLed if the bench process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePort } from '../../test/support/cluster.ts';
import { waitFor } from '../../test/support/wait.ts';

/** Time the cluster gets to become healthy, ms. */
export const etcdStartTimeoutMs = 30_000;

/** etcd's backend quota for the bench, bytes (the default 2 GiB could fill in a long run). */
const quotaBackendBytes = 8 * 1024 ** 3;

/** A running etcd cluster. */
export interface EtcdCluster {
  /** Client URLs, one per member. */
  readonly clientUrls: readonly string[];
  /** Pids of the members. */
  readonly pids: readonly number[];
  /** The client URL of the current leader. */
  leaderUrl(): Promise<string>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hookInstalled = false;

/** Start `members` etcd members under `baseDir` and wait until every one is healthy. */
export async function startEtcdCluster(binary: string, baseDir: string, members = 3): Promise<EtcdCluster> {
  if (!hookInstalled) {
    hookInstalled = true;
    process.on('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  const names = Array.from({ length: members }, (_, i) => `e${i + 1}`);
  const clientUrls: string[] = [];
  const peerUrls: string[] = [];
  for (let i = 0; i < members; i++) {
    clientUrls.push(`http://127.0.0.1:${await freePort()}`);
    peerUrls.push(`http://127.0.0.1:${await freePort()}`);
  }
  const initialCluster = names.map((name, i) => `${name}=${peerUrls[i]}`).join(',');
  const children: ChildProcess[] = [];
  const exits: Promise<void>[] = [];
  const stderrTails: string[] = names.map(() => '');
  for (let i = 0; i < members; i++) {
    const dataDir = join(baseDir, names[i]!);
    await mkdir(dataDir, { recursive: true });
    const child = spawn(
      binary,
      [
        '--name', names[i]!,
        '--data-dir', dataDir,
        '--listen-client-urls', clientUrls[i]!,
        '--advertise-client-urls', clientUrls[i]!,
        '--listen-peer-urls', peerUrls[i]!,
        '--initial-advertise-peer-urls', peerUrls[i]!,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', `qj-bench-${process.pid}`,
        '--quota-backend-bytes', String(quotaBackendBytes),
        '--auto-compaction-mode', 'revision',
        '--auto-compaction-retention', '100000',
        '--log-level', 'error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    live.add(child);
    children.push(child);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTails[i] = (stderrTails[i] + chunk.toString()).slice(-2000);
    });
    exits.push(new Promise((resolveExit) => child.once('exit', () => {
      live.delete(child);
      resolveExit();
    })));
  }
  const stop = async (): Promise<void> => {
    for (const child of children) if (live.has(child)) child.kill('SIGKILL');
    await Promise.all(exits);
    await rm(baseDir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        for (let i = 0; i < members; i++) {
          if (!live.has(children[i]!)) throw new Error(`etcd member ${names[i]} exited: ${stderrTails[i]}`);
          const response = await fetch(`${clientUrls[i]}/health`, { signal: AbortSignal.timeout(2000) });
          const body = (await response.json()) as { health?: string };
          if (body.health !== 'true') return false;
        }
        return true;
      },
      { timeoutMs: etcdStartTimeoutMs, intervalMs: 100, what: 'etcd cluster healthy' },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    clientUrls,
    pids: children.map((c) => c.pid!),
    async leaderUrl() {
      for (const url of clientUrls) {
        const client = new Etcd3({ hosts: url });
        try {
          const status = await client.maintenance.status();
          if (status.leader === status.header.member_id) return url;
        } catch {
          // try the next member
        } finally {
          client.close();
        }
      }
      throw new Error('etcd: no member says it leads');
    },
    stop,
  };
}
