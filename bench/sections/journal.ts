/**
 * The journal side: a 3-JournalNode cluster and one writer through libqjm (fsync on, as always).
 * - throughput: batches of 1, 100 and 1,000 edits of 1 KiB, pipelined (a window of writes in
 *   flight), edits/s and acknowledgement latency;
 * - latency: one edit (`BenchWriter.write`), interleaved with etcd's puts by main.ts;
 * - tail lag: a standby's tail (another process) at a fixed offered rate, from a write's
 *   acknowledgement to the tail holding it;
 * - footprint: each JournalNode's RSS and CPU over a run at a fixed rate, and bytes written to
 *   storage per edit byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JournalWriter, QuorumJournalManager } from '../../libqjm/index.ts';
import { LatencyRecorder, type LatencySummary } from '../lib/histogram.ts';
import { runPaced, runWindowed, type ThroughputResult } from '../lib/drivers.ts';
import { ScriptProcess } from '../lib/child.ts';
import { CostMeter, machineBusyPercent, readMachineCpu, readProcess, type CostPerEdit, type ProcessReading } from '../lib/machine.ts';
import { benchJournalId, type BenchJournalCluster } from '../lib/journal-cluster.ts';
import type { BenchSettings } from '../lib/settings.ts';

/** Batch sizes of the throughput runs, edits per write. */
export const journalBatchSizes = [1, 100, 1000] as const;

/** Time a tail reader gets to start and to deliver its last edit, ms. */
const tailReaderTimeoutMs = 60_000;

/** A writer of the bench journal with an open segment, and the records it writes. */
export interface BenchWriter {
  readonly qjm: QuorumJournalManager;
  readonly writer: JournalWriter;
  /** `count` references to one 1 KiB payload (count <= 100,000). */
  records(count: number): Uint8Array[];
  /**
   * Write `records` at the next txid, as a master does: once the open segment holds
   * `segmentEdits` edits it is first finalized, the next one started, and all but the last two
   * finalized segments purged (writes meanwhile wait). Resolves with the first txid once committed.
   */
  write(records: readonly Uint8Array[]): Promise<number>;
}

/**
 * Open the bench journal for writing and start a segment. Segments are rolled every
 * `segmentEdits` edits (1,000,000 in main.ts), and all but the last two finalized ones purged, as
 * a master rolls and purges: the bench's disk use stays bounded, and the rows include rolls.
 *
 * A roll drains the pipeline: finalize waits until every batch in flight is acknowledged, then
 * finalize, start and purge take a Raft round each, and only then do writes go on. Rolled every
 * 100,000 edits (every 0.8 s at full speed; chosen when a JournalNode snapshot still copied the
 * in-progress segment, which it now links), those drains cost the throughput rows 10-20%
 * (two alternated pairs of `--only throughput`: batches of 1,000 at 115,200/96,200 against
 * 128,300/129,500 edits/s with 1,000,000; batches of 100 at 114,550/92,980 against
 * 132,010/121,450, p99 181-230 against 86-97 ms). A master rolls far less often: HDFS's standby
 * asks for a roll every 2 minutes, and checkpoints every 1,000,000 transactions by default.
 */
export async function openBenchWriter(cluster: BenchJournalCluster, editBytes: number, segmentEdits: number): Promise<BenchWriter> {
  const qjm = cluster.manager();
  const writer = await qjm.openForWrite();
  let segmentFirst = writer.nextTxId;
  await writer.startLogSegment(segmentFirst);
  const segmentStarts: number[] = [segmentFirst];
  let rolling: Promise<void> | undefined;
  const roll = async (): Promise<void> => {
    const last = writer.nextTxId - 1;
    await writer.finalizeLogSegment(segmentFirst, last);
    segmentFirst = last + 1;
    await writer.startLogSegment(segmentFirst);
    segmentStarts.push(segmentFirst);
    if (segmentStarts.length > 3) segmentStarts.shift();
    if (segmentStarts.length === 3) await writer.purgeLogsOlderThan(segmentStarts[0]!);
  };
  const payload = new Uint8Array(editBytes).fill(0x5a);
  const cache = new Map<number, Uint8Array[]>();
  return {
    qjm,
    writer,
    async write(records) {
      if (rolling === undefined && writer.nextTxId - segmentFirst >= segmentEdits) {
        rolling = roll().finally(() => {
          rolling = undefined;
        });
      }
      while (rolling !== undefined) await rolling;
      const first = writer.nextTxId;
      await writer.write(first, records);
      return first;
    },
    records(count) {
      let records = cache.get(count);
      if (records === undefined) {
        records = new Array<Uint8Array>(count).fill(payload);
        if (cache.size < 64) cache.set(count, records);
      }
      return records;
    },
  };
}

