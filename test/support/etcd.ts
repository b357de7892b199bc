/**
 * A real etcd for tests: Debian's `etcd` binary started on free loopback ports with a temporary
 * data directory, stopped (and the directory removed) by `stop()`.
 *
 * When the binary is missing, tests skip loudly; with CI=true they fail instead
 * (see {@link etcdAvailability}).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { freePort } from './ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.ts';

/** Where etcd is looked for: $ETCD_BIN, then the Debian package's path. */
export function findEtcdBinary(): string | undefined {
  for (const candidate of [process.env.ETCD_BIN, '/usr/bin/etcd', '/usr/local/bin/etcd']) {
    if (candidate === undefined || candidate === '') continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next
    }
  }
  return undefined;
}

/** Whether etcd tests can run: 'run', 'skip' (no etcd, not CI) or 'fail' (no etcd on CI). */
export function etcdAvailability(): { mode: 'run'; binary: string } | { mode: 'skip' | 'fail'; reason: string } {
  const binary = findEtcdBinary();
  if (binary !== undefined) return { mode: 'run', binary };
  const reason = 'etcd not found (install Debian package etcd-server, or set ETCD_BIN)';
  return { mode: process.env.CI === 'true' ? 'fail' : 'skip', reason };
}

/** A free TCP port on 127.0.0.1 (closed again before returning; a tiny race is accepted). */
export { freePort };

/** A running etcd. */
export interface EtcdProcess {
  /** The client URL, e.g. http://127.0.0.1:PORT. */
  readonly clientUrl: string;
  readonly dataDir: string;
  /** Freeze etcd (SIGSTOP): it stops answering without closing connections. */
  pause(): void;
  /** Thaw a paused etcd (SIGCONT). */
  resume(): void;
  /** Stop etcd (SIGTERM, then SIGKILL) and remove its data directory. */
  stop(): Promise<void>;
}

/** Start a single-member etcd on free loopback ports; resolves once it reports healthy. */
export async function startEtcd(binary: string, options: { readyTimeoutMs?: number } = {}): Promise<EtcdProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'qjm-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const child: ChildProcess = spawn(
    binary,
    [
      '--name', 't',
      '--data-dir', dataDir,
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `t=${peerUrl}`,
      '--log-level', 'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`etcd exited: ${stderr}`);
        const response = await fetch(`${clientUrl}/health`);
        const body = (await response.json()) as { health?: string };
        return body.health === 'true';
      },
      { timeoutMs: options.readyTimeoutMs ?? 20_000, intervalMs: 50, what: 'etcd healthy' },
    );
  } catch (error) {
    await stop();
    throw new Error(`etcd did not start: ${stderr}`, { cause: error });
  }
  return {
    clientUrl,
    dataDir,
    stop,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
  };
}
