/**
 * The bench's smoke test: `npm run bench -- --quick --json` runs every section in seconds (real
 * JournalNodes, a real 3-member etcd, real master processes) and its last stdout line is one
 * JSON object of the expected shape whose every figure is a positive finite number. Speed is
 * never asserted here (design section 8): only that each figure was measured.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { etcdAvailability } from '../support/etcd.ts';
import { projectRoot } from '../support/cluster.ts';
import { HEAP_GROWING_PERCENT, onGlibc } from '../../journalnode/gc-tuning.ts';
import { metricSampleValue } from '../../bench/sections/journal.ts';

/** The quick run's budget, ms (it takes well under a minute on a quiet machine). */
const quickRunTimeoutMs = 110_000;

interface RunOutput {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runBench(args: readonly string[]): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'bench', '--', ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), quickRunTimeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every number under `value`, with its path. */
function numbersIn(value: unknown, path: string, out: [string, number][]): [string, number][] {
  if (typeof value === 'number') out.push([path, value]);
  else if (Array.isArray(value)) value.forEach((v, i) => numbersIn(v, `${path}[${i}]`, out));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) numbersIn(v, `${path}.${k}`, out);
  return out;
}

/** The value at a dotted path, or undefined. */
function at(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const etcd = etcdAvailability();

test('bench - a quick run reports every figure as one JSON object on its last line', async (t) => {
  if (etcd.mode === 'skip') {
    t.log(`skipped: ${etcd.reason}`);
    t.pass();
    return;
  }
  if (etcd.mode === 'fail') t.fail(etcd.reason);
  t.timeout(quickRunTimeoutMs + 10_000);
  const run = await runBench(['--quick', '--json']);
  t.is(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  const report = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;

  const figures = [
    'results.disk.fsyncsPerSecond',
    'results.disk.sequentialWriteMBps',
    'results.journal.warmUp.edits',
    'results.journal.throughput.batch1.editsPerSecond',
    'results.journal.throughput.batch100.editsPerSecond',
    'results.journal.throughput.batch1000.editsPerSecond',
    'results.journal.throughput.batch1000.latency.p999Ms',
    'results.journal.throughput.batch1000.diskBytesPerEditByte',
    'results.journal.throughput.batch1000.serverCpuMicrosPerEdit',
    'results.journal.throughput.batch1000.machineBusyPercent',
    'results.etcd.throughput.txn100.machineBusyPercent',
    'results.journal.latency.p50Ms',
    'results.journal.tailLag.lag.p99Ms',
    'results.journal.tailLag.cpu.machineBusyPercent',
    'results.journal.tailLag.cpu.journalNodesPercent',
    'results.journal.footprint.diskBytesPerEditByte',
    'results.journal.failover.medianMs',
    'results.etcd.throughput.puts.editsPerSecond',
    'results.etcd.throughput.txn100.editsPerSecond',
    'results.etcd.throughput.txn100.latency.p50Ms',
    'results.etcd.latency.p50Ms',
    'results.etcd.failover.medianMs',
    'ratios.latencyP50VsEtcd',
    'ratios.failoverMedianVsEtcd',
    'batchedThroughputRatioVsEtcd',
  ];
  for (const path of figures) t.is(typeof at(report, path), 'number', `${path} is missing`);
  const busy = at(report, 'results.journal.throughput.batch1000.machineBusyPercent') as number;
  t.true(busy > 0 && busy <= 100, `machine busy ${busy}%`);
  // A quick run warms up for one short pass: whether every node reused a WAL file is reported either way.
  t.is(typeof at(report, 'results.journal.warmUp.steady'), 'boolean');
  // The latency run's sides took turns: one journal/etcd p50 ratio per round (2 in a quick run).
  const rounds = at(report, 'results.latencyRoundP50Ratios');
  t.true(Array.isArray(rounds) && rounds.length === 2 && rounds.every((r) => typeof r === 'number' && r > 0), `latency rounds ${JSON.stringify(rounds)}`);
  const nodes = at(report, 'results.journal.footprint.nodes');
  t.true(Array.isArray(nodes) && nodes.length === 3, 'a footprint per JournalNode');
  for (const name of ['batchedThroughputAtLeast5xEtcd', 'latencyP50BelowEtcd', 'tailLagP99Under10Ms', 'failoverUnder3sEmbedded', 'flatMemory']) {
    t.is(typeof at(report, `targets.${name}.met`), 'boolean', `target ${name}`);
  }
  t.true(report['quick'] === true);
  t.is(typeof at(report, 'machine.cpuModel'), 'string');
  const used = at(report, 'machine.dataUsedPercentAtStart');
  t.true(typeof used === 'number' && used >= 0 && used <= 100, `data folder ${String(used)}% used`);
  // Started by npm without GLIBC_TUNABLES, the bench started itself again with the malloc settings.
  t.is(at(report, 'machine.benchMallocTuned'), onGlibc());
  t.regex(run.stderr, onGlibc() ? /bench process with the malloc settings/ : /bench process without/);
  // And it set V8's heap growing percent for itself, as libqjm's README advises a master.
  t.is(at(report, 'machine.benchHeapGrowingPercent'), HEAP_GROWING_PERCENT);
  t.regex(run.stderr, new RegExp(`heap growing percent ${HEAP_GROWING_PERCENT}`));

  const measured = numbersIn({ results: report['results'], ratios: report['ratios'], settings: report['settings'], targets: report['targets'], batched: report['batchedThroughputRatioVsEtcd'] }, '', []);
  t.true(measured.length > 50);
  // Counts may be 0 (a short quick run may see no full collection); every other figure is positive.
  for (const [path, value] of measured) t.true(Number.isFinite(value) && (path.endsWith('majorGcPerMinute') ? value >= 0 : value > 0), `${path} = ${value}`);
  t.is(typeof at(report, 'results.journal.footprint.nodes.0.majorGcPerMinute'), 'number');
});

test('bench - metricSampleValue reads the one sample named, labels included, and 0 for one not yet created', (t) => {
  const page = [
    '# HELP raft_wal_segments_reused_total Segments started in a reused file',
    '# TYPE raft_wal_segments_reused_total counter',
    'raft_wal_segments_reused_total_extra 9',
    'raft_wal_segments_reused_total 3',
    'nodejs_gc_duration_seconds_count{kind="minor"} 40',
    'nodejs_gc_duration_seconds_count{kind="major"} 7',
    'broken_total abc',
  ].join('\n');
  t.is(metricSampleValue(page, 'raft_wal_segments_reused_total'), 3);
  t.is(metricSampleValue(page, 'nodejs_gc_duration_seconds_count{kind="major"}'), 7);
  t.is(metricSampleValue(page, 'raft_wal_segments_created_total'), 0);
  t.throws(() => metricSampleValue(page, 'broken_total'), { message: /not a number/ });
});
