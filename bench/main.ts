/**
 * `npm run bench`: the journal side by side with etcd, on this machine, in one run (design
 * section 8: speed and memory are measured here, never asserted in tests).
 *
 * ```
 * npm run bench -- [--json] [--quick] [--only disk,throughput,latency,tail,footprint,failover]
 *                  [--seconds N] [--footprint-seconds N] [--footprint-rate N] [--tail-rate N]
 *                  [--failover-rounds N] [--dir PATH] [--keep-data] [--cpu-prof DIR]
 * ```
 * Sections (each measures the journal and etcd in turn, never both at once):
 * 1. throughput: a 3-JN cluster, one libqjm writer, 1 KiB edits, batches of 1, 100, 1,000,
 *    pipelined; a 3-member etcd (Debian's etcd-server) with etcd3: one put per edit, many in
 *    flight, and transactions of 100 puts. Edits/s and p50/p99/p99.9 acknowledgement latency.
 * 2. latency: one edit in flight, journal and etcd.
 * 3. tail: a standby's tail lag at a fixed offered rate (10,000 edits/s).
 * 4. failover: SIGKILL of the active master to the new one's first acknowledged write, with the
 *    embedded election and with etcd.
 * 5. footprint: each JN's RSS and CPU over a run at a fixed rate (5 minutes; `--footprint-seconds`),
 *    bytes written to storage per edit byte.
 * 6. disk: fsyncs/s and sequential write bandwidth of the data folder.
 * The report puts journal/etcd ratios next to the absolute figures. `--json`: the last stdout
 * line is one JSON object (`batchedThroughputRatioVsEtcd`: the journal's best batched edits/s
 * over etcd's best, in this run). A progress bar goes to stderr. `--quick` runs every section in
 * seconds (a smoke run: its figures are not measurements). `--cpu-prof DIR`: every JournalNode
 * writes a CPU profile into DIR (profile the bench process itself with `node --cpu-prof`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findEtcdBinary } from '../test/support/etcd.ts';
import { HEAP_GROWING_PERCENT, journalNodeEnv, mallocTuned, onGlibc, tuneGarbageCollector } from '../journalnode/gc-tuning.ts';
import { runInterleaved } from './lib/drivers.ts';
import { machineInfo } from './lib/machine.ts';
import { Progress } from './lib/progress.ts';
import type { BenchSettings } from './lib/settings.ts';
import { startEtcdCluster, type EtcdCluster } from './lib/etcd-cluster.ts';
import { startBenchJournalCluster, type BenchJournalCluster } from './lib/journal-cluster.ts';
import { measureDisk } from './sections/disk.ts';
import { journalBatchSizes, journalFootprint, journalTailLag, journalThroughput, journalWarmUp, openBenchWriter, type BenchWriter } from './sections/journal.ts';
import { EtcdBench } from './sections/etcd.ts';
import { measureFailover } from './sections/failover.ts';
import { buildReport, formatReport, type BenchResults } from './report.ts';

// The bench process is the master's side (the libqjm writer) and etcd's client: it runs with the
// glibc malloc settings libqjm's README advises for a master. glibc reads them when a process
// starts, so a bench started without them starts itself again with them.
if (!mallocTuned() && process.env['QJ_BENCH_RESTARTED'] === undefined && onGlibc()) {
  const env = { ...process.env, ...journalNodeEnv(process.env), QJ_BENCH_RESTARTED: '1' };
  const run = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  process.exit(run.status ?? 1);
}
// And with V8's heap growing factor that libqjm's README advises for a master with a small heap
// (as the JournalNodes run): otherwise this process's 20 MiB heap is marked again as soon as
// the last full collection ends.
const benchHeapGrowing = tuneGarbageCollector();

/** Section names accepted by `--only`. */
export const sectionNames = ['disk', 'throughput', 'latency', 'tail', 'footprint', 'failover'] as const;
type SectionName = (typeof sectionNames)[number];

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    seconds: { type: 'string' },
    'footprint-seconds': { type: 'string' },
    'footprint-rate': { type: 'string' },
    'tail-rate': { type: 'string' },
    'failover-rounds': { type: 'string' },
    dir: { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});

function numberFlag(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`bench: --${name} must be a positive number, got ${raw}\n`);
    process.exit(2);
  }
  return value;
}