/** A throughput run with its costs per edit. */
export interface JournalThroughput extends ThroughputResult, CostPerEdit {}

/** What the warm-up before the first measured journal row did. */
export interface JournalWarmUp {
  readonly seconds: number;
  readonly edits: number;
  /**
   * Every JournalNode had started a WAL segment in a recycled file (`raft_wal_segments_reused_total`
   * above 0 in its /metrics): its storage had gone once through its cycle (a snapshot, the WAL
   * compacted behind it, a compacted file reused), the state every later row runs in.
   */
  readonly steady: boolean;
}

/** The warm-up writes in passes of this long, ms, and reads the JournalNodes' /metrics between them. */
const warmUpPassMs = 1_000;

/**
 * Write batches of 100 edits (as the batches-of-100 row does) until every JournalNode has reused
 * a WAL file, or for at most `settings.journalWarmupMsMax` (90 s; 0.3 s in a quick run).
 * Without it the first row measured a cold cluster: a fresh WAL appends to new files (an
 * fdatasync then also commits the file system's journal: raft/storage/wal.ts) until the first
 * snapshot lets it reuse compacted ones, and that row then ran 20-40% below the same row taken
 * after the others (measured before this warm-up existed: batches of 1 at 32,000-38,000 edits/s
 * first, 52,000-56,000 after a 12 s run of them).
 */
export async function journalWarmUp(bench: BenchWriter, cluster: BenchJournalCluster, settings: BenchSettings): Promise<JournalWarmUp> {
  const startedMs = performance.now();
  const txBefore = bench.writer.nextTxId;
  const records = bench.records(100);
  const limitMs = settings.journalWarmupMsMax;
  let steady = false;
  while (!steady && performance.now() - startedMs < limitMs) {
    await runWindowed(() => bench.write(records), {
      editsPerOperation: 100,
      inflightOperations: settings.journalInflightWrites[100] ?? 64,
      warmupMs: 0,
      durationMs: Math.min(warmUpPassMs, limitMs),
    });
    const reused = await Promise.all(cluster.cluster.httpAddresses.map((address) => metricValue(address, 'raft_wal_segments_reused_total')));
    steady = reused.every((count) => count > 0);
  }
  return { seconds: (performance.now() - startedMs) / 1000, edits: bench.writer.nextTxId - txBefore, steady };
}

/** Pipelined writes of `batchEdits` edits each. */
export async function journalThroughput(bench: BenchWriter, cluster: BenchJournalCluster, settings: BenchSettings, batchEdits: number): Promise<JournalThroughput> {
  const { writer } = bench;
  const records = bench.records(batchEdits);
  const inflightWrites = settings.journalInflightWrites[batchEdits] ?? 16;
  const meter = new CostMeter(cluster.pids, settings.editBytes);
  const txBefore = writer.nextTxId;
  const result = await runWindowed(() => bench.write(records), {
    editsPerOperation: batchEdits,
    inflightOperations: inflightWrites,
    warmupMs: settings.warmupMs,
    durationMs: settings.measureMs,
  });
  return { ...result, ...meter.perEdit(writer.nextTxId - txBefore) };
}

/** What the tail-lag run measured. */
export interface TailLagResult {
  readonly offeredEditsPerSecond: number;
  readonly achievedEditsPerSecond: number;
  /** From a write's acknowledgement (in the writer) to the tail holding the edit (in another process). */
  readonly lag: LatencySummary;
  /** Acknowledgement latency of the paced writes. */
  readonly writeLatency: LatencySummary;
  /** Edits whose lag was measured. */
  readonly edits: number;
  /**
   * CPU over the paced run: the machine's busy share (all cores, percent), and the JournalNodes',
   * the writer's (this process) and the tail reader's CPU time, percent of one core. A machine near
   * 100% busy queues every process behind the others, which the lag's tail shows.
   */
  readonly cpu: { readonly machineBusyPercent: number; readonly journalNodesPercent: number; readonly writerPercent: number; readonly tailReaderPercent: number };
}

const hrtimeMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * Tail lag at `settings.tailEditsPerSecond`: a tail reader process tails from a follower
 * (HTTP addresses of the followers first), the writer offers the rate for warm-up + duration;
 * edits of the warm-up are not counted.
 */
