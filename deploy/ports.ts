/**
 * Free ports for local clusters (the launcher, the tests, the chaos run).
 *
 * A port from `listen(0)` lies in the kernel's ephemeral range, the range it also draws the
 * source ports of outgoing connections from. A node that is down for a restart loses such a port
 * easily: any outgoing connection may take it, and a client retrying the dead address may even
 * connect to itself on it (TCP simultaneous open). The node then cannot bind again. So ports are
 * drawn at random below the ephemeral range, checked free, and reserved for the life of this
 * process with a pid lock file, so that concurrent processes (test workers) never pick the same
 * one, even while its node is down.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquirePidLock, PidLockHeldError } from '../journalnode/pid-lock.ts';

/** Ports drawn per call before giving up. */
const PORT_ATTEMPTS_MAX = 200;
/** Width of the range below the ephemeral range that ports are drawn from. */
const PORT_RANGE_WIDTH = 12_000;
/** Lowest port ever drawn. */
const PORT_FLOOR = 10_000;

/** The kernel's ephemeral range (Linux), or the IANA one elsewhere. */
export function ephemeralPortRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isSafeInteger(low) && Number.isSafeInteger(high) && low! > 0 && high! >= low!) return { low: low!, high: high! };
  } catch {
    // not Linux
  }
  return { low: 49_152, high: 65_535 };
}

/** The range free ports are drawn from: [low, high), below the ephemeral range. */
export function localPortRange(): { low: number; high: number } {
  const high = ephemeralPortRange().low;
  return { low: Math.max(PORT_FLOOR, high - PORT_RANGE_WIDTH), high };
}

/** True when `port` can be bound on `host` now. */
export async function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolveFree(true)));
  });
}

const reservationDir = join(tmpdir(), 'quorum-journal-ports');
const releases: (() => void)[] = [];
let exitHooked = false;

/** Reserve `port` for this process's life; undefined when another live process holds it. */
function reserve(port: number): (() => void) | undefined {
  mkdirSync(reservationDir, { recursive: true });
  let release: () => void;
  try {
    release = acquirePidLock(join(reservationDir, `${port}.pid`));
  } catch (error) {
    if (error instanceof PidLockHeldError) return undefined;
    throw error;
  }
  releases.push(release);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const r of releases) r();
    });
  }
  return release;
}

/**
 * Reserve a given `port` for this process's life, as {@link freePort} does for the ports it draws.
 * False when another live process holds it.
 */
export function reservePort(port: number): boolean {
  return reserve(port) !== undefined;
}

/**
 * A port free on `host`, below the ephemeral range, reserved for this process (no other process
 * using this function gets it until this one exits).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const { low, high } = localPortRange();
  for (let attempt = 0; attempt < PORT_ATTEMPTS_MAX; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    const release = reserve(port);
    if (release === undefined) continue;
    if (await portIsFree(host, port)) return port;
    release();
  }
  throw new Error(`no free port on ${host} in ${low}..${high - 1} after ${PORT_ATTEMPTS_MAX} attempts`);
}

/** `n` distinct free ports (see {@link freePort}). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await freePort(host));
  return out;
}
