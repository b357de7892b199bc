/**
 * `npm run demo:failover`: the failover story, told on its own, with a report.
 *
 * 1. A fresh local cluster (3 JournalNodes, 2 metadata masters) and a stream of namespace
 *    mutations (load.ts).
 * 2. The active master is killed with SIGKILL in the middle of the stream, its segment in
 *    progress.
 * 3. Measured: time until the standby is active, and until it acknowledges a write.
 * 4. The killed master comes back: it must be a standby that sends writers to the new active,
 *    and its old epoch must be refused by the JournalNodes (EpochFenced).
 * 5. The segment it left in progress must be recovered (finalized) by the new active.
 * 6. Edits lost: every acknowledged mutation must be in both masters' namespaces, and nothing
 *    else (the load's model of the acknowledged namespace against GET /tree). Must be 0.
 *
 * Exit 0 when every check passed, 1 otherwise. `--json` adds a last line
 * `demo-failover: {...}` with the report.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EpochFencedError, QuorumJournalManager } from '../libqjm/index.ts';
import type { SegmentInfo } from '../libqjm/index.ts';
import { startLocalCluster } from './launcher.ts';
import type { LocalCluster, MasterStatusView } from './launcher.ts';
import { NamespaceLoad } from './load.ts';

/** The demo's settings. Times in milliseconds. */
export interface DemoSettings {
  /** Data folder; default a fresh temporary one, deleted at the end unless `keep`. */
  readonly dataDir: string | undefined;
  readonly keep: boolean;
  readonly ratePerSecond: number;
  /** Load before the kill. */
  readonly beforeKillMs: number;
  /** Load after the new active writes. */
  readonly afterFailoverMs: number;
  readonly leaseTtlMs: number;
  readonly segmentEdits: number;
  readonly election: string;
  readonly json: boolean;
}

/** What the demo found. */
export interface FailoverReport {
  readonly passed: boolean;
  readonly editsAcknowledged: number;
  readonly editsSettledAfterRetry: number;
  readonly lastTxId: number;
  readonly segments: number;
  /** Acknowledged edits per second over the whole run, the failover included. */
  readonly editsPerSecond: number;
  /** Acknowledged edits per second before the kill. */
  readonly editsPerSecondBeforeKill: number;
  readonly killed: { readonly id: string; readonly epoch: number | null; readonly atTxId: number };
  readonly newActive: { readonly id: string; readonly epoch: number | null };
  /** SIGKILL to the standby reporting active, ms. */
  readonly activeAfterMs: number;
  /** SIGKILL to the first write acknowledged by the new active, ms. */
  readonly writingAfterMs: number;
  readonly recoveredSegment: { readonly firstTxId: number; readonly lastTxId: number; readonly finalized: boolean } | null;
  readonly oldActiveBack: { readonly role: string; readonly redirectsTo: string | null; readonly writeStatus: number };
  readonly oldEpochFenced: { readonly fenced: boolean; readonly promisedEpoch: number | null; readonly error: string };
  readonly lostEdits: number;
  readonly unexpectedEdits: number;
  readonly uncertainEdits: number;
  readonly mastersAgree: boolean;
  readonly failures: readonly string[];
}

function integer(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    return Number(value);
  };
}

