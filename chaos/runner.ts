/**
 * A chaos run (the Jepsen way, on loopback): JournalNode processes and HA masters, every link
 * between them through the fault network, faults from a seeded schedule while the masters
 * write, then heal, converge, read the journal back from every JournalNode and check it
 * against the history.
 *
 * Phases:
 * 1. start the JournalNodes, format the journal, start the masters and wait for the first
 *    acknowledged write;
 * 2. run the schedule: each fault starts (at its time, or when the previous one is undone),
 *    holds, is undone; a quiet gap follows;
 * 3. heal everything (links, paused and stopped processes, disks) and wait for the masters to
 *    write again (liveness, reported);
 * 4. stop the masters, wait until every member applied the same log, read each member's
 *    journal (GetJournaledEdits, manifest, segment file bytes) and check (checker.ts).
 *
 * How each fault reads its random `choices` (c[0..11], all in [0, 1)):
 * - kill-leader / kill-follower: SIGKILL, restart when undone; c[0] picks the follower.
 * - pause-jn: SIGSTOP / SIGCONT; c[1] < 0.5 the leader, else the follower c[0].
 * - pause-master: SIGSTOP / SIGCONT of the lease holder (c[0] picks one when none holds it),
 *   longer than the lease TTL.
 * - partition: every member JN on side A when c[i] < 0.5 (i = slot order, sides made non-empty),
 *   master k on side A when c[8 + k] < 0.5; cut when c[10] < 0.5, silent drop otherwise.
 * - partition-one-way: the same split, traffic from A to B only (drop when c[10] < 0.5, cut otherwise).
 * - isolate-leader: the JN leader cut (c[10] < 0.5) or dropped from every other JN; masters still reach it.
 * - delay: 10 + c[0] * 190 ms on every link (c[1] < 0.5) or on the links of one process (c[2]).
 * - disk-full: ENOSPC from the fault-injecting file layer of the leader (c[1] < 0.3) or the
 *   follower c[0]; the node stops on its first failed write; undone: disk freed, node restarted.
 * - replace: a new JournalNode joins and replaces the leader (c[1] < 0.3) or the follower c[0]
 *   (learner, catch-up, one joint configuration change); the old one is stopped and wiped.
 * - transfer-leader: to the follower c[0].
 * - corrupt-links: one bit in about every 8 + c[0] * 56 KiB flipped on the Raft peer links
 *   between the member JNs, both ways.
 * - corrupt-grpc: the same on the masters' gRPC connections to the JNs, both ways (requests and
 *   answers; their tails over HTTP stay clean).
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuorumJournalManager } from '../libqjm/index.ts';
import { RaftAdminClient } from '../raft/admin/client.ts';
import { PEER_LINK_PREFACE } from '../raft/transport/peer-link.ts';
import { parseRecords } from '../journalnode/protocol/records.ts';
import { journalCurrentDir } from '../journalnode/segments.ts';
import { checkRun, reportIsClean, type CheckReport, type EditCopy, type JournalCopy, type SegmentCopy } from './checker.ts';
import { ChaosCluster, stopGraceMs, type JnStatus } from './cluster.ts';
import { FaultNetwork } from './fault-proxy.ts';
import { readHistoryFiles } from './history.ts';
import { RawJournalClient } from './raw-client.ts';
import { buildSchedule, describeSchedule, faultKinds, type FaultKind, type ScheduledFault } from './schedule.ts';

/** Canaries: deliberately broken JournalNodes the checker must catch (see journalnode/README.md). */
export const canaryNames = ['ack-before-fsync', 'skip-epoch-check', 'skip-link-crc', 'skip-admission-crc'] as const;

/** A canary name. */
export type CanaryName = (typeof canaryNames)[number];

