/**
 * `npm start`: the main job. Starts, on loopback, a local cluster (3 JournalNodes and 2
 * metadata masters by default, see launcher.ts), prints where each part listens, drives a light
 * stream of namespace mutations (load.ts) and shows a progress line: edits per second, the last
 * txid, the active master, the standby's lag. Ctrl-C (SIGINT), SIGTERM or SIGHUP (the terminal
 * closed) stops everything and exits 0; a second Ctrl-C kills the children at once (exit 130).
 *
 * `npm start -- --help` lists the flags (data folder, node counts, ports, rate, election).
 */
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { LauncherError, projectRoot, startLocalCluster } from './launcher.ts';
import type { LocalCluster, MasterStatusView } from './launcher.ts';
import { NamespaceLoad } from './load.ts';
import { formatProgress, progressOutput } from './progress.ts';
import type { ProgressSample } from './progress.ts';

/** Where the data goes unless `--data` says otherwise (git-ignored). */
export const defaultDataDir = join(projectRoot, '.data', 'local-cluster');

/** Signals closer than this to the first one are the same Ctrl-C (delivered twice through npm), ms. */
export const duplicateSignalWindowMs = 1_000;

/** Settings of the main job. */
export interface StartSettings {
  readonly dataDir: string;
  readonly journalNodes: number | undefined;
  readonly masters: number | undefined;
  readonly host: string;
  readonly basePort: number | undefined;
  readonly ratePerSecond: number;
  readonly election: string;
  readonly segmentEdits: number;
  readonly leaseTtlMs: number;
  readonly load: boolean;
  readonly progressIntervalMs: number;
  readonly logLevel: string;
}

function integer(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    return Number(value);
  };
}

/** Parse the flags (pure but for commander); undefined after --help. */
export function parseStartArgs(argv: readonly string[]): StartSettings | undefined {
  const program = new Command('npm start --')
    .description('Start a local quorum journal cluster (JournalNodes + metadata masters) on loopback and drive a light stream of namespace mutations.')
    .exitOverride()
    .allowExcessArguments(false)
    .addOption(new Option('--data <dir>', 'data folder (reused by the next start)').default(defaultDataDir))
    .addOption(new Option('--journal-nodes <n>', 'JournalNodes (default 3, or the data folder\'s)').argParser(integer(1, 9)))
    .addOption(new Option('--masters <n>', 'metadata masters (default 2, or the data folder\'s)').argParser(integer(0, 5)))
    .addOption(new Option('--host <host>', 'host to bind').default('127.0.0.1'))
    .addOption(new Option('--base-port <port>', 'first of consecutive ports (default: free ports, kept in the data folder)').argParser(integer(1024, 65000)))
    .addOption(new Option('--rate <edits/s>', 'namespace mutations per second').argParser(integer(1, 100_000)).default(50))
    .addOption(new Option('--election <kind>', 'journal (embedded) or etcd://HOST:PORT').default('journal'))
    .addOption(new Option('--segment-edits <n>', 'masters roll their segment every N edits').argParser(integer(1, 10_000_000)).default(500))
    .addOption(new Option('--lease-ttl-ms <ms>', 'the masters\' election lease').argParser(integer(1000, 600_000)).default(3000))
    .addOption(new Option('--no-load', 'start the cluster without the mutation stream'))
    .addOption(new Option('--progress-interval-ms <ms>', 'progress refresh period').argParser(integer(100, 60_000)).default(1000))
    .addOption(new Option('--log-level <level>', 'children\'s log level (logs go to <data>/logs)').default('info'));
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && (error.code === 'commander.helpDisplayed' || error.code === 'commander.help')) return undefined;
    throw error;
  }
  const o = program.opts<{
    data: string; journalNodes?: number; masters?: number; host: string; basePort?: number; rate: number;
    election: string; segmentEdits: number; leaseTtlMs: number; load: boolean; progressIntervalMs: number; logLevel: string;
  }>();
  return {
    dataDir: o.data,
    journalNodes: o.journalNodes,
    masters: o.masters,
    host: o.host,
    basePort: o.basePort,
    ratePerSecond: o.rate,
    election: o.election,
    segmentEdits: o.segmentEdits,
    leaseTtlMs: o.leaseTtlMs,
    load: o.load,
    progressIntervalMs: o.progressIntervalMs,
    logLevel: o.logLevel,
  };
}

/** Read every master's status and the JournalNodes' liveness into a sample. */
async function sample(cluster: LocalCluster, previous: { lastTxId: number; atMs: number }): Promise<ProgressSample> {
  const statuses = await Promise.all(
    cluster.masters.map((m, i) => (m.running ? cluster.masterStatus(i).catch(() => undefined) : Promise.resolve(undefined))),
  );
  const live = statuses.filter((s): s is MasterStatusView => s !== undefined);
  const active = live.find((s) => s.role === 'active');
  const lastTxId = Math.max(previous.lastTxId, ...live.map((s) => s.lastTxId));
  const standbys = live.filter((s) => s !== active);
  const standbyLag = active === undefined || standbys.length === 0 ? undefined : Math.max(...standbys.map((s) => Math.max(0, active.lastTxId - s.appliedTxId)));
  const nowMs = performance.now();
  const elapsedSeconds = Math.max(0.001, (nowMs - previous.atMs) / 1000);
  const journalNodesUp = (
    await Promise.all(cluster.journalNodes.map((jn, i) => (jn.running ? cluster.journalNodeStatus(i).then(() => 1, () => 0) : Promise.resolve(0))))
  ).reduce((a: number, b: number) => a + b, 0);
  return {
    editsPerSecond: Math.max(0, lastTxId - previous.lastTxId) / elapsedSeconds,
    lastTxId,
    active: active?.id,
    epoch: active?.epoch ?? null,
    standbyLag,
    standbys: cluster.masters.length - 1,
    segmentsRolled: Math.max(0, ...live.map((s) => s.segmentsRolled)),
    journalNodesUp,
    journalNodes: cluster.journalNodes.length,
  };
}

