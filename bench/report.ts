/**
 * The bench's report: absolute figures, journal/etcd ratios, the issue's targets, and the text
 * and JSON forms. Pure (no I/O).
 */
import type { LatencySummary } from './lib/histogram.ts';
import type { MachineInfo } from './lib/machine.ts';
import type { BenchSettings } from './lib/settings.ts';
import type { DiskResult } from './sections/disk.ts';
import type { EtcdThroughput } from './sections/etcd.ts';
import type { FailoverResult } from './sections/failover.ts';
import type { FootprintResult, JournalThroughput, JournalWarmUp, TailLagResult } from './sections/journal.ts';

/** Everything measured in one run; sections not run are absent. */
export interface BenchResults {
  disk?: DiskResult;
  journal: {
    /** Before its first row (sections/journal.ts journalWarmUp). */
    warmUp?: JournalWarmUp;
    throughput?: Record<string, JournalThroughput>;
    latency?: LatencySummary;
    tailLag?: TailLagResult;
    footprint?: FootprintResult;
    failover?: FailoverResult;
  };
  etcd: {
    throughput?: { puts: EtcdThroughput; txn100: EtcdThroughput };
    latency?: LatencySummary;
    failover?: FailoverResult;
  };
  /** Latency run: journal p50 / etcd p50 of each round (the sides take turns in every round). */
  latencyRoundP50Ratios?: readonly number[];
}

/** One target of issue 7: the value measured, the bound, and whether it is met. */
export interface TargetCheck {
  readonly value: number;
  readonly target: number;
  readonly met: boolean;
}

/** The report: the JSON form is this object. */
export interface BenchReport {
  readonly bench: 'quorum-journal';
  readonly version: 1;
  readonly quick: boolean;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly settings: Readonly<Record<string, number>>;
  readonly machine: MachineInfo;
  readonly results: BenchResults;
  /** journal / etcd, measured in this run. */
  readonly ratios: Readonly<Record<string, number>>;
  readonly targets: Readonly<Record<string, TargetCheck>>;
  /** The journal's best batched edits/s (batches of 100 or 1,000) over etcd's best (puts or 100-put transactions). */
  readonly batchedThroughputRatioVsEtcd?: number;
}

/** Flat memory: the late RSS at most this many times the early RSS. */
export const flatMemoryGrowthMax = 1.1;

const round = (value: number, digits = 3): number => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

