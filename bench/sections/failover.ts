/**
 * Failover: two master processes (bench/children/failover-master.ts) run libqjm's HAController
 * with the embedded election (a lease in the JournalNodes) or with etcd; the active one writes
 * an edit every few ms. The bench SIGKILLs the active master and measures, on the machine's
 * monotonic clock, the time until the other one's first acknowledged write. The killed master
 * is started again as the next standby; `failoverRounds` rounds.
 */
import { join } from 'node:path';
import { QuorumJournalManager } from '../../libqjm/index.ts';
import { ScriptProcess } from '../lib/child.ts';
import { benchNamespace, type BenchJournalCluster } from '../lib/journal-cluster.ts';
import type { BenchSettings } from '../lib/settings.ts';

/** Time a master gets to start, and a failover to complete, before the run fails, ms. */
const masterTimeoutMs = 60_000;

/** The active master writes one edit every this many ms. */
const writeIntervalMs = 5;

export interface FailoverResult {
  readonly election: 'journal' | 'etcd';
  readonly ttlMs: number;
  /** Each round: SIGKILL of the active master to the first acknowledged write of the new one, ms. */
  readonly roundsMs: number[];
  readonly medianMs: number;
  readonly maxMs: number;
}

interface MasterEvent {
  readonly event: string;
  readonly atMs?: number;
}

const hrtimeMs = (): number => Number(process.hrtime.bigint()) / 1e6;

function parseEvent(line: string): MasterEvent | undefined {
  try {
    return JSON.parse(line) as MasterEvent;
  } catch {
    return undefined;
  }
}

/** Run the failover rounds with `election` ('etcd' needs `etcdUrls`). */
export async function measureFailover(
  cluster: BenchJournalCluster,
  settings: BenchSettings,
  election: 'journal' | 'etcd',
  etcdUrls: readonly string[] = [],
): Promise<FailoverResult> {
  const journalId = `failover-${election}`;
  const qjm = new QuorumJournalManager({ journalId, nodes: cluster.cluster.rpcAddresses });
  try {
    await qjm.format(benchNamespace);
  } finally {
    qjm.close();
  }
  let started = 0;
  const start = (): ScriptProcess => {
    started += 1;
    const name = `${election}-m${started}`;
    return new ScriptProcess(
      'bench/children/failover-master.ts',
      [
        '--election', election,
        '--journal-id', journalId,
        '--candidate', name,
        '--nodes', cluster.cluster.rpcAddresses.join(','),
        '--http', cluster.cluster.httpAddresses.join(','),
        '--etcd', etcdUrls.join(','),
        '--ttl-ms', String(settings.electionTtlMs),
        '--write-interval-ms', String(writeIntervalMs),
      ],
      join(settings.logDir, `master-${name}.log`),
    );
  };
  const isEvent = (name: string) => (line: string): boolean => parseEvent(line)?.event === name;
  const masters: ScriptProcess[] = [];
  try {
    // Both masters campaign; whichever writes first is active.
    const a = start();
    const b = start();
    masters.push(a, b);
    let active = await Promise.race([
      a.waitForLine(isEvent('first-ack'), masterTimeoutMs, 'a first active master').then(() => a),
      b.waitForLine(isEvent('first-ack'), masterTimeoutMs, 'a first active master').then(() => b),
    ]);
    let standby = active === a ? b : a;
    const roundsMs: number[] = [];
    for (let round = 0; round < settings.failoverRounds; round++) {
      await new Promise((resolve) => setTimeout(resolve, settings.failoverSteadyMs));
      const taken = standby.waitForLine(isEvent('first-ack'), masterTimeoutMs, `the standby's first write (round ${round + 1})`);
      const killedAtMs = hrtimeMs();
      await active.kill();
      const line = await taken;
      roundsMs.push(Math.round((parseEvent(line)!.atMs! - killedAtMs) * 10) / 10);
      const replacement = start();
      masters.push(replacement);
      await replacement.waitForLine(isEvent('ready'), masterTimeoutMs, 'a replacement master');
      active = standby;
      standby = replacement;
    }
    const sorted = [...roundsMs].sort((x, y) => x - y);
    return {
      election,
      ttlMs: settings.electionTtlMs,
      roundsMs,
      medianMs: sorted[Math.floor((sorted.length - 1) / 2)]!,
      maxMs: sorted[sorted.length - 1]!,
    };
  } finally {
    await Promise.all(masters.map((m) => m.kill()));
  }
}