const only = new Set<SectionName>();
for (const name of (values.only ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
  if (!(sectionNames as readonly string[]).includes(name)) {
    process.stderr.write(`bench: unknown section ${name} (known: ${sectionNames.join(', ')})\n`);
    process.exit(2);
  }
  only.add(name as SectionName);
}
const runs = (name: SectionName): boolean => only.size === 0 || only.has(name);

const quick = values.quick;
if (values.dir !== undefined) mkdirSync(values.dir, { recursive: true });
const baseDir = mkdtempSync(join(values.dir ?? tmpdir(), 'qj-bench-'));
const logDir = join(baseDir, 'logs');
mkdirSync(logDir, { recursive: true });
const measureMs = numberFlag('seconds', values.seconds, quick ? 1 : 10) * 1000;
const settings: BenchSettings = {
  quick,
  editBytes: 1024,
  warmupMs: quick ? 300 : 2_000,
  journalWarmupMsMax: quick ? 300 : 90_000,
  measureMs,
  latencyRounds: quick ? 2 : 10,
  latencyRoundMs: quick ? 250 : 1_000,
  journalInflightWrites: { 1: 1024, 100: 64, 1000: 16 },
  etcdInflightPuts: 1024,
  etcdInflightTransactions: 64,
  etcdPutsPerTransaction: 100,
  diskFsyncMs: quick ? 500 : 5_000,
  diskSequentialBytes: (quick ? 16 : 512) * 1024 * 1024,
  tailEditsPerSecond: numberFlag('tail-rate', values['tail-rate'], 10_000),
  tailDurationMs: quick ? 1_500 : measureMs,
  footprintSeconds: numberFlag('footprint-seconds', values['footprint-seconds'], quick ? 3 : 300),
  footprintEditsPerSecond: numberFlag('footprint-rate', values['footprint-rate'], 5_000),
  footprintSampleMs: quick ? 250 : 1_000,
  segmentEdits: 1_000_000,
  failoverRounds: numberFlag('failover-rounds', values['failover-rounds'], quick ? 1 : 3),
  failoverSteadyMs: quick ? 300 : 1_500,
  electionTtlMs: 2_000,
  workDir: baseDir,
  logDir,
};

const etcdBinary = findEtcdBinary();
const needsJournal = runs('throughput') || runs('latency') || runs('tail') || runs('footprint') || runs('failover');
const needsEtcd = runs('throughput') || runs('latency') || runs('failover');
if (needsEtcd && etcdBinary === undefined) {
  process.stderr.write('bench: etcd not found (install Debian package etcd-server, or set ETCD_BIN)\n');
  process.exit(2);
}

const measureS = (settings.warmupMs + settings.measureMs) / 1000;
const startS = quick ? 8 : 10;
const plan: { name: string; estimateSeconds: number }[] = [];
if (runs('disk')) plan.push({ name: 'disk', estimateSeconds: settings.diskFsyncMs / 1000 + (quick ? 1 : 5) });
if (needsJournal) plan.push({ name: 'journal: start 3 JournalNodes', estimateSeconds: startS });
const needsBenchWriter = runs('throughput') || runs('latency') || runs('tail') || runs('footprint');
if (needsBenchWriter) plan.push({ name: 'journal: warm-up until every JournalNode reuses a WAL file', estimateSeconds: quick ? settings.journalWarmupMsMax / 1000 : 10 });
if (runs('throughput')) for (const b of journalBatchSizes) plan.push({ name: `journal: throughput, batches of ${b}`, estimateSeconds: measureS });
if (runs('latency')) {
  plan.push({ name: 'etcd: start 3 members', estimateSeconds: 3 });
  plan.push({ name: 'latency: journal and etcd in turns, one edit in flight', estimateSeconds: (2 * (settings.warmupMs + settings.latencyRounds * settings.latencyRoundMs)) / 1000 + 3 });
}
if (runs('tail')) plan.push({ name: 'journal: tail lag', estimateSeconds: (settings.warmupMs + settings.tailDurationMs) / 1000 + 4 });
if (runs('footprint')) plan.push({ name: 'journal: footprint', estimateSeconds: settings.footprintSeconds });
if (runs('failover')) plan.push({ name: 'failover: embedded election', estimateSeconds: 8 + settings.failoverRounds * 4 });
if (needsEtcd && !runs('latency')) plan.push({ name: 'etcd: start 3 members', estimateSeconds: 3 });
if (runs('failover')) plan.push({ name: 'failover: etcd election', estimateSeconds: 8 + settings.failoverRounds * 4 });
if (runs('throughput')) {
  plan.push({ name: 'etcd: throughput, one put per edit', estimateSeconds: measureS });
  plan.push({ name: 'etcd: throughput, transactions of 100 puts', estimateSeconds: measureS });
}
const progress = new Progress(plan, true);

const machine = machineInfo(baseDir, etcdBinary, { heapGrowingPercent: benchHeapGrowing === undefined ? undefined : HEAP_GROWING_PERCENT });
const results: BenchResults = { journal: {}, etcd: {} };
const startedAt = new Date();
const startedMs = performance.now();
let journal: BenchJournalCluster | undefined;
let etcd: EtcdCluster | undefined;
let etcdClient: EtcdBench | undefined;
let exitCode = 0;
try {
  if (runs('disk')) {
    progress.start('disk');
    results.disk = await measureDisk(baseDir, { fsyncDurationMs: settings.diskFsyncMs, sequentialBytes: settings.diskSequentialBytes });
  }
  if (needsJournal) {
    progress.start('journal: start 3 JournalNodes');
    journal = await startBenchJournalCluster(join(baseDir, 'journal'), { cpuProfileDir: values['cpu-prof'] });
    let bench: BenchWriter | undefined;
    if (needsBenchWriter) {
      bench = await openBenchWriter(journal, settings.editBytes, settings.segmentEdits);
      progress.start('journal: warm-up until every JournalNode reuses a WAL file');
      results.journal.warmUp = await journalWarmUp(bench, journal, settings);
      if (!results.journal.warmUp.steady && !quick) {
        process.stderr.write(`bench: after ${settings.journalWarmupMsMax / 1000} s of warm-up some JournalNode has not reused a WAL file yet; measuring anyway\n`);
      }
    }
    if (runs('throughput')) {
      results.journal.throughput = {};
      for (const b of journalBatchSizes) {
        progress.start(`journal: throughput, batches of ${b}`);
        results.journal.throughput[`batch${b}`] = await journalThroughput(bench!, journal, settings, b);
      }
    }
    if (runs('latency')) {
      // Right after the throughput runs, as a window each used to be: the tail run after it then
      // starts on a machine that has finished the throughput runs' background work. Both
      // clusters run; the two sides take turns (lib/drivers.ts runInterleaved).
      progress.start('etcd: start 3 members');
      etcd = await startEtcdCluster(etcdBinary!, join(baseDir, 'etcd'));
      etcdClient = await EtcdBench.connect(etcd, settings);
      const client = etcdClient;
      progress.start('latency: journal and etcd in turns, one edit in flight');
      const writer = bench!;
      const one = writer.records(1);
      const measured = await runInterleaved([() => writer.write(one), () => client.putOne()], {
        warmupMs: settings.warmupMs,
        rounds: settings.latencyRounds,
        roundMs: settings.latencyRoundMs,
      });
      results.journal.latency = measured.sides[0]!.latency;
      results.etcd.latency = measured.sides[1]!.latency;
      results.latencyRoundP50Ratios = measured.p50Ratios;
    }
    if (runs('tail')) {
      progress.start('journal: tail lag');
      results.journal.tailLag = await journalTailLag(bench!, journal, settings);
    }
    if (runs('footprint')) {
      progress.start('journal: footprint');
      results.journal.footprint = await journalFootprint(bench!, journal, settings);
    }
    if (bench !== undefined) await bench.writer.close();
    if (runs('failover')) {
      progress.start('failover: embedded election');
      results.journal.failover = await measureFailover(journal, settings, 'journal');
    }
  }
  if (needsEtcd) {
    if (etcd === undefined) {
      progress.start('etcd: start 3 members');
      etcd = await startEtcdCluster(etcdBinary!, join(baseDir, 'etcd'));
    }
    if (runs('failover')) {
      progress.start('failover: etcd election');
      results.etcd.failover = await measureFailover(journal!, settings, 'etcd', etcd.clientUrls);
    }
    // The JournalNodes are idle from here on: stop them so etcd has the machine to itself.
    await journal?.stop();
    journal = undefined;
    if (runs('throughput')) {
      etcdClient ??= await EtcdBench.connect(etcd, settings);
      progress.start('etcd: throughput, one put per edit');
      const puts = await etcdClient.puts();
      progress.start('etcd: throughput, transactions of 100 puts');
      const txn100 = await etcdClient.transactions();
      results.etcd.throughput = { puts, txn100 };
    }
  }
} catch (error) {
  progress.stop();
  process.stderr.write(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n(logs in ${logDir})\n`);
  exitCode = 1;
} finally {
  progress.stop();
  etcdClient?.close();
  await journal?.stop().catch(() => undefined);
  await etcd?.stop().catch(() => undefined);
}
machine.loadAverageAtEnd = Math.round(loadavg()[0]! * 100) / 100;
if (exitCode === 0) {
  const report = buildReport({ settings, machine, results, startedAt, durationSeconds: (performance.now() - startedMs) / 1000 });
  if (values.json) {
    process.stderr.write(`${formatReport(report)}\n`);
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(`${formatReport(report)}\n`);
  }
}
if (!values['keep-data']) rmSync(baseDir, { recursive: true, force: true });
else process.stderr.write(`bench: data kept in ${baseDir}\n`);
process.exit(exitCode);