export async function journalTailLag(bench: BenchWriter, cluster: BenchJournalCluster, settings: BenchSettings): Promise<TailLagResult> {
  const { writer } = bench;
  const leader = await cluster.cluster.leaderIndex();
  const http = [...cluster.cluster.httpAddresses.filter((_, i) => i !== leader), cluster.cluster.httpAddresses[leader]!];
  const from = writer.nextTxId;
  const totalMs = settings.warmupMs + settings.tailDurationMs;
  const capacity = Math.ceil((settings.tailEditsPerSecond * totalMs) / 1000) + 10_000;
  const outPath = join(settings.workDir, 'tail-times.bin');
  const reader = new ScriptProcess(
    'bench/children/tail-reader.ts',
    ['--journal-id', benchJournalId, '--nodes', cluster.cluster.rpcAddresses.join(','), '--http', http.join(','), '--from', String(from), '--capacity', String(capacity), '--out', outPath],
    join(settings.logDir, 'tail-reader.log'),
  );
  try {
    await reader.waitForLine((line) => line.startsWith('tail: at'), tailReaderTimeoutMs, 'the tail reader to start');
    // The reader's socket opens asynchronously: let one edit through before pacing starts.
    const probe = writer.nextTxId;
    const ready = reader.waitForLine((line) => Number(/^tail: at (\d+)/.exec(line)?.[1] ?? -1) >= probe, tailReaderTimeoutMs, 'the tail reader to catch up');
    await bench.write(bench.records(1));
    await ready;

    const ackMs = new Float64Array(capacity);
    const measuredFrom = { txid: Number.MAX_SAFE_INTEGER };
    const cpuSecondsOf = (pids: readonly number[]): number => pids.reduce((sum, pid) => sum + (readProcess(pid)?.cpuSeconds ?? 0), 0);
    const machineBefore = readMachineCpu();
    const nodesBefore = cpuSecondsOf(cluster.pids);
    const readerBefore = cpuSecondsOf([reader.pid]);
    const writerBefore = process.cpuUsage();
    const startedMs = performance.now();
    const paced = await runPaced(
      (count) => {
        if (measuredFrom.txid === Number.MAX_SAFE_INTEGER && performance.now() - startedMs >= settings.warmupMs) measuredFrom.txid = writer.nextTxId;
        return bench.write(bench.records(count)).then((first) => {
          const at = hrtimeMs();
          for (let t = first; t < first + count; t++) if (t - from < capacity) ackMs[t - from] = at;
        });
      },
      { editsPerSecond: settings.tailEditsPerSecond, durationMs: totalMs, editsPerCallMax: 1000, backlogEditsMax: settings.tailEditsPerSecond },
    );
    const elapsedS = (performance.now() - startedMs) / 1000;
    const writerUsage = process.cpuUsage(writerBefore);
    const cpu = {
      machineBusyPercent: machineBusyPercent(machineBefore, readMachineCpu()),
      journalNodesPercent: (100 * (cpuSecondsOf(cluster.pids) - nodesBefore)) / elapsedS,
      writerPercent: (100 * ((writerUsage.user + writerUsage.system) / 1e6)) / elapsedS,
      tailReaderPercent: (100 * (cpuSecondsOf([reader.pid]) - readerBefore)) / elapsedS,
    };
    const last = writer.nextTxId - 1;
    const done = reader.waitForLine((line) => line === 'tail: done', tailReaderTimeoutMs, 'the tail reader to finish');
    reader.send(`until ${last}`);
    await done;
    const raw = readFileSync(outPath);
    const arrivedMs = new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
    const lag = new LatencyRecorder();
    for (let t = Math.max(measuredFrom.txid, from); t <= last && t - from < capacity; t++) {
      const ack = ackMs[t - from]!;
      const arrived = arrivedMs[t - from]!;
      if (ack > 0 && arrived > 0) lag.recordMs(arrived - ack);
    }
    return {
      offeredEditsPerSecond: settings.tailEditsPerSecond,
      achievedEditsPerSecond: paced.achievedEditsPerSecond,
      lag: lag.summary(),
      writeLatency: paced.latency,
      edits: lag.count,
      cpu,
    };
  } finally {
    await reader.kill();
  }
}

/** One JournalNode over the footprint run. */
export interface NodeFootprint {
  readonly id: string;
  /**
   * Highest RSS over the middle third of the run, MiB (the first third is warm-up). Peaks, not
   * means: memory saws up and down between Raft snapshots, and flat means the peaks stay put.
   */
  readonly rssEarlyMiB: number;
  /** Highest RSS over the last third, MiB. */
  readonly rssLateMiB: number;
  readonly rssMaxMiB: number;
  /** rssLate / rssEarly: about 1 when memory is flat. */
  readonly rssGrowthRatio: number;
  /** CPU time over wall time, percent of one core. */
  readonly cpuPercent: number;
  /** Full (mark-compact) collections per minute over the run, from the node's /metrics. */
  readonly majorGcPerMinute: number;
}