/** Options of {@link runChaos}. Times in ms. */
export interface ChaosOptions {
  readonly seed: number;
  /** Length of the fault phase. */
  readonly durationMs: number;
  /** JournalNodes (3 or 5). */
  readonly nodes: number;
  readonly faults: readonly FaultKind[];
  /** Where to put data, logs and histories; default a fresh temporary directory. */
  readonly baseDir?: string | undefined;
  readonly canary?: CanaryName | undefined;
  readonly masters?: number;
  /** Writes per second of the active master (each of 1..8 edits). Default 100. */
  readonly writesPerSecond?: number;
  /** How long the healed cluster gets to converge before the read-back. Default 90 s. */
  readonly convergenceTimeoutMs?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** What a run found. */
export interface ChaosResult {
  readonly seed: number;
  readonly report: CheckReport;
  /** Faults applied (scheduled faults that could not be applied are not counted). */
  readonly faults: number;
  readonly faultCounts: Readonly<Partial<Record<FaultKind, number>>>;
  readonly skippedFaults: number;
  /** True when the masters wrote again after the heal. */
  readonly progressAfterHeal: boolean;
  /** True when every member applied the same log before the read-back. */
  readonly converged: boolean;
  /** Process exits nobody asked for (a crash is a finding). */
  readonly unexpectedExits: readonly string[];
  /** HA controllers that failed (and were restarted by their master): a liveness finding. */
  readonly masterFailures: number;
  readonly baseDir: string;
  /** The run's last line: `chaos: seed=N ops=O acked=A lost=L duplicated=D fenced_accepted=F diverged=V faults=K`. */
  readonly summaryLine: string;
  /** True when the checker found no violation and no process crashed. */
  readonly clean: boolean;
}

/** Masters' lease TTL. */
export const leaseTtlMs = 2_000;

/** Raft tick and election timeout of the JournalNodes. */
const tickMs = 50;
const electionTicks = 10;

/** Time to wait for the masters to write again after the heal, and for convergence. */
const progressAfterHealTimeoutMs = 45_000;
const defaultConvergenceTimeoutMs = 90_000;

/** The journal the masters write. */
export const chaosJournalId = 'chaos';
const namespace = { nsId: 'chaos-ns', clusterId: 'chaos-cluster', blockPoolId: 'chaos-bp', layoutVersion: 1 };

/** Page size of the read-back (records and bytes per GetJournaledEdits). */
const readBackRecordsMax = 10_000;
const readBackBytesMax = 4 * 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `condition` every `intervalMs` until truthy or `timeoutMs` passed; undefined on timeout. */
async function poll<T>(condition: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) return undefined;
    await sleep(intervalMs);
  }
}

