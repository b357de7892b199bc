/**
 * What the benchmark ran on, and per-process figures read from /proc (Linux): resident memory,
 * CPU time, bytes written to storage.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { mallocTuned } from '../../journalnode/gc-tuning.ts';

/** The machine, as printed with every run. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly etcd: string;
  /** The file system and device of the data folder (from /proc/mounts). */
  readonly dataFileSystem: string;
  readonly dataDevice: string;
  /**
   * How full that file system was when the run started, percent of the blocks non-root users may
   * have (as `df` shows it; undefined where statfs is not available). A nearly full ext4 writes
   * more slowly: one stop's runs were taken on a disk that then filled up.
   */
  readonly dataUsedPercentAtStart: number | undefined;
  /**
   * True when the bench process (the writer, the master's part, and etcd's client) runs with the
   * glibc malloc settings libqjm's README advises for a master (journalnode/gc-tuning.ts).
   */
  readonly benchMallocTuned: boolean;
  /**
   * V8's heap growing percent this process set for itself (libqjm's README advises it for a
   * master with a small heap, journalnode/gc-tuning.ts), or undefined when the `node` command
   * line gave its own.
   */
  readonly benchHeapGrowingPercent: number | undefined;
  /** 1-minute load average when the run started and ended (other work on the machine skews figures). */
  readonly loadAverageAtStart: number;
  loadAverageAtEnd: number;
  readonly freeMemoryGiBAtStart: number;
}

/** The mount holding `path` (longest matching mount point). */
function mountOf(path: string): { device: string; fileSystem: string } {
  const absolute = resolve(path);
  let best = { point: '', device: 'unknown', fileSystem: 'unknown' };
  try {
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [device, point, fileSystem] = line.split(' ');
      if (device === undefined || point === undefined || fileSystem === undefined) continue;
      const inside = absolute === point || absolute.startsWith(point.endsWith('/') ? point : `${point}/`);
      if (inside && point.length >= best.point.length) best = { point, device, fileSystem };
    }
  } catch {
    // not Linux
  }
  return { device: best.device, fileSystem: best.fileSystem };
}

/** Used share of the file system holding `path`, percent, as `df` computes it. */
function usedPercent(path: string): number | undefined {
  try {
    const s = statfsSync(path);
    const used = s.blocks - s.bfree;
    const usable = used + s.bavail;
    return usable > 0 ? Math.round((used / usable) * 1000) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Collect the machine's description; `etcdBinary` is asked for its version. */
export function machineInfo(dataDir: string, etcdBinary: string | undefined, options: { heapGrowingPercent?: number | undefined } = {}): MachineInfo {
  let etcd = 'not found';
  if (etcdBinary !== undefined) {
    try {
      etcd = /etcd Version: (\S+)/.exec(execFileSync(etcdBinary, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
    } catch {
      etcd = 'unknown';
    }
  }
  const mount = mountOf(dataDir);
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cpuCount: cpuList.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    etcd,
    dataFileSystem: mount.fileSystem,
    dataDevice: mount.device,
    dataUsedPercentAtStart: usedPercent(dataDir),
    benchMallocTuned: mallocTuned(),
    benchHeapGrowingPercent: options.heapGrowingPercent,
    loadAverageAtStart: Math.round(loadavg()[0]! * 100) / 100,
    loadAverageAtEnd: 0,
    freeMemoryGiBAtStart: Math.round((freemem() / 2 ** 30) * 10) / 10,
  };
}

let clockTicksPerSecond: number | undefined;

function ticksPerSecond(): number {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

/** One reading of a process. */
export interface ProcessReading {
  readonly atMs: number;
  readonly rssBytes: number;
  /** User plus system CPU time so far, seconds. */
  readonly cpuSeconds: number;
  /** Bytes this process caused to be sent to the storage layer so far (/proc/PID/io write_bytes). */
  readonly writeBytes: number;
}

/** Read `pid`'s memory, CPU time and storage writes; undefined once it is gone. */
export function readProcess(pid: number): ProcessReading | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? '0');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    let writeBytes = 0;
    try {
      writeBytes = Number(/^write_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? '0');
    } catch {
      // /proc/PID/io needs the same user or root
    }
    return { atMs: performance.now(), rssBytes: rssKiB * 1024, cpuSeconds: ticks / ticksPerSecond(), writeBytes };
  } catch {
    return undefined;
  }
}

/** CPU time of the whole machine so far, in clock ticks summed over every core (/proc/stat). */
export interface MachineCpuReading {
  /** Ticks not idle and not waiting for I/O. */
  readonly busyTicks: number;
  readonly totalTicks: number;
}

export function readMachineCpu(): MachineCpuReading {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busyTicks: total - idle, totalTicks: total };
}

/** Share of the machine's CPU (all cores) that was busy between two readings, percent. */
export function machineBusyPercent(before: MachineCpuReading, after: MachineCpuReading): number {
  const total = after.totalTicks - before.totalTicks;
  return total > 0 ? (100 * (after.busyTicks - before.busyTicks)) / total : 0;
}

/** Pids of this process's children whose command line contains `needle`. */
export function childPidsMatching(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(needle)) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** What edits cost the servers and the client, measured around a run. */
export interface CostPerEdit {
  /** Bytes the servers wrote to storage per byte of edit payload (replication included). */
  readonly diskBytesPerEditByte: number;
  /** CPU time of all server processes per edit, µs. */
  readonly serverCpuMicrosPerEdit: number;
  /** CPU time of the client (this process) per edit, µs. */
  readonly clientCpuMicrosPerEdit: number;
  /**
   * The machine's busy share over the same span (all cores, percent, from /proc/stat): near 100,
   * the run was CPU-bound and its edits/s say what this machine's cores allow, not the design.
   */
  readonly machineBusyPercent: number;
}

/**
 * Counts storage bytes and CPU time of server processes (and of this process, the client)
 * from its creation to `perEdit`. CPU time is a fair cost even on a loaded machine, where
 * elapsed times are not.
 */
export class CostMeter {
  private readonly before: { writeBytes: number; cpuSeconds: number };
  private readonly clientBefore = process.cpuUsage();
  private readonly machineBefore = readMachineCpu();

  constructor(
    private readonly pids: readonly number[],
    private readonly editBytes: number,
  ) {
    this.before = this.read();
  }

  private read(): { writeBytes: number; cpuSeconds: number } {
    let writeBytes = 0;
    let cpuSeconds = 0;
    for (const pid of this.pids) {
      const reading = readProcess(pid);
      writeBytes += reading?.writeBytes ?? 0;
      cpuSeconds += reading?.cpuSeconds ?? 0;
    }
    return { writeBytes, cpuSeconds };
  }

  /** Costs per edit, `edits` having been written since the meter was created. */
  perEdit(edits: number): CostPerEdit {
    const now = this.read();
    const client = process.cpuUsage(this.clientBefore);
    const n = Math.max(1, edits);
    return {
      diskBytesPerEditByte: (now.writeBytes - this.before.writeBytes) / (n * this.editBytes),
      serverCpuMicrosPerEdit: ((now.cpuSeconds - this.before.cpuSeconds) * 1e6) / n,
      clientCpuMicrosPerEdit: (client.user + client.system) / n,
      machineBusyPercent: machineBusyPercent(this.machineBefore, readMachineCpu()),
    };
  }
}