function banner(cluster: LocalCluster): string {
  const lines = [`quorum-journal: local cluster in ${cluster.dataDir} (${cluster.reused ? 'reused' : 'new'})`];
  cluster.layout.journalNodes.forEach((jn) => {
    lines.push(`  JournalNode ${jn.id.padEnd(4)} rpc ${jn.rpc.padEnd(21)} status http://${jn.http}/status   metrics http://${jn.http}/metrics`);
  });
  cluster.layout.masters.forEach((m) => {
    lines.push(`  master      ${m.id.padEnd(4)} api http://${m.http}   (GET /status, /list?path=/; POST /mkdir /create /rename /delete)`);
  });
  const first = cluster.layout.masters[0];
  lines.push(`  logs        ${join(cluster.dataDir, 'logs')}`);
  lines.push(`  admin       ./bin/qjm --cluster ${cluster.rpcAddresses.join(',')} status`);
  if (first !== undefined) lines.push(`  try         curl -s 'http://${first.http}/list?path=/'`);
  lines.push('  Ctrl-C stops everything (the data folder is kept: the next start reuses it).');
  return lines.join('\n');
}

/** Run the main job; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let settings: StartSettings | undefined;
  try {
    settings = parseStartArgs(argv);
  } catch (error) {
    if (error instanceof CommanderError) return 2;
    throw error;
  }
  if (settings === undefined) return 0;
  const out = process.stdout;
  const tty = out.isTTY === true;
  // The terminal may be gone (SIGHUP): output errors must not stop the clean shutdown.
  out.on('error', () => undefined);

  let stopRequested: (() => void) | undefined;
  const stopSignal = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  let signals = 0;
  let firstSignalAtMs = 0;
  let cluster: LocalCluster | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    // A terminal's Ctrl-C reaches both npm and this process, and npm forwards it: one press can
    // arrive twice. Only a signal well after the first one forces.
    if (signals > 0 && performance.now() - firstSignalAtMs < duplicateSignalWindowMs) return;
    signals += 1;
    if (signals > 1) {
      out.write(`\nquorum-journal: ${signal} again: killing everything\n`);
      for (const child of [...(cluster?.masters ?? []), ...(cluster?.journalNodes ?? [])]) child.signal('SIGKILL');
      process.exit(130);
    }
    firstSignalAtMs = performance.now();
    stopRequested!();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  out.write(`quorum-journal: starting in ${settings.dataDir} ...\n`);
  try {
    const starting = startLocalCluster({
      dataDir: settings.dataDir,
      ...(settings.journalNodes !== undefined ? { journalNodes: settings.journalNodes } : {}),
      ...(settings.masters !== undefined ? { masters: settings.masters } : {}),
      host: settings.host,
      ...(settings.basePort !== undefined ? { basePort: settings.basePort } : {}),
      election: settings.election,
      segmentEdits: settings.segmentEdits,
      leaseTtlMs: settings.leaseTtlMs,
      logLevel: settings.logLevel,
    });
    cluster = await starting;
  } catch (error) {
    out.write(`quorum-journal: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof LauncherError ? 2 : 1;
  }
  if (signals > 0) {
    await cluster.stop();
    return 0;
  }
  out.write(`${banner(cluster)}\n`);

  let load: NamespaceLoad | undefined;
  if (settings.load && cluster.masters.length > 0) {
    load = new NamespaceLoad({ masters: cluster.masterHttpAddresses, root: `/load/run-${Date.now()}`, ratePerSecond: settings.ratePerSecond });
    void load.start();
  }

  let previous = { lastTxId: 0, atMs: performance.now() };
  let first = true;
  let printing = false;
  const timer = setInterval(() => {
    if (printing || cluster === undefined) return;
    printing = true;
    void sample(cluster, previous)
      .then((s) => {
        // The first sample covers the start, not a steady rate.
        const line = formatProgress(first ? { ...s, editsPerSecond: 0 } : s);
        first = false;
        previous = { lastTxId: s.lastTxId, atMs: performance.now() };
        out.write(progressOutput(line, tty));
      })
      .catch(() => undefined)
      .finally(() => {
        printing = false;
      });
  }, settings.progressIntervalMs);

  await stopSignal;
  clearInterval(timer);
  out.write(`${tty ? '\n' : ''}quorum-journal: stopping ...\n`);
  if (load !== undefined) {
    await load.stop(5_000);
    const stats = load.snapshot;
    out.write(`quorum-journal: load: ${stats.acknowledged} edits acknowledged, ${stats.settledAfterRetry} settled after a retry, last txid ${stats.lastTxId}\n`);
  }
  await cluster.stop();
  const unclean = [...cluster.masters, ...cluster.journalNodes].filter((p) => p.exit !== undefined && p.exit.code !== 0);
  for (const p of unclean) out.write(`quorum-journal: ${p.name} exited with ${p.exit!.code ?? p.exit!.signal} (log: ${cluster.logPath(p.name)})\n`);
  out.write(`quorum-journal: stopped. Data kept in ${cluster.dataDir}\n`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
// Everything is stopped; should a stray handle (an idle keep-alive socket) keep the loop alive, exit anyway.
setTimeout(() => process.exit(), 2_000).unref();