/** Parse the flags; undefined after --help. */
export function parseDemoArgs(argv: readonly string[]): DemoSettings | undefined {
  const program = new Command('npm run demo:failover --')
    .description('Kill the active metadata master with SIGKILL under load and report the failover.')
    .exitOverride()
    .allowExcessArguments(false)
    .addOption(new Option('--data <dir>', 'data folder (default: a fresh temporary folder)'))
    .addOption(new Option('--keep', 'keep the data folder'))
    .addOption(new Option('--rate <edits/s>', 'namespace mutations per second').argParser(integer(1, 100_000)).default(100))
    .addOption(new Option('--before-kill-ms <ms>', 'load before the kill').argParser(integer(0, 600_000)).default(4000))
    .addOption(new Option('--after-failover-ms <ms>', 'load after the failover').argParser(integer(0, 600_000)).default(2000))
    .addOption(new Option('--lease-ttl-ms <ms>', 'the masters\' election lease').argParser(integer(1000, 600_000)).default(2000))
    .addOption(new Option('--segment-edits <n>', 'roll segments every N edits').argParser(integer(1, 10_000_000)).default(150))
    .addOption(new Option('--election <kind>', 'journal (embedded) or etcd://HOST:PORT').default('journal'))
    .addOption(new Option('--json', 'print the report as JSON on the last line too'));
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && (error.code === 'commander.helpDisplayed' || error.code === 'commander.help')) return undefined;
    throw error;
  }
  const o = program.opts<{ data?: string; keep?: boolean; rate: number; beforeKillMs: number; afterFailoverMs: number; leaseTtlMs: number; segmentEdits: number; election: string; json?: boolean }>();
  return {
    dataDir: o.data,
    keep: o.keep === true,
    ratePerSecond: o.rate,
    beforeKillMs: o.beforeKillMs,
    afterFailoverMs: o.afterFailoverMs,
    leaseTtlMs: o.leaseTtlMs,
    segmentEdits: o.segmentEdits,
    election: o.election,
    json: o.json === true,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function pollUntil<T>(what: string, timeoutMs: number, condition: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await condition().catch(() => undefined);
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function fetchJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as T };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Run the demo on a cluster it starts; `say` prints a line of the story. */
export async function runFailoverDemo(settings: DemoSettings, say: (line: string) => void): Promise<FailoverReport> {
  const dataDir = settings.dataDir ?? mkdtempSync(join(tmpdir(), 'qj-demo-failover-'));
  const failures: string[] = [];
  let cluster: LocalCluster | undefined;
  let load: NamespaceLoad | undefined;
  let qjm: QuorumJournalManager | undefined;
  try {
    say(`1. starting 3 JournalNodes and 2 metadata masters in ${dataDir}`);
    cluster = await startLocalCluster({ dataDir, journalNodes: 3, masters: 2, leaseTtlMs: settings.leaseTtlMs, segmentEdits: settings.segmentEdits, election: settings.election });
    const c = cluster;
    qjm = new QuorumJournalManager({ journalId: c.layout.journalId, nodes: c.rpcAddresses });
    const first = await c.waitForActiveMaster();
    const killedId = c.layout.masters[first]!.id;
    say(`   ${killedId} is active; election: ${settings.election}, lease ${settings.leaseTtlMs} ms; segments rolled every ${settings.segmentEdits} edits`);

    load = new NamespaceLoad({ masters: c.masterHttpAddresses, root: `/demo/run-${Date.now()}`, ratePerSecond: settings.ratePerSecond, recordAcknowledged: true });
    await load.start();
    const loadStartMs = performance.now();
    say(`2. writing ${settings.ratePerSecond} namespace mutations per second for ${seconds(settings.beforeKillMs)}`);
    await sleep(settings.beforeKillMs);

    const before: MasterStatusView = (await c.masterStatus(first));
    const manifestBefore = await qjm.getEditLogManifest(0);
    const inProgress: SegmentInfo | undefined = manifestBefore.segments.find((segment) => segment.inProgress);
    const killedAtMs = performance.now();
    const ackedBeforeKill = load.snapshot.acknowledged;
    await c.masters[first]!.kill();
    const atTxId = load.snapshot.lastTxId;
    say(`3. SIGKILL to the active ${killedId} (epoch ${before.epoch}) at txid ~${atTxId}, segment ${inProgress === undefined ? '(none)' : `edits_inprogress_${inProgress.firstTxId}`} in progress`);

    const other = await c.waitForActiveMaster({ except: first, timeoutMs: 60_000 });
    const activeAfterMs = performance.now() - killedAtMs;
    const newAddress = c.layout.masters[other]!.http;
    const firstAckByNew = await pollUntil('a write acknowledged by the new active', 60_000, async () =>
      load!.acknowledgedOperations.find((acked) => acked.master === newAddress && acked.atMs > killedAtMs),
    );
    const writingAfterMs = firstAckByNew.atMs - killedAtMs;
    const newStatus = await c.masterStatus(other);
    say(`   ${newStatus.id} active after ${seconds(activeAfterMs)} (epoch ${newStatus.epoch}), first write acknowledged after ${seconds(writingAfterMs)}`);

    await sleep(settings.afterFailoverMs);
    await load.stop();
    const loadSeconds = (performance.now() - loadStartMs) / 1000;
    const stats = load.snapshot;

    say(`4. ${killedId} comes back`);
    await c.restartMaster(first);
    const backStatus = await pollUntil(`${killedId} caught up as a standby`, 60_000, async () => {
      const [back, active] = await Promise.all([c.masterStatus(first), c.masterStatus(other)]);
      return back.role === 'standby' && back.active?.id === newStatus.id && back.appliedTxId >= active.lastTxId ? back : undefined;
    });
    const refused = await fetchJson<{ error?: { code?: string }; active?: { id: string; http: string } | null }>(`http://${c.layout.masters[first]!.http}/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/demo/written-to-the-old-active' }),
    });
    const redirectsTo = refused.body.active?.id ?? null;
    say(`   ${killedId} is ${backStatus.role}; a write to it is answered ${refused.status} ${refused.body.error?.code ?? ''} -> ${redirectsTo ?? '?'}`);
    if (backStatus.role !== 'standby' || refused.status !== 503 || redirectsTo !== newStatus.id) failures.push(`${killedId} did not come back as a standby pointing at ${newStatus.id}`);

    let oldEpochFenced: FailoverReport['oldEpochFenced'] = { fenced: false, promisedEpoch: null, error: '' };
    if (before.epoch !== null) {
      try {
        const writer = await qjm.openForWrite({ epoch: before.epoch, writerId: `${killedId}-old-epoch-probe` });
        writer.abort();
        oldEpochFenced = { fenced: false, promisedEpoch: null, error: 'the old epoch was accepted' };
      } catch (error) {
        oldEpochFenced = error instanceof EpochFencedError
          ? { fenced: true, promisedEpoch: error.promisedEpoch, error: `${error.name}: ${error.message}` }
          : { fenced: false, promisedEpoch: null, error: String(error) };
      }
    }
    say(`   a writer with ${killedId}'s old epoch ${before.epoch}: ${oldEpochFenced.fenced ? `refused, EpochFenced (the JournalNodes promised epoch ${oldEpochFenced.promisedEpoch})` : `NOT refused: ${oldEpochFenced.error}`}`);
    if (!oldEpochFenced.fenced) failures.push('the old active\'s epoch was not fenced');

    const manifestAfter = await qjm.getEditLogManifest(0);
    const recovered = inProgress === undefined ? undefined : manifestAfter.segments.find((segment) => segment.firstTxId === inProgress.firstTxId);
    const recoveredSegment = recovered === undefined ? null : { firstTxId: recovered.firstTxId, lastTxId: recovered.lastTxId, finalized: !recovered.inProgress };
    if (inProgress !== undefined) {
      say(`5. segment edits_inprogress_${inProgress.firstTxId}: ${recoveredSegment?.finalized === true ? `recovered, finalized as edits_${recoveredSegment.firstTxId}-${recoveredSegment.lastTxId}` : 'NOT finalized'}`);
      if (recoveredSegment?.finalized !== true) failures.push('the in-progress segment was not recovered');
    }

    const expected = load.expectedFiles();
    const uncertain = new Set(load.uncertainFiles());
    const trees = await Promise.all([first, other].map((i) => fetchJson<{ paths?: string[] }>(`http://${c.layout.masters[i]!.http}/tree?path=${encodeURIComponent(load!.root)}`)));
    const [backPaths, activePaths] = trees.map((tree) => (tree.body.paths ?? []).filter((path) => !path.endsWith('/')));
    const actual = new Set(activePaths ?? []);
    const lostEdits = expected.filter((path) => !actual.has(path) && !uncertain.has(path)).length;
    const expectedSet = new Set(expected);
    const unexpectedEdits = [...actual].filter((path) => !expectedSet.has(path) && !uncertain.has(path)).length;
    const mastersAgree = JSON.stringify(backPaths) === JSON.stringify(activePaths);
    say(`6. edits lost: ${lostEdits} (${stats.acknowledged + stats.settledAfterRetry} acknowledged mutations checked against ${newStatus.id}'s namespace; ${unexpectedEdits} unexpected; ${killedId} and ${newStatus.id} ${mastersAgree ? 'agree' : 'DISAGREE'})`);
    if (lostEdits !== 0) failures.push(`${lostEdits} acknowledged edits lost`);
    if (unexpectedEdits !== 0) failures.push(`${unexpectedEdits} unexpected entries`);
    if (!mastersAgree) failures.push('the two masters disagree');
    if (stats.unexpected !== 0) failures.push(`${stats.unexpected} mutations answered with an unexpected error`);

    const finalStatus = await c.masterStatus(other);
    return {
      passed: failures.length === 0,
      editsAcknowledged: stats.acknowledged,
      editsSettledAfterRetry: stats.settledAfterRetry,
      lastTxId: finalStatus.lastTxId,
      segments: manifestAfter.segments.length,
      editsPerSecond: (stats.acknowledged + stats.settledAfterRetry) / loadSeconds,
      editsPerSecondBeforeKill: ackedBeforeKill / ((killedAtMs - loadStartMs) / 1000),
      killed: { id: killedId, epoch: before.epoch, atTxId },
      newActive: { id: newStatus.id, epoch: newStatus.epoch },
      activeAfterMs,
      writingAfterMs,
      recoveredSegment,
      oldActiveBack: { role: backStatus.role, redirectsTo, writeStatus: refused.status },
      oldEpochFenced,
      lostEdits,
      unexpectedEdits,
      uncertainEdits: uncertain.size,
      mastersAgree,
      failures,
    };
  } finally {
    await load?.stop(5_000);
    qjm?.close();
    await cluster?.stop();
    if (settings.dataDir === undefined && !settings.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The report, as printed (pure). */
export function formatReport(report: FailoverReport): string {
  const lines = [
    'failover report',
    `  edits written           ${report.editsAcknowledged} acknowledged (+${report.editsSettledAfterRetry} settled after a retry), ${report.editsPerSecondBeforeKill.toFixed(0)} edits/s before the kill (${report.editsPerSecond.toFixed(0)} over the run), last txid ${report.lastTxId}, ${report.segments} segments`,
    `  active killed           ${report.killed.id} (epoch ${report.killed.epoch}) with SIGKILL at txid ~${report.killed.atTxId}`,
    `  standby active after    ${seconds(report.activeAfterMs)} (${report.newActive.id}, epoch ${report.newActive.epoch}); writing after ${seconds(report.writingAfterMs)}`,
    `  old active fenced       ${report.oldEpochFenced.fenced ? `yes: epoch ${report.killed.epoch} refused (promised ${report.oldEpochFenced.promisedEpoch}); back as ${report.oldActiveBack.role}, writes answered ${report.oldActiveBack.writeStatus} -> ${report.oldActiveBack.redirectsTo}` : `NO (${report.oldEpochFenced.error})`}`,
    `  in-progress segment     ${report.recoveredSegment === null ? 'none at the kill' : report.recoveredSegment.finalized ? `recovered: edits_${report.recoveredSegment.firstTxId}-${report.recoveredSegment.lastTxId}` : 'NOT recovered'}`,
    `  edits lost              ${report.lostEdits}${report.uncertainEdits > 0 ? ` (${report.uncertainEdits} left unsettled)` : ''}`,
    `result: ${report.passed ? 'PASS' : `FAIL (${report.failures.join('; ')})`}`,
  ];
  return lines.join('\n');
}

/** Run the command; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let settings: DemoSettings | undefined;
  try {
    settings = parseDemoArgs(argv);
  } catch (error) {
    if (error instanceof CommanderError) return 2;
    throw error;
  }
  if (settings === undefined) return 0;
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  // Children are SIGKILLed when this process exits (managed-process.ts).
  const onSignal = (): void => {
    say('demo-failover: interrupted');
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  try {
    const report = await runFailoverDemo(settings, say);
    say('');
    say(formatReport(report));
    if (settings.json) say(`demo-failover: ${JSON.stringify(report)}`);
    return report.passed ? 0 : 1;
  } catch (error) {
    say(`demo-failover: FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

process.exitCode = await main(process.argv.slice(2));
setTimeout(() => process.exit(), 2_000).unref();