export interface FootprintResult {
  readonly seconds: number;
  readonly offeredEditsPerSecond: number;
  readonly achievedEditsPerSecond: number;
  readonly writeLatency: LatencySummary;
  readonly nodes: NodeFootprint[];
  /** Bytes the 3 JournalNodes wrote to storage per byte of edit payload. */
  readonly diskBytesPerEditByte: number;
}

const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** Bytes of /metrics read at most (the JournalNode's page is a few KiB). */
const METRICS_BYTES_MAX = 1024 * 1024;

/**
 * The value of `sample` (a metric's name with its labels, exactly as printed) in a Prometheus text
 * page; 0 when absent (a counter not yet created). Throws on a value that is not a number.
 */
export function metricSampleValue(page: string, sample: string): number {
  const prefix = `${sample} `;
  const line = page.split('\n').find((l) => l.startsWith(prefix));
  if (line === undefined) return 0;
  const value = Number(line.slice(prefix.length).trim().split(' ')[0]);
  if (!Number.isFinite(value)) throw new Error(`bench: metric ${sample}: not a number in "${line}"`);
  return value;
}

/** The value of `sample` in a JournalNode's /metrics (see {@link metricSampleValue}). */
async function metricValue(httpAddress: string, sample: string): Promise<number> {
  const response = await fetch(`http://${httpAddress}/metrics`);
  const text = await response.text();
  if (!response.ok || text.length > METRICS_BYTES_MAX) throw new Error(`bench: /metrics of ${httpAddress} answered ${response.status} (${text.length} bytes)`);
  return metricSampleValue(text, sample);
}

/** Full collections a JournalNode made so far (prom-client's nodejs_gc_duration_seconds, kind major). */
function majorGcCount(httpAddress: string): Promise<number> {
  return metricValue(httpAddress, 'nodejs_gc_duration_seconds_count{kind="major"}');
}

function maxRss(readings: readonly ProcessReading[]): number {
  return readings.reduce((max, r) => Math.max(max, r.rssBytes), 1);
}

/**
 * A run at `footprintEditsPerSecond` for `footprintSeconds`, sampling every JournalNode (the
 * writer rolls and purges segments as a master would, see openBenchWriter).
 */
export async function journalFootprint(bench: BenchWriter, cluster: BenchJournalCluster, settings: BenchSettings): Promise<FootprintResult> {
  const { writer } = bench;
  const samples: ProcessReading[][] = cluster.pids.map(() => []);
  const sample = (): void => {
    cluster.pids.forEach((pid, i) => {
      const reading = readProcess(pid);
      if (reading !== undefined) samples[i]!.push(reading);
    });
  };
  sample();
  const majorGcBefore = await Promise.all(cluster.cluster.httpAddresses.map(majorGcCount));
  const sampler = setInterval(sample, settings.footprintSampleMs);
  const txBefore = writer.nextTxId;
  let paced;
  try {
    paced = await runPaced(
      (count) => bench.write(bench.records(count)),
      {
        editsPerSecond: settings.footprintEditsPerSecond,
        durationMs: settings.footprintSeconds * 1000,
        editsPerCallMax: 1000,
        backlogEditsMax: settings.footprintEditsPerSecond,
      },
    );
  } finally {
    clearInterval(sampler);
  }
  sample();
  const majorGcAfter = await Promise.all(cluster.cluster.httpAddresses.map(majorGcCount));
  const edits = writer.nextTxId - txBefore;
  let bytes = 0;
  const nodes = samples.map((readings, i): NodeFootprint => {
    const first = readings[0]!;
    const last = readings[readings.length - 1]!;
    bytes += last.writeBytes - first.writeBytes;
    const third = Math.max(1, Math.floor(readings.length / 3));
    const early = maxRss(readings.slice(third, 2 * third));
    const late = maxRss(readings.slice(readings.length - third));
    return {
      id: cluster.cluster.ids[i]!,
      rssEarlyMiB: mib(early),
      rssLateMiB: mib(late),
      rssMaxMiB: mib(Math.max(...readings.map((r) => r.rssBytes))),
      rssGrowthRatio: Math.round((late / early) * 1000) / 1000,
      cpuPercent: Math.round(((last.cpuSeconds - first.cpuSeconds) / ((last.atMs - first.atMs) / 1000)) * 1000) / 10,
      majorGcPerMinute: Math.round(((majorGcAfter[i]! - majorGcBefore[i]!) / ((last.atMs - first.atMs) / 60_000)) * 10) / 10,
    };
  });
  return {
    seconds: settings.footprintSeconds,
    offeredEditsPerSecond: settings.footprintEditsPerSecond,
    achievedEditsPerSecond: paced.achievedEditsPerSecond,
    writeLatency: paced.latency,
    nodes,
    diskBytesPerEditByte: bytes / (edits * settings.editBytes),
  };
}