/** Run one chaos scenario. Throws only when the cluster cannot be set up. */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const baseDir = options.baseDir ?? mkdtempSync(join(tmpdir(), `chaos-${options.seed}-`));
  mkdirSync(baseDir, { recursive: true });
  const faultLog = join(baseDir, 'faults.jsonl');
  const schedule = buildSchedule({ seed: options.seed, durationMs: options.durationMs, kinds: options.faults, leaseTtlMs });
  const spareSlots = schedule.filter((f) => f.kind === 'replace').length;
  log(`chaos: seed=${options.seed} duration=${options.durationMs / 1000}s nodes=${options.nodes} faults=${options.faults.join(',')} write_rate=${options.writesPerSecond ?? 100}/s${options.canary ? ` canary=${options.canary}` : ''} dir=${baseDir}`);
  for (const line of describeSchedule(schedule)) log(`chaos: schedule ${line}`);

  const network = new FaultNetwork();
  const jnEnv: Record<string, string> = {};
  if (options.canary !== undefined) jnEnv['QJM_CANARY'] = options.canary;
  const cluster = await ChaosCluster.create({
    baseDir,
    network,
    nodes: options.nodes,
    spareSlots,
    tickMs,
    electionTicks,
    snapshotEntries: 2_000,
    snapshotKeepEntries: 500,
    jnEnv,
  });
  const qjm = new QuorumJournalManager({ journalId: chaosJournalId, nodes: cluster.slots.map((s) => s.rpc), requestTimeoutMs: 10_000 });
  const raw = new RawJournalClient(10_000);
  /** Slot indexes of the voters, as this runner changed them. */
  let members = Array.from({ length: options.nodes }, (_, i) => i);
  let nextSpare = options.nodes;
  const faultCounts: Partial<Record<FaultKind, number>> = {};
  let skippedFaults = 0;
  const startedAt = Date.now();
  const elapsed = (): string => `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
  const recordFault = (fields: object): void => appendFileSync(faultLog, `${JSON.stringify({ t: 'fault', at: Date.now(), ...fields })}\n`);

  const admin = (): RaftAdminClient => new RaftAdminClient({ nodes: members.map((m) => cluster.slots[m]!.rpc), groupId: 'journal', callTimeoutMs: 10_000 });
  const leaderOf = async (): Promise<{ index: number; status: JnStatus } | undefined> => poll(() => cluster.leader(), 10_000, 100);
  const followerOf = (leader: number | undefined, draw: number): number | undefined => {
    const candidates = members.filter((m) => m !== leader && cluster.slots[m]!.process.running && !cluster.slots[m]!.process.paused);
    return candidates.length === 0 ? undefined : candidates[Math.floor(draw * candidates.length)]!;
  };
  const restartMember = async (index: number): Promise<void> => {
    const slot = cluster.slots[index]!;
    if (slot.process.running || slot.retired) return;
    cluster.setDiskFull(index, false);
    await cluster.startJn(index, members, false);
  };

  try {
    // 1. Start.
    await Promise.all(members.map((m) => cluster.startJn(m, members, false)));
    if ((await leaderOf()) === undefined) throw new Error('no JournalNode leader after the start');
    await qjm.format(namespace);
    for (let k = 1; k <= (options.masters ?? 2); k++) {
      const master = await cluster.addMaster(`m${k}`);
      await cluster.startMaster(master, {
        journalId: chaosJournalId,
        seed: options.seed * 16 + k,
        leaseTtlMs,
        writesPerSecondMax: options.writesPerSecond ?? 100,
        // A slow writer keeps one write in flight, so a zombie can find the journal's end.
        inflightWritesMax: (options.writesPerSecond ?? 100) < 50 ? 1 : 4,
      });
    }
    const firstWrite = await poll(async () => ((await qjm.getJournalState()).lastTxId > 0 ? true : undefined), 60_000, 200);
    if (firstWrite === undefined) throw new Error('the masters wrote nothing within 60 s of the start');
    log(`chaos: t=${elapsed()} cluster up, masters writing`);

    // 2. Faults.
    const faultPhaseStart = Date.now();
    for (const fault of schedule) {
      const waitMs = faultPhaseStart + fault.atMs - Date.now();
      if (waitMs > 0) await sleep(waitMs);
      const undo = await applyFault(fault).catch((error: unknown) => {
        log(`chaos: t=${elapsed()} fault #${fault.index} ${fault.kind} failed to apply: ${String(error)}`);
        return null;
      });
      if (undo === null) {
        skippedFaults += 1;
        recordFault({ index: fault.index, kind: fault.kind, skipped: true });
        continue;
      }
      faultCounts[fault.kind] = (faultCounts[fault.kind] ?? 0) + 1;
      if (fault.durationMs > 0) await sleep(fault.durationMs);
      await undo().catch((error: unknown) => log(`chaos: t=${elapsed()} fault #${fault.index} ${fault.kind} undo failed: ${String(error)}`));
      recordFault({ index: fault.index, kind: fault.kind, undone: true });
    }
    const remainingMs = faultPhaseStart + options.durationMs - Date.now();
    if (remainingMs > 0) await sleep(remainingMs);

    // 3. Heal and check that the masters write again.
    network.healAll();
    for (const slot of cluster.slots) slot.process.resume();
    for (const master of cluster.masters) master.process.resume();
    for (const m of members) await restartMember(m).catch((error: unknown) => log(`chaos: restart of ${cluster.slots[m]!.id} failed: ${String(error)}`));
    log(`chaos: t=${elapsed()} healed`);
    const healedAt = await poll(async () => (await qjm.getJournalState()).lastTxId, 10_000);
    const progressAfterHeal =
      (await poll(async () => ((await qjm.getJournalState()).lastTxId > (healedAt ?? 0) ? true : undefined), progressAfterHealTimeoutMs, 200)) === true;
    log(`chaos: t=${elapsed()} ${progressAfterHeal ? 'masters write again after the heal' : 'NO PROGRESS after the heal'}`);

    // 4. Stop the masters, converge, read back, check.
    await Promise.all(cluster.masters.map((m) => m.process.stop(stopGraceMs)));
    const convergenceTimeoutMs = options.convergenceTimeoutMs ?? defaultConvergenceTimeoutMs;
    const converged = (await poll(() => convergedMembers(), convergenceTimeoutMs, 200)) !== undefined;
    if (!converged) log(`chaos: t=${elapsed()} members did not converge within ${convergenceTimeoutMs / 1000}s`);
    const leader = await cluster.leader();
    if (leader !== undefined) members = [...leader.status.raft.configuration.voters, ...leader.status.raft.configuration.learners].map((id) => cluster.indexOf(id));
    const copies = await Promise.all(members.map((m) => readCopy(m)));
    const history = readHistoryFiles(cluster.masters.map((m) => m.historyPath));
    const report = checkRun(history, copies);
    const faults = Object.values(faultCounts).reduce((a, b) => a + (b ?? 0), 0);
    const unexpectedExits = cluster.unexpectedExits.map((e) => `${e.name} exited (${e.code ?? e.signal}) at +${((e.atMs - startedAt) / 1000).toFixed(1)}s`);
    const clean = reportIsClean(report) && unexpectedExits.length === 0;
    for (const line of report.details) log(`chaos: ${line}`);
    for (const line of unexpectedExits) log(`chaos: unexpected exit: ${line}`);
    const masterFailures = history.transitions.filter((t) => t.to === 'failed');
    for (const reason of new Set(masterFailures.map((t) => t.reason))) log(`chaos: master controller failed (restarted): ${reason}`);
    log(`chaos: faults ${faultKinds.filter((k) => faultCounts[k] !== undefined).map((k) => `${k}=${faultCounts[k]}`).join(' ') || 'none'} skipped=${skippedFaults}`);
    log(
      `chaos: edits=${report.edits} failed=${report.failed} unknown=${report.unknown} zombies=${report.zombies} gaps=${report.gaps} phantoms=${report.phantoms} ` +
        `epoch_violations=${report.epochViolations} foreign=${report.foreign} crashes=${unexpectedExits.length} master_failures=${masterFailures.length} converged=${converged} progress_after_heal=${progressAfterHeal} history_bad_lines=${history.badLines}`,
    );
    const summaryLine = `chaos: seed=${options.seed} ops=${report.ops} acked=${report.acked} lost=${report.lost} duplicated=${report.duplicated} fenced_accepted=${report.fencedAccepted} diverged=${report.diverged} faults=${faults}`;
    return { seed: options.seed, report, faults, faultCounts, skippedFaults, progressAfterHeal, converged, unexpectedExits, masterFailures: masterFailures.length, baseDir, summaryLine, clean };
  } finally {
    qjm.close();
    raw.close();
    await cluster.stopAll();
  }

  /** Members that agree on commit and applied index; undefined while they do not. */
  async function convergedMembers(): Promise<true | undefined> {
    const statuses = await Promise.all(members.map((m) => cluster.status(m)));
    const leader = statuses.find((s) => s.raft.role === 'leader');
    if (leader === undefined) return undefined;
    const target = leader.raft.commitIndex;
    const journal = (s: JnStatus): number | undefined => s.journals.find((j) => j.journalId === chaosJournalId)?.lastTxId;
    const ok = statuses.every((s) => s.raft.appliedIndex === target && journal(s) === journal(leader));
    return ok ? true : undefined;
  }

  /** The journal as slot `index` holds it. */
  async function readCopy(index: number): Promise<JournalCopy> {
    const slot = cluster.slots[index]!;
    try {
      const manifestResponse = await raw.getEditLogManifest(slot.rpc, chaosJournalId, 0);
      if (manifestResponse.error) throw new Error(`manifest: ${manifestResponse.error.code} ${manifestResponse.error.message}`);
      const manifest = manifestResponse.success!;
      const segments: SegmentCopy[] = manifest.segments.map((s) => ({ firstTxId: s.firstTxId, lastTxId: s.lastTxId, inProgress: s.inProgress, epoch: s.epoch }));
      const edits: EditCopy[] = [];
      let from = segments[0]?.firstTxId ?? 1;
      while (from <= manifest.lastTxId) {
        const response = await raw.getJournaledEdits(slot.rpc, chaosJournalId, from, readBackRecordsMax, readBackBytesMax);
        if (response.error) throw new Error(`edits from ${from}: ${response.error.code} ${response.error.message}`);
        const page = response.success!;
        if (page.count === 0) break;
        for (const record of parseRecords(page.records, { firstTxId: page.firstTxId })) edits.push({ txid: record.txid, data: record.data });
        from = page.firstTxId + page.count;
      }
      const files = new Map<string, string>();
      const dir = journalCurrentDir(slot.dataDir, chaosJournalId);
      for (const name of await readdir(dir)) files.set(name, createHash('sha256').update(await readFile(join(dir, name))).digest('hex'));
      return { node: slot.id, segments, edits, files };
    } catch (error) {
      return { node: slot.id, segments: [], edits: [], files: new Map(), error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Start `fault`; resolves with its undo, or null when it cannot apply now. */
  async function applyFault(fault: ScheduledFault): Promise<(() => Promise<void>) | null> {
    const c = fault.choices;
    const say = (what: string): void => {
      log(`chaos: t=${elapsed()} fault #${fault.index} ${fault.kind} ${what}`);
      recordFault({ index: fault.index, kind: fault.kind, what });
    };
    const skip = (why: string): null => {
      say(`skipped: ${why}`);
      return null;
    };
    /**
     * Flip one bit in about every 8..64 KiB (c[0]) on the directed links `links`, on connections
     * whose dialer's first byte is `firstByte`; undone by healing every link.
     */
    const flipBits = (links: readonly (readonly [string, string])[], firstByte: number, where: string): (() => Promise<void>) => {
      const everyBytes = Math.round(8 * 1024 + c[0]! * 56 * 1024);
      for (const [src, dst] of links) network.setLink(src, dst, { corrupt: { everyBytes, firstByte } });
      const flippedBefore = network.stats.bitsFlipped;
      say(`one bit in about every ${everyBytes} bytes of ${where}`);
      return async () => {
        network.healAll();
        log(`chaos: t=${elapsed()} fault #${fault.index} ${fault.kind} healed: ${network.stats.bitsFlipped - flippedBefore} bits flipped`);
      };
    };
    switch (fault.kind) {
      case 'kill-leader':
      case 'kill-follower': {
        const leader = await leaderOf();
        const target = fault.kind === 'kill-leader' ? leader?.index : followerOf(leader?.index, c[0]!);
        if (target === undefined) return skip('no such node');
        await cluster.slots[target]!.process.kill();
        say(`${cluster.slots[target]!.id} killed for ${fault.durationMs} ms`);
        return () => restartMember(target);
      }
      case 'pause-jn': {
        const leader = await leaderOf();
        const target = c[1]! < 0.5 ? leader?.index : followerOf(leader?.index, c[0]!);
        if (target === undefined) return skip('no such node');
        cluster.slots[target]!.process.pause();
        say(`${cluster.slots[target]!.id} paused`);
        return async () => cluster.slots[target]!.process.resume();
      }
      case 'pause-master': {
        const holder = await qjm
          .getLease('leader')
          .then((r) => (r.lease !== null && r.lease.remainingMs > 0 ? r.lease.holder : ''))
          .catch(() => '');
        const master = cluster.masters.find((m) => m.id === holder) ?? cluster.masters[Math.floor(c[0]! * cluster.masters.length)]!;
        master.process.pause();
        say(`${master.id} paused${master.id === holder ? ' (the lease holder)' : ''}`);
        return async () => master.process.resume();
      }
      case 'partition':
      case 'partition-one-way': {
        const jns = members.map((m) => cluster.slots[m]!.id);
        const sideA = jns.filter((_, i) => c[i]! < 0.5);
        const sideB = jns.filter((_, i) => c[i]! >= 0.5);
        if (sideA.length === 0) sideA.push(sideB.shift()!);
        if (sideB.length === 0) sideB.push(sideA.shift()!);
        cluster.masters.forEach((m, k) => (c[8 + k]! < 0.5 ? sideA : sideB).push(m.id));
        if (fault.kind === 'partition') {
          const mode = c[10]! < 0.5 ? 'cut' : 'drop';
          network.partition(sideA, sideB, mode);
          say(`${mode} [${sideA.join(' ')}] | [${sideB.join(' ')}]`);
        } else {
          const mode = c[10]! < 0.5 ? 'drop' : 'cut';
          network.partitionOneWay(sideA, sideB, mode);
          say(`${mode} [${sideA.join(' ')}] -> [${sideB.join(' ')}]`);
        }
        return async () => network.healAll();
      }
      case 'isolate-leader': {
        const leader = await leaderOf();
        if (leader === undefined) return skip('no leader');
        const id = cluster.slots[leader.index]!.id;
        const others = members.filter((m) => m !== leader.index).map((m) => cluster.slots[m]!.id);
        const mode = c[10]! < 0.5 ? 'cut' : 'drop';
        network.partition([id], others, mode);
        say(`${id} ${mode} from [${others.join(' ')}]`);
        return async () => network.healAll();
      }
      case 'delay': {
        const delayMs = Math.round(10 + c[0]! * 190);
        const endpoints = [...members.map((m) => cluster.slots[m]!.id), ...cluster.masters.map((m) => m.id)];
        const one = c[1]! < 0.5 ? undefined : endpoints[Math.floor(c[2]! * endpoints.length)]!;
        for (const a of endpoints) {
          for (const b of endpoints) {
            if (a !== b && (one === undefined || a === one || b === one)) network.setLink(a, b, { delayMs });
          }
        }
        say(`${delayMs} ms on ${one === undefined ? 'every link' : `the links of ${one}`}`);
        return async () => network.healAll();
      }
      case 'disk-full': {
        const leader = await leaderOf();
        const target = c[1]! < 0.3 ? leader?.index : followerOf(leader?.index, c[0]!);
        if (target === undefined) return skip('no such node');
        const slot = cluster.slots[target]!;
        slot.process.expectExit();
        cluster.setDiskFull(target, true);
        say(`${slot.id} disk full`);
        return async () => {
          cluster.setDiskFull(target, false);
          if (slot.process.running) {
            // It did not write while full (or survived): keep it, count later exits again.
            await slot.process.kill();
          }
          await slot.process.exited;
          await restartMember(target);
        };
      }
      case 'replace': {
        const leader = await leaderOf();
        if (leader === undefined) return skip('no leader');
        const old = c[1]! < 0.3 ? leader.index : followerOf(leader.index, c[0]!);
        if (old === undefined || nextSpare >= cluster.slots.length) return skip('no node to replace');
        const fresh = nextSpare++;
        await cluster.startJn(fresh, [...members, fresh], true);
        say(`${cluster.slots[fresh]!.id} joins to replace ${cluster.slots[old]!.id}`);
        return async () => {
          const voters = [...members.filter((m) => m !== old), fresh];
          const client = admin();
          try {
            await client.changePeers(voters.map((m) => ({ id: cluster.slots[m]!.id, address: cluster.slots[m]!.rpc })), 30_000);
          } catch (error) {
            log(`chaos: t=${elapsed()} fault #${fault.index} replace: change-peers failed: ${String(error)}`);
          } finally {
            client.close();
          }
          // Whatever happened, follow the configuration the group holds.
          const status = (await leaderOf())?.status;
          const config = status?.raft.configuration;
          if (config === undefined) {
            log(`chaos: t=${elapsed()} fault #${fault.index} replace: no leader to read the configuration from`);
            return;
          }
          const inGroup = (m: number): boolean => config.voters.includes(cluster.slots[m]!.id) || config.learners.includes(cluster.slots[m]!.id);
          if (!inGroup(old)) {
            cluster.slots[old]!.retired = true;
            await cluster.slots[old]!.process.kill();
            await cluster.wipeJn(old);
          }
          if (config.voters.includes(cluster.slots[fresh]!.id)) {
            members = [...members.filter((m) => m !== old || inGroup(old)), fresh];
          } else if (config.learners.includes(cluster.slots[fresh]!.id)) {
            const remover = admin();
            await remover.removePeer(cluster.slots[fresh]!.id).catch(() => undefined);
            remover.close();
          }
          if (!members.includes(fresh)) {
            cluster.slots[fresh]!.retired = true;
            await cluster.slots[fresh]!.process.kill();
          }
          log(`chaos: t=${elapsed()} fault #${fault.index} replace done: voters [${config.voters.join(' ')}] learners [${config.learners.join(' ')}]`);
        };
      }
      case 'corrupt-links': {
        // Bit flips on the Raft peer links between JournalNodes (both ways), one per 8..64 KiB;
        // their gRPC connections and the masters' links stay clean. A link that notices drops
        // the frame and the connection, and the leader sends again.
        const nodes = members.map((m) => cluster.slots[m]!.id);
        const links = nodes.flatMap((a) => nodes.filter((b) => b !== a).map((b) => [a, b] as const));
        return flipBits(links, PEER_LINK_PREFACE[0]!, `the peer links between ${nodes.join(' ')}`);
      }
      case 'corrupt-grpc': {
        // Bit flips on the masters' gRPC connections to the JournalNodes (requests and answers),
        // one per 8..64 KiB. HTTP/2 has no checksum: the records' CRCs catch damaged edits (the
        // writer sends the batch again), anything else must end in a refused call or a broken
        // connection, never in a wrong answer taken for a right one.
        const nodes = cluster.slots.map((s) => s.id);
        const masters = cluster.masters.map((m) => m.id);
        const links = masters.flatMap((m) => nodes.flatMap((n) => [[m, n], [n, m]] as const));
        return flipBits(links, 'P'.charCodeAt(0), `the gRPC connections of ${masters.join(' ')} to ${nodes.join(' ')}`);
      }
      case 'transfer-leader': {
        const leader = await leaderOf();
        const target = followerOf(leader?.index, c[0]!);
        if (leader === undefined || target === undefined) return skip('no leader or follower');
        const client = admin();
        try {
          const result = await client.transferLeader(cluster.slots[target]!.id, 10_000);
          say(`from ${cluster.slots[leader.index]!.id} to ${cluster.slots[target]!.id}: leader now ${result.leaderId}`);
        } catch (error) {
          say(`from ${cluster.slots[leader.index]!.id} to ${cluster.slots[target]!.id} failed: ${String(error)}`);
        } finally {
          client.close();
        }
        return async () => undefined;
      }
    }
  }
}

/** Delete a run's directory. */
export async function removeRunDir(baseDir: string): Promise<void> {
  await rm(baseDir, { recursive: true, force: true });
}