/** Assemble the report (ratios and targets from whatever sections ran). */
export function buildReport(input: { settings: BenchSettings; machine: MachineInfo; results: BenchResults; startedAt: Date; durationSeconds: number }): BenchReport {
  const { settings, results } = input;
  const ratios: Record<string, number> = {};
  const targets: Record<string, TargetCheck> = {};
  let batchedThroughputRatioVsEtcd: number | undefined;

  const jt = results.journal.throughput;
  const et = results.etcd.throughput;
  if (jt !== undefined && et !== undefined) {
    const journalBest = Math.max(jt['batch100']?.editsPerSecond ?? 0, jt['batch1000']?.editsPerSecond ?? 0);
    const etcdBest = Math.max(et.puts.editsPerSecond, et.txn100.editsPerSecond);
    batchedThroughputRatioVsEtcd = round(journalBest / etcdBest);
    ratios['batchedThroughputVsEtcdBest'] = batchedThroughputRatioVsEtcd;
    if (jt['batch1'] !== undefined) ratios['batch1ThroughputVsEtcdPuts'] = round(jt['batch1'].editsPerSecond / et.puts.editsPerSecond);
    if (jt['batch100'] !== undefined) ratios['batch100ThroughputVsEtcdTxn100'] = round(jt['batch100'].editsPerSecond / et.txn100.editsPerSecond);
    if (jt['batch1000'] !== undefined) {
      ratios['diskBytesPerEditByteVsEtcd'] = round(jt['batch1000'].diskBytesPerEditByte / et.txn100.diskBytesPerEditByte);
      ratios['serverCpuPerEditVsEtcd'] = round(jt['batch1000'].serverCpuMicrosPerEdit / et.txn100.serverCpuMicrosPerEdit);
    }
    targets['batchedThroughputAtLeast5xEtcd'] = { value: batchedThroughputRatioVsEtcd, target: 5, met: batchedThroughputRatioVsEtcd >= 5 };
  }
  const jl = results.journal.latency;
  const el = results.etcd.latency;
  if (jl !== undefined && el !== undefined) {
    ratios['latencyP50VsEtcd'] = round(jl.p50Ms / el.p50Ms);
    ratios['latencyP99VsEtcd'] = round(jl.p99Ms / el.p99Ms);
    targets['latencyP50BelowEtcd'] = { value: jl.p50Ms, target: el.p50Ms, met: jl.p50Ms < el.p50Ms };
  }
  if (jl !== undefined && results.disk !== undefined) ratios['latencyP50InDiskFsyncs'] = round(jl.p50Ms / results.disk.fsyncLatency.p50Ms);
  const tail = results.journal.tailLag;
  if (tail !== undefined) targets['tailLagP99Under10Ms'] = { value: tail.lag.p99Ms, target: 10, met: tail.lag.p99Ms < 10 && tail.achievedEditsPerSecond >= 0.95 * tail.offeredEditsPerSecond };
  const jf = results.journal.failover;
  const ef = results.etcd.failover;
  if (jf !== undefined) targets['failoverUnder3sEmbedded'] = { value: jf.maxMs, target: 3000, met: jf.maxMs < 3000 };
  if (jf !== undefined && ef !== undefined) ratios['failoverMedianVsEtcd'] = round(jf.medianMs / ef.medianMs);
  const footprint = results.journal.footprint;
  if (footprint !== undefined) {
    const growth = Math.max(...footprint.nodes.map((n) => n.rssGrowthRatio));
    targets['flatMemory'] = { value: growth, target: flatMemoryGrowthMax, met: growth <= flatMemoryGrowthMax };
  }
  if (jt !== undefined && results.disk !== undefined) {
    const best = Math.max(...Object.values(jt).map((r) => r.editsPerSecond * r.diskBytesPerEditByte * settings.editBytes));
    ratios['bestThroughputShareOfDiskBandwidth'] = round(best / 1e6 / results.disk.sequentialWriteMBps);
  }

  return {
    bench: 'quorum-journal',
    version: 1,
    quick: settings.quick,
    startedAt: input.startedAt.toISOString(),
    durationSeconds: round(input.durationSeconds, 1),
    settings: {
      editBytes: settings.editBytes,
      warmupMs: settings.warmupMs,
      journalWarmupMsMax: settings.journalWarmupMsMax,
      measureMs: settings.measureMs,
      journalInflightWritesBatch1: settings.journalInflightWrites[1] ?? 0,
      journalInflightWritesBatch100: settings.journalInflightWrites[100] ?? 0,
      journalInflightWritesBatch1000: settings.journalInflightWrites[1000] ?? 0,
      etcdInflightPuts: settings.etcdInflightPuts,
      etcdInflightTransactions: settings.etcdInflightTransactions,
      etcdPutsPerTransaction: settings.etcdPutsPerTransaction,
      tailEditsPerSecond: settings.tailEditsPerSecond,
      footprintSeconds: settings.footprintSeconds,
      footprintEditsPerSecond: settings.footprintEditsPerSecond,
      failoverRounds: settings.failoverRounds,
      electionTtlMs: settings.electionTtlMs,
    },
    machine: input.machine,
    results,
    ratios,
    targets,
    ...(batchedThroughputRatioVsEtcd !== undefined ? { batchedThroughputRatioVsEtcd } : {}),
  };
}

const integer = (value: number): string => Math.round(value).toLocaleString('en-US');
const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));
const pad = (text: string, width: number): string => text.padStart(width);
const verdict = (check: TargetCheck | undefined): string => (check === undefined ? '' : check.met ? 'MET' : 'NOT MET');

function latencyColumns(l: LatencySummary): string {
  return `${pad(ms(l.p50Ms), 9)}${pad(ms(l.p99Ms), 9)}${pad(ms(l.p999Ms), 10)}`;
}

/** The human-readable report. */
export function formatReport(report: BenchReport): string {
  const { machine, results, ratios, targets } = report;
  const lines: string[] = [];
  lines.push(`quorum-journal bench (${report.quick ? 'QUICK smoke run: figures are not measurements' : 'full'}), ${report.startedAt}, ${report.durationSeconds} s`);
  lines.push(
    `machine: ${machine.cpuModel} x${machine.cpuCount}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, node ${machine.node}, etcd ${machine.etcd}; ` +
      `data on ${machine.dataFileSystem} (${machine.dataDevice}${machine.dataUsedPercentAtStart === undefined ? '' : `, ${machine.dataUsedPercentAtStart}% used`}); load average ${machine.loadAverageAtStart} -> ${machine.loadAverageAtEnd}` +
      `; bench process ${machine.benchMallocTuned ? 'with' : 'without'} the malloc settings, ` +
      (machine.benchHeapGrowingPercent === undefined ? 'heap growing as its command line says' : `heap growing percent ${machine.benchHeapGrowingPercent}`),
  );
  if (results.disk !== undefined) {
    const d = results.disk;
    lines.push('', `disk (the data folder): ${integer(d.fsyncsPerSecond)} fsyncs/s (4 KiB append + fdatasync, p50 ${ms(d.fsyncLatency.p50Ms)} ms, p99 ${ms(d.fsyncLatency.p99Ms)} ms); sequential write ${integer(d.sequentialWriteMBps)} MB/s`);
  }
  const jt = results.journal.throughput;
  const et = results.etcd.throughput;
  if (jt !== undefined || et !== undefined) {
    lines.push('', `write throughput, ${report.settings['editBytes']} B edits, fsync on        edits/s   p50 ms   p99 ms  p99.9 ms  disk B/edit B  CPU µs/edit: servers client  machine busy`);
    const row = (name: string, r: JournalThroughput | EtcdThroughput): void => {
      lines.push(
        `  ${name.padEnd(48)}${pad(integer(r.editsPerSecond), 10)}${latencyColumns(r.latency)}${pad(r.diskBytesPerEditByte.toFixed(2), 15)}` +
          `${pad(r.serverCpuMicrosPerEdit.toFixed(1), 21)}${pad(r.clientCpuMicrosPerEdit.toFixed(1), 7)}${pad(`${integer(r.machineBusyPercent)}%`, 14)}`,
      );
    };
    if (jt !== undefined) {
      for (const [key, r] of Object.entries(jt)) {
        const batch = Number(key.replace('batch', ''));
        row(`journal, batches of ${integer(batch)} (${report.settings[`journalInflightWritesBatch${batch}`]} in flight)`, r);
      }
    }
    if (et !== undefined) {
      row(`etcd, one put per edit (${report.settings['etcdInflightPuts']} in flight)`, et.puts);
      row(`etcd, transactions of 100 puts (${report.settings['etcdInflightTransactions']} in flight)`, et.txn100);
    }
    if (report.batchedThroughputRatioVsEtcd !== undefined) {
      lines.push(`  journal best batched / etcd best: ${report.batchedThroughputRatioVsEtcd.toFixed(2)}x (target >= 5x) ${verdict(targets['batchedThroughputAtLeast5xEtcd'])}`);
      if (ratios['batch1ThroughputVsEtcdPuts'] !== undefined) lines.push(`  journal batches of 1 / etcd puts: ${ratios['batch1ThroughputVsEtcdPuts'].toFixed(2)}x`);
      if (ratios['serverCpuPerEditVsEtcd'] !== undefined) lines.push(`  server CPU per edit, journal batches of 1,000 / etcd 100-put transactions: ${ratios['serverCpuPerEditVsEtcd'].toFixed(2)}`);
    }
    if (ratios['bestThroughputShareOfDiskBandwidth'] !== undefined) {
      lines.push(`  journal's best, in bytes reaching storage, is ${(ratios['bestThroughputShareOfDiskBandwidth'] * 100).toFixed(0)}% of the disk's sequential bandwidth`);
    }
    const jw = results.journal.warmUp;
    if (jw !== undefined) {
      lines.push(
        `  before its first row the journal warmed up for ${jw.seconds.toFixed(1)} s (${integer(jw.edits)} edits in batches of 100), ` +
          (jw.steady ? 'until every JournalNode had reused a WAL file (snapshot, compaction, reuse)' : 'and stopped before every JournalNode had reused a WAL file: its first row may be a cold one'),
      );
    }
  }
  const jl = results.journal.latency;
  const el = results.etcd.latency;
  if (jl !== undefined || el !== undefined) {
    lines.push('', 'latency, one edit in flight                                         p50 ms   p99 ms  p99.9 ms');
    if (jl !== undefined) lines.push(`  ${'journal (libqjm write)'.padEnd(58)}${latencyColumns(jl)}`);
    if (el !== undefined) lines.push(`  ${'etcd (one put)'.padEnd(58)}${latencyColumns(el)}`);
    if (ratios['latencyP50VsEtcd'] !== undefined) lines.push(`  journal / etcd p50: ${ratios['latencyP50VsEtcd'].toFixed(2)} (target < 1) ${verdict(targets['latencyP50BelowEtcd'])}`);
    const rounds = results.latencyRoundP50Ratios;
    if (rounds !== undefined && rounds.length > 0) {
      const sorted = [...rounds].sort((a, b) => a - b);
      const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
      lines.push(`  the two took turns, ${rounds.length} rounds: journal / etcd p50 per round median ${median.toFixed(2)}, range ${sorted[0]!.toFixed(2)}-${sorted[sorted.length - 1]!.toFixed(2)}`);
    }
    if (ratios['latencyP50InDiskFsyncs'] !== undefined) lines.push(`  journal p50 = ${ratios['latencyP50InDiskFsyncs'].toFixed(1)} x the disk's fsync p50`);
  }
  const tail = results.journal.tailLag;
  if (tail !== undefined) {
    lines.push(
      '',
      `standby tail lag at ${integer(tail.offeredEditsPerSecond)} edits/s offered (${integer(tail.achievedEditsPerSecond)} achieved, ${integer(tail.edits)} edits measured): ` +
        `p50 ${ms(tail.lag.p50Ms)} ms, p99 ${ms(tail.lag.p99Ms)} ms, p99.9 ${ms(tail.lag.p999Ms)} ms (target p99 < 10 ms) ${verdict(targets['tailLagP99Under10Ms'])}`,
      `  write acknowledgement at that rate: p50 ${ms(tail.writeLatency.p50Ms)} ms, p99 ${ms(tail.writeLatency.p99Ms)} ms`,
      `  CPU meanwhile: the machine ${integer(tail.cpu.machineBusyPercent)}% busy (all cores); % of one core: JournalNodes ${integer(tail.cpu.journalNodesPercent)}, ` +
        `writer ${integer(tail.cpu.writerPercent)}, tail reader ${integer(tail.cpu.tailReaderPercent)}`,
    );
  }
  const jf = results.journal.failover;
  const ef = results.etcd.failover;
  if (jf !== undefined || ef !== undefined) {
    lines.push('', `failover: SIGKILL of the active master -> first acknowledged write of the new one (lease TTL ${report.settings['electionTtlMs']} ms)`);
    const row = (name: string, f: FailoverResult): void => {
      lines.push(`  ${name.padEnd(22)} median ${pad(integer(f.medianMs), 6)} ms   max ${pad(integer(f.maxMs), 6)} ms   rounds: ${f.roundsMs.map(integer).join(', ')} ms`);
    };
    if (jf !== undefined) row('embedded election', jf);
    if (ef !== undefined) row('etcd election', ef);
    if (jf !== undefined) lines.push(`  embedded election max under 3 s: ${verdict(targets['failoverUnder3sEmbedded'])}`);
    if (ratios['failoverMedianVsEtcd'] !== undefined) lines.push(`  embedded / etcd median: ${ratios['failoverMedianVsEtcd'].toFixed(2)}`);
  }
  const footprint = results.journal.footprint;
  if (footprint !== undefined) {
    lines.push(
      '',
      `footprint: ${footprint.seconds} s at ${integer(footprint.offeredEditsPerSecond)} edits/s (${integer(footprint.achievedEditsPerSecond)} achieved; ack p50 ${ms(footprint.writeLatency.p50Ms)} ms, p99 ${ms(footprint.writeLatency.p99Ms)} ms)`,
    );
    for (const n of footprint.nodes) {
      lines.push(`  ${n.id.padEnd(5)} RSS ${n.rssEarlyMiB} -> ${n.rssLateMiB} MiB (max ${n.rssMaxMiB}, x${n.rssGrowthRatio.toFixed(3)})   CPU ${n.cpuPercent.toFixed(1)}% of a core   full GCs ${n.majorGcPerMinute}/min`);
    }
    lines.push(`  bytes written to storage per edit byte (3 JournalNodes): ${footprint.diskBytesPerEditByte.toFixed(2)}`);
    lines.push(`  flat memory (late/early RSS <= ${flatMemoryGrowthMax}): ${verdict(targets['flatMemory'])}`);
  }
  return lines.join('\n');
}
