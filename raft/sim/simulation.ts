/**
 * One seeded scenario: a cluster of pure cores over simulated disks and a simulated network,
 * driven by a discrete-event loop. Chaos first (faults, crashes, client load, membership
 * changes, leader transfers, snapshots, reads), then a heal phase that must make progress
 * within a bound. Every observable change is reported to the Checker as it happens.
 *
 * Everything is decided by seeded Prng streams, so `runSeed(seed, options)` replays exactly.
 */
import { RawNode, decodeConfChange } from '../core/index.ts';
import type { CanaryName, ConfChange, ConfChangeSingle, ConfState, Message, NodeId, RaftConfig, Role, Snapshot } from '../core/types.ts';
import { EMPTY_BYTES } from '../core/types.ts';
import { bytesKey, TraceHash, utf8 } from './bytes.ts';
import { Checker, entryKey } from './checker.ts';
import type { InvariantName, LeaderView, Violation } from './checker.ts';
import { EventQueue } from './event-queue.ts';
import { SimNetwork, HEALED_LINKS, UNITS_PER_TICK } from './network.ts';
import { Prng } from './prng.ts';
import { SimDisk } from './sim-disk.ts';
import { SimStateMachine, encodeSnapshotData } from './sim-state-machine.ts';

/** Options of one run. */
export interface SimOptions {
  /** Cluster size; default 3 for odd seeds and 5 for even seeds. */
  readonly nodes?: number;
  /** Run against a deliberately broken core. */
  readonly canary?: CanaryName;
  /** Length of the chaos phase, in ticks. */
  readonly chaosTicks?: number;
  /**
   * Liveness bound: ticks after the heal within which a proposal must apply on all live voters,
   * plus HEAL_TICKS_PER_BACKLOG_ENTRY per entry still to replicate at the heal.
   */
  readonly healTicksMax?: number;
  /** Keep every event as a line of text (for `--seed` replays and the determinism test). */
  readonly trace?: boolean;
}

/** Figures of one run. */
export interface SeedStats {
  nodes: number;
  /** Ticks simulated, chaos and heal together. */
  ticks: number;
  /** Ticks the heal phase needed (-1 when it did not finish). */
  healTicks: number;
  events: number;
  /** The busiest tick's events (message bursts). */
  eventsPerTickMax: number;
  messagesSent: number;
  messagesDelivered: number;
  messagesDropped: number;
  messagesDuplicated: number;
  crashes: number;
  partitions: number;
  elections: number;
  proposalsAccepted: number;
  proposalsRefused: number;
  commitIndexMax: number;
  entriesApplied: number;
  confChangesProposed: number;
  confChangesApplied: number;
  snapshotsCreated: number;
  snapshotsInstalled: number;
  readsAnswered: number;
  transfers: number;
}

/** The outcome of one run. */
export interface SeedResult {
  readonly seed: number;
  readonly violations: readonly Violation[];
  readonly stats: SeedStats;
  /** Every event, one line each (only with `trace: true`). */
  readonly trace?: readonly string[];
  /** Fingerprint of the trace (only with `trace: true`). */
  readonly traceHash?: string;
  /** The command that replays this run. */
  readonly replay: string;
}

/** Ticks of chaos per seed unless `chaosTicks` (`--ticks`) says otherwise. */
export const CHAOS_TICKS_DEFAULT = 300;
/**
 * The liveness bound, in ticks after the heal: 40 election timeouts at the longest setting,
 * far above the slowest heal seen without a backlog (a few election rounds plus snapshot
 * catch-up). Replicating a backlog gets HEAL_TICKS_PER_BACKLOG_ENTRY more per entry.
 */
export const HEAL_TICKS_MAX_DEFAULT = 400;
/** Liveness allowance per entry of backlog at the heal: one round trip of the healed network (<= 2 ticks). */
export const HEAL_TICKS_PER_BACKLOG_ENTRY = 2;
/**
 * Events (deliveries, ticks, reports) within one tick beyond which the run is a livelock: a
 * typical tick has a few hundred; the worst legitimate bursts (a 64-message window of
 * one-entry appends resent on every duplicate acknowledgment over a reordering network) reach
 * about 20 000; a message ping-pong that never ends passes this bound in well under a second.
 */
export const EVENTS_PER_TICK_MAX = 200_000;
/** Readies handled in a row for one node before the simulator calls it a livelock of the core. */
export const READIES_PER_TURN_MAX = 1_000;
/** Nodes that may ever exist in one run, beyond the initial ones (added through membership changes). */
export const NODES_ADDED_MAX = 3;
/** A scheduled crash waits at most this many ticks for a Ready that has work at its crash point. */
export const CRASH_WAIT_TICKS_MAX = 5;
/** Voters never go below this through the simulator's removals. */
export const VOTERS_MIN = 1;

const GROUP_ID = 'sim';

/** Where a scheduled crash strikes in the node's next Ready. */
type CrashPoint = 'beforePersist' | 'afterPersist' | 'midApply' | 'afterAdvance';

/** How a run's chaos is tuned; drawn from the seed. */
interface Profile {
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly inflightMessagesMax: number;
  readonly inflightBytesMax: number;
  readonly messageBytesMax: number;
  readonly uncommittedBytesMax: number;
  readonly crashPerTick: number;
  readonly downTicksMax: number;
  readonly partitionPerTick: number;
  readonly partitionTicksMax: number;
  /**
   * Probability that a node that just won an election is cut off at once, before its first
   * append spreads: the pattern behind Raft's Figure 8 (leaders that come and go with divergent
   * uncommitted suffixes).
   */
  readonly newLeaderIsolationRate: number;
  /** Probability per tick that the current leader is cut off (for up to a few election timeouts). */
  readonly leaderIsolationPerTick: number;
  readonly proposePerTick: number;
  readonly confChangePerTick: number;
  readonly transferPerTick: number;
  readonly readPerTick: number;
  /** Applied entries past the last snapshot that trigger a new one. */
  readonly snapshotEntries: number;
  /** Entries kept in the log below a new snapshot, for slow followers. */
  readonly compactionKeep: number;
  readonly linkPhaseTicks: number;
}

/**
 * The seed's profile. About a third of the seeds are leader storms: leaders are cut off as soon
 * as they win and often after, clients keep writing to whoever believes it leads, and appends
 * carry one entry each, so that logs diverge and leaders come back with old suffixes (the
 * Figure 8 pattern of the Raft paper).
 */
function drawProfile(r: Prng): Profile {
  const preVote = r.chance(0.6);
  const checkQuorum = r.chance(0.6);
  const base = drawBaseProfile(r, preVote, checkQuorum);
  if (!r.chance(STORM_SEED_RATE)) return base;
  return {
    ...base,
    messageBytesMax: r.pick([1, 8]),
    crashPerTick: r.pick([0, 0.01]),
    partitionPerTick: r.pick([0, 0.01]),
    newLeaderIsolationRate: r.pick([0.3, 0.5, 0.7]),
    leaderIsolationPerTick: r.pick([0.05, 0.1]),
    proposePerTick: r.pick([0.6, 0.9]),
  };
}

/** Share of seeds that are leader storms. */
const STORM_SEED_RATE = 0.35;

function drawBaseProfile(r: Prng, preVote: boolean, checkQuorum: boolean): Profile {
  const electionTicks = r.pick([5, 10]);
  return {
    electionTicks,
    heartbeatTicks: r.between(1, electionTicks === 5 ? 2 : 3),
    preVote,
    checkQuorum,
    inflightMessagesMax: r.pick([1, 2, 4, 64]),
    inflightBytesMax: r.pick([16, 256, 1 << 20]),
    messageBytesMax: r.pick([1, 8, 64, 1 << 20]),
    uncommittedBytesMax: r.pick([64, 1024, 1 << 30]),
    crashPerTick: r.pick([0, 0.01, 0.02, 0.05, 0.1]),
    downTicksMax: r.pick([3, 10, 40]),
    partitionPerTick: r.pick([0, 0.01, 0.03, 0.08]),
    partitionTicksMax: r.pick([10, 30, 80]),
    newLeaderIsolationRate: r.pick([0, 0.1, 0.3, 0.5]),
    leaderIsolationPerTick: r.pick([0, 0.02, 0.05]),
    proposePerTick: r.pick([0.1, 0.3, 0.6]),
    // A removed node that never learns of its removal keeps campaigning; without pre-vote or
    // check-quorum it can disrupt the group forever (a known Raft limitation, not a bug).
    confChangePerTick: preVote || checkQuorum ? r.pick([0, 0.02, 0.05, 0.1]) : 0,
    transferPerTick: r.pick([0, 0.005, 0.02]),
    readPerTick: r.pick([0, 0.05, 0.2]),
    snapshotEntries: r.pick([4, 16, 64, 1_000_000]),
    compactionKeep: r.pick([0, 2, 10]),
    linkPhaseTicks: r.between(20, 100),
  };
}

type SimEvent =
  | { readonly kind: 'schedule'; readonly time: number }
  | { readonly kind: 'tick'; readonly time: number; readonly node: SimNode; readonly incarnation: number }
  | { readonly kind: 'deliver'; readonly time: number; readonly message: Message; readonly snapshotReport: SnapshotReport | null }
  | { readonly kind: 'report'; readonly time: number; readonly node: SimNode; readonly incarnation: number; readonly peer: NodeId; readonly what: 'snapshotOk' | 'snapshotFailed' | 'unreachable' };

interface SnapshotReport {
  readonly sender: SimNode;
  readonly incarnation: number;
}

/** One simulated machine: a disk that survives crashes, and a core plus application that do not. */
class SimNode {
  raw: RawNode | null = null;
  machine: SimStateMachine | null = null;
  state: 'down' | 'up' | 'retired' = 'down';
  /** Bumped at every start and stop, so that events of an earlier life are ignored. */
  incarnation = 0;
  role: Role = 'follower';
  /** The core's current term, as its Readies reported it (may be ahead of the disk). */
  term = 0;
  /** The configuration as of the applied index. */
  confState: ConfState;
  crashPending: CrashPoint | null = null;
  /** A pending crash waits for a Ready with work at its point (an fsync, an apply) until this tick at most. */
  crashDeadlineTick = 0;
  restartTick = 0;
  /** Commit index up to which this node's commits were reported to the checker. */
  commitObserved = 0;
  /**
   * The index of the entry that removed this node, once it applied it (0: not removed). The
   * operator stops it only once every member of the new configuration durably knows that entry
   * committed: stopped earlier, it could be a vote the others still need (they switch
   * configuration when they apply, not when the leader commits, and a crash can take back an
   * unsynced commit index).
   */
  removedAtIndex = 0;

  constructor(
    readonly id: NodeId,
    readonly disk: SimDisk,
    readonly random: Prng,
  ) {
    this.confState = disk.confState();
  }

  get isMember(): boolean {
    return isMemberOf(this.confState, this.id);
  }
}

function isMemberOf(cs: ConfState, id: NodeId): boolean {
  return cs.voters.includes(id) || cs.votersOutgoing.includes(id) || cs.learners.includes(id) || cs.learnersNext.includes(id);
}

interface Marker {
  readonly index: number;
  readonly term: number;
}

/** Runs one seed. Single use: construct, then `run()`. */
export class Simulation {
  private readonly queue = new EventQueue<SimEvent>();
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly nodeList: SimNode[] = [];
  private readonly network: SimNetwork;
  private readonly schedule: Prng;
  private readonly profile: Profile;
  private readonly checker: Checker;
  private readonly stats: SeedStats;
  private readonly traceLines: string[] | null;
  private readonly traceHash: TraceHash | null;
  private readonly chaosTicks: number;
  private readonly healTicksMax: number;
  private readonly initialSize: number;
  private now = 0;
  private tickNumber = 0;
  private healing = false;
  private healStartTick = 0;
  /** The liveness deadline, in ticks after the heal: the bound plus time to replicate the backlog. */
  private healDeadlineTicks = 0;
  private finished = false;
  private proposalSequence = 0;
  private readSequence = 0;
  private nodesAdded = 0;
  private readonly markers: Marker[] = [];
  /** Ids ever proposed into a configuration (the initial members included). */
  private readonly claimedIds = new Set<NodeId>();

  constructor(
    private readonly seed: number,
    private readonly options: SimOptions,
  ) {
    this.initialSize = options.nodes ?? (seed % 2 === 0 ? 5 : 3);
    if (!Number.isInteger(this.initialSize) || this.initialSize < 1 || this.initialSize > 9) {
      throw new RangeError(`sim: nodes must be an integer in [1, 9], got ${this.initialSize}`);
    }
    this.chaosTicks = options.chaosTicks ?? CHAOS_TICKS_DEFAULT;
    this.healTicksMax = options.healTicksMax ?? HEAL_TICKS_MAX_DEFAULT;
    this.network = new SimNetwork(new Prng(seed, 1));
    this.schedule = new Prng(seed, 2);
    this.profile = drawProfile(new Prng(seed, 3));
    this.traceLines = options.trace === true ? [] : null;
    this.traceHash = options.trace === true ? new TraceHash() : null;
    this.checker = new Checker(seed, () => this.now / UNITS_PER_TICK, () => this.leaderViews());
    this.stats = {
      nodes: this.initialSize,
      ticks: 0,
      healTicks: -1,
      events: 0,
      eventsPerTickMax: 0,
      messagesSent: 0,
      messagesDelivered: 0,
      messagesDropped: 0,
      messagesDuplicated: 0,
      crashes: 0,
      partitions: 0,
      elections: 0,
      proposalsAccepted: 0,
      proposalsRefused: 0,
      commitIndexMax: 0,
      entriesApplied: 0,
      confChangesProposed: 0,
      confChangesApplied: 0,
      snapshotsCreated: 0,
      snapshotsInstalled: 0,
      readsAnswered: 0,
      transfers: 0,
    };
  }

  run(): SeedResult {
    const ids = Array.from({ length: this.initialSize }, (_, i) => `n${i + 1}`);
    const bootstrap: Snapshot = {
      meta: { index: 1, term: 1, confState: { voters: ids, votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } },
      data: encodeSnapshotData({ index: 1, items: [] }),
    };
    this.trace(`seed ${this.seed} nodes ${this.initialSize} canary ${this.options.canary ?? '-'} profile ${JSON.stringify(this.profile)}`);
    for (const id of ids) {
      this.claimedIds.add(id);
      this.startNode(this.createNode(id, new SimDisk(bootstrap)));
    }
    this.network.links = this.network.randomLinks();
    this.queue.push({ kind: 'schedule', time: 0 });

    let eventsThisTick = 0;
    let tickOfEvents = 0;
    while (!this.finished) {
      const event = this.queue.pop();
      if (event === undefined) break;
      this.now = event.time;
      this.stats.events++;
      if (this.tickNumber !== tickOfEvents) {
        tickOfEvents = this.tickNumber;
        eventsThisTick = 0;
      }
      if (++eventsThisTick > this.stats.eventsPerTickMax) this.stats.eventsPerTickMax = eventsThisTick;
      if (eventsThisTick > EVENTS_PER_TICK_MAX) {
        this.fail('liveness', `livelock: more than ${EVENTS_PER_TICK_MAX} events within tick ${this.tickNumber} (a message storm)`);
        break;
      }
      this.handle(event);
      if (this.checker.failed) break;
    }
    for (const v of this.checker.violations) this.trace(`VIOLATION ${v.invariant}: ${v.detail}`);
    this.stats.ticks = this.tickNumber;
    this.stats.commitIndexMax = this.checker.maxCommitObserved;
    const flags = [`--seed ${this.seed}`];
    if (this.options.nodes !== undefined) flags.push(`--nodes ${this.options.nodes}`);
    if (this.options.canary !== undefined) flags.push(`--canary ${this.options.canary}`);
    if (this.options.chaosTicks !== undefined) flags.push(`--ticks ${this.options.chaosTicks}`);
    const result: SeedResult = {
      seed: this.seed,
      violations: this.checker.violations,
      stats: this.stats,
      replay: `npm run sim -- ${flags.join(' ')}`,
      ...(this.traceLines !== null ? { trace: this.traceLines, traceHash: this.traceHash!.digest() } : {}),
    };
    return result;
  }

  // --- events -------------------------------------------------------------------------------

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'schedule':
        this.onSchedule();
        return;
      case 'tick': {
        const node = event.node;
        if (node.state !== 'up' || node.incarnation !== event.incarnation) return;
        this.turn(node, (raw) => raw.tick());
        if (node.state === 'up' && node.incarnation === event.incarnation) {
          this.queue.push({ kind: 'tick', time: event.time + UNITS_PER_TICK, node, incarnation: node.incarnation });
        }
        return;
      }
      case 'deliver':
        this.deliver(event.message, event.snapshotReport);
        return;
      case 'report': {
        const node = event.node;
        if (node.state !== 'up' || node.incarnation !== event.incarnation) return;
        this.trace(`${node.id} report ${event.what} ${event.peer}`);
        this.turn(node, (raw) => {
          if (event.what === 'unreachable') raw.reportUnreachable(event.peer);
          else raw.reportSnapshot(event.peer, event.what === 'snapshotOk');
        });
        return;
      }
    }
  }

  private deliver(message: Message, snapshotReport: SnapshotReport | null): void {
    const target = this.nodes.get(message.to);
    let why = '';
    if (target === undefined || target.state !== 'up') why = 'target down';
    else if (this.network.blocked(message.from, message.to)) why = 'partitioned';
    if (snapshotReport !== null) this.reportSnapshot(snapshotReport, message.to, why === '');
    if (why !== '') {
      this.stats.messagesDropped++;
      if (this.traceLines !== null) this.trace(`drop ${describe(message)} (${why})`);
      return;
    }
    this.stats.messagesDelivered++;
    if (this.traceLines !== null) this.trace(`recv ${describe(message)}`);
    this.turn(target!, (raw) => raw.step(message));
  }

  private reportSnapshot(report: SnapshotReport, peer: NodeId, ok: boolean): void {
    this.queue.push({
      kind: 'report',
      time: this.now + 1,
      node: report.sender,
      incarnation: report.incarnation,
      peer,
      what: ok ? 'snapshotOk' : 'snapshotFailed',
    });
  }

  // --- the fault schedule and the clients ----------------------------------------------------

  /** Stop removed nodes once every member of the configuration without them durably knows their removal committed. */
  private retireRemovedNodes(): void {
    for (const node of this.nodeList) {
      if (node.state !== 'up' || node.removedAtIndex === 0 || node.isMember) continue;
      const cs = node.confState;
      const members = [...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext];
      const caughtUp = members.every((id) => {
        const member = this.nodes.get(id);
        if (member === undefined || member.state === 'retired') return true;
        // Durably: a member that forgets the commit in a crash goes back to needing the removed node.
        return member.disk.durableCommit() >= node.removedAtIndex;
      });
      if (!caughtUp) continue;
      this.trace(`${node.id} retired (removed at ${node.removedAtIndex}, which every member knows committed)`);
      this.stop(node, 'retired');
    }
  }

  private onSchedule(): void {
    this.retireRemovedNodes();
    const tick = this.tickNumber;
    if (!this.healing && tick >= this.chaosTicks) this.beginHeal();
    if (this.healing) this.healStep();
    else this.chaosStep();
    if (this.finished) return;
    this.tickNumber++;
    this.queue.push({ kind: 'schedule', time: this.tickNumber * UNITS_PER_TICK });
  }

  private chaosStep(): void {
    const r = this.schedule;
    const p = this.profile;
    const tick = this.tickNumber;

    if (tick > 0 && tick % p.linkPhaseTicks === 0) {
      this.network.links = this.network.randomLinks();
      this.trace(`links ${JSON.stringify(this.network.links)}`);
    }
    for (const healed of this.network.healDue(tick)) this.trace(`partition healed: ${healed.description}`);
    if (p.partitionPerTick > 0 && r.chance(p.partitionPerTick)) {
      const started = this.network.startRandomPartition(this.liveIds(), tick, p.partitionTicksMax, this.currentLeader()?.id ?? null);
      if (started !== null) {
        this.stats.partitions++;
        this.trace(`partition: ${started.description} until tick ${started.endTick}`);
      }
    }

    if (p.leaderIsolationPerTick > 0 && r.chance(p.leaderIsolationPerTick)) {
      const leader = this.currentLeader(true);
      const partition = leader === null ? null : this.network.isolate(leader.id, tick + r.between(Math.ceil(p.electionTicks / 2), 4 * p.electionTicks));
      if (partition !== null) {
        this.stats.partitions++;
        this.trace(`partition: ${partition.description} until tick ${partition.endTick} (leader)`);
      }
    }

    for (const node of this.nodeList) {
      if (node.state === 'down' && node.restartTick <= tick) this.startNode(node);
    }
    if (p.crashPerTick > 0 && r.chance(p.crashPerTick)) {
      const up = this.nodeList.filter((n) => n.state === 'up' && n.crashPending === null);
      if (up.length > 0) {
        const leader = this.currentLeader();
        const victim = leader !== null && r.chance(0.3) ? leader : r.pick(up);
        const roll = r.int(100);
        const point: CrashPoint | 'now' = roll < 35 ? 'beforePersist' : roll < 55 ? 'afterPersist' : roll < 70 ? 'midApply' : roll < 85 ? 'afterAdvance' : 'now';
        victim.restartTick = tick + (r.chance(0.5) ? r.between(1, 3) : r.between(1, p.downTicksMax));
        if (point === 'now') this.crash(victim, 'now');
        else {
          victim.crashPending = point;
          victim.crashDeadlineTick = tick + CRASH_WAIT_TICKS_MAX;
          this.trace(`${victim.id} will crash at ${point}`);
        }
      }
    }

    if (r.chance(p.proposePerTick)) {
      const count = r.between(1, 3);
      for (let i = 0; i < count; i++) this.clientPropose();
    }
    if (p.readPerTick > 0 && r.chance(p.readPerTick)) this.clientRead();
    if (p.transferPerTick > 0 && r.chance(p.transferPerTick)) this.clientTransfer();
    if (p.confChangePerTick > 0 && r.chance(p.confChangePerTick)) this.clientConfChange();
  }

  /**
   * A client proposes to a node that believes it leads (mostly; a stale leader too, as a client
   * with an old route would) or to any live node (which refuses).
   */
  private clientPropose(): void {
    const r = this.schedule;
    const live = this.nodeList.filter((n) => n.state === 'up');
    if (live.length === 0) return;
    const leaders = live.filter((n) => n.role === 'leader');
    const node = leaders.length > 0 && r.chance(0.9) ? r.pick(leaders) : r.pick(live);
    const payload = `v${++this.proposalSequence}`;
    this.turn(node, (raw) => {
      const result = raw.propose(utf8(payload));
      if (result.ok) {
        this.stats.proposalsAccepted++;
        this.trace(`${node.id} propose ${payload} -> (index ${result.index}, term ${result.term})`);
      } else {
        this.stats.proposalsRefused++;
        this.trace(`${node.id} propose ${payload} refused: ${result.reason}`);
      }
    });
  }

  private clientRead(): void {
    const r = this.schedule;
    const live = this.nodeList.filter((n) => n.state === 'up');
    if (live.length === 0) return;
    const node = r.pick(live);
    const context = `r${++this.readSequence}`;
    this.trace(`${node.id} readIndex ${context} (commit observed ${this.checker.maxCommitObserved})`);
    this.checker.onReadRequested(node.id, context);
    this.turn(node, (raw) => raw.readIndex(utf8(context)));
  }

  private clientTransfer(): void {
    const leader = this.currentLeader();
    if (leader === null) return;
    const voters = leader.confState.voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return;
    const target = this.schedule.pick(voters);
    this.stats.transfers++;
    this.trace(`${leader.id} transferLeader -> ${target}`);
    this.turn(leader, (raw) => raw.transferLeader(target));
  }

  private clientConfChange(): void {
    const r = this.schedule;
    const leader = this.currentLeader();
    if (leader === null || leader.raw === null) return;
    const cs = leader.raw.status().confState;
    let cc: ConfChange;
    if (cs.votersOutgoing.length > 0) {
      if (cs.autoLeave && r.chance(0.8)) return;
      cc = { changes: [], transition: 'auto', context: EMPTY_BYTES };
    } else {
      const voters = cs.voters;
      const learners = cs.learners;
      const choice = r.int(10);
      const fresh = (): NodeId | null => this.freshNodeId();
      // The leader removing or demoting itself is the delicate case: prefer it.
      const pickVoter = (): NodeId => (voters.includes(leader.id) && r.chance(0.5) ? leader.id : r.pick(voters));
      const changes: ConfChangeSingle[] = [];
      let transition: ConfChange['transition'] = 'auto';
      if (choice < 3) {
        const id = fresh();
        if (id === null) return;
        changes.push({ type: 'addLearner', node: id });
      } else if (choice < 5) {
        if (learners.length === 0) return;
        changes.push({ type: 'addVoter', node: r.pick(learners) });
      } else if (choice < 7) {
        if (voters.length <= VOTERS_MIN) return;
        changes.push({ type: 'removeVoter', node: pickVoter() });
      } else if (choice < 9) {
        // A joint change: bring one node in as a voter, take one voter out.
        const incoming = learners.length > 0 && r.chance(0.7) ? r.pick(learners) : fresh();
        if (incoming === null || voters.length < VOTERS_MIN) return;
        changes.push({ type: 'addVoter', node: incoming });
        const outgoing = pickVoter();
        changes.push(r.chance(0.5) ? { type: 'removeVoter', node: outgoing } : { type: 'addLearner', node: outgoing });
        transition = r.chance(0.5) ? 'joint' : 'auto';
      } else {
        const id = r.chance(0.5) ? fresh() : learners.length > 0 ? r.pick(learners) : null;
        if (id === null) return;
        changes.push({ type: r.chance(0.5) ? 'addVoter' : 'removeVoter', node: id });
      }
      cc = { changes, transition, context: EMPTY_BYTES };
    }
    this.stats.confChangesProposed++;
    this.turn(leader, (raw) => {
      const result = raw.proposeConfChange(cc);
      // An id once proposed into a configuration is never offered as fresh again (as etcd
      // never reuses a member id): a removed node must not come back under the same name.
      if (result.ok) for (const change of cc.changes) this.claimedIds.add(change.node);
      this.trace(
        `${leader.id} proposeConfChange ${describeConfChange(cc)} -> ${result.ok ? `(index ${result.index}, term ${result.term})` : `refused: ${result.reason}`}`,
      );
    });
  }

  /** A node never proposed into a configuration, started now if needed; null at the limit. */
  private freshNodeId(): NodeId | null {
    for (const node of this.nodeList) {
      if (node.state === 'up' && !this.claimedIds.has(node.id)) return node.id;
    }
    if (this.nodesAdded >= NODES_ADDED_MAX) return null;
    this.nodesAdded++;
    const node = this.createNode(`n${this.initialSize + this.nodesAdded}`, new SimDisk(null));
    this.startNode(node);
    return node.id;
  }

  // --- heal and liveness -----------------------------------------------------------------------

  private beginHeal(): void {
    this.healing = true;
    this.healStartTick = this.tickNumber;
    this.network.healAll();
    for (const node of this.nodeList) {
      node.crashPending = null;
      if (node.state === 'down') this.startNode(node);
    }
    this.network.links = HEALED_LINKS;
    // Entries written but not known committed everywhere must be replicated before the new
    // proposal can commit; the slowest flow control (one one-entry MsgApp in flight) moves one
    // entry per round trip, at most HEAL_TICKS_PER_BACKLOG_ENTRY in the healed network.
    const live = this.nodeList.filter((n) => n.state === 'up');
    const backlog = Math.max(0, ...live.map((n) => n.disk.lastIndex())) - Math.min(...live.map((n) => n.disk.durableCommit()));
    this.healDeadlineTicks = this.healTicksMax + HEAL_TICKS_PER_BACKLOG_ENTRY * backlog;
    this.trace(`heal: network healed, all nodes up; backlog ${backlog} entries, deadline ${this.healDeadlineTicks} ticks`);
  }

  private healStep(): void {
    const elapsed = this.tickNumber - this.healStartTick;
    const leader = this.currentLeader();
    if (leader !== null && leader.raw !== null) {
      const live = leader.raw.status().confState;
      const voters = [...new Set([...live.voters, ...live.votersOutgoing])];
      const done = this.markers.some(
        (marker) =>
          this.checker.committedTerm(marker.index) === marker.term &&
          voters.every((id) => {
            const node = this.nodes.get(id);
            return node === undefined || node.state !== 'up' || (node.machine !== null && node.machine.appliedIndex >= marker.index);
          }),
      );
      if (done) {
        this.stats.healTicks = elapsed;
        this.trace(`heal: done after ${elapsed} ticks (leader ${leader.id}, term ${leader.term}, voters ${voters.join(',')})`);
        this.finished = true;
        return;
      }
      if (this.markers.every((marker) => marker.term < leader.term)) {
        const payload = `heal${this.markers.length + 1}`;
        this.turn(leader, (raw) => {
          const result = raw.propose(utf8(payload));
          this.trace(`${leader.id} propose ${payload} -> ${result.ok ? `(index ${result.index}, term ${result.term})` : `refused: ${result.reason}`}`);
          if (result.ok) this.markers.push({ index: result.index, term: result.term });
        });
      }
    }
    if (elapsed >= this.healDeadlineTicks) {
      const states = this.nodeList.map((n) => `${n.id}:${n.state}/${n.role}/t${n.term}/a${n.machine?.appliedIndex ?? '-'}`).join(' ');
      const view = leader?.raw?.status();
      const leaderView = view === undefined ? 'no leader' : `leader ${view.id} config ${describeConfState(view.confState)}`;
      this.fail('liveness', `no proposal applied on all live voters within ${this.healDeadlineTicks} ticks after heal (${states}; ${leaderView})`);
      this.finished = true;
    }
  }

  // --- nodes -------------------------------------------------------------------------------------

  private createNode(id: NodeId, disk: SimDisk): SimNode {
    const node = new SimNode(id, disk, new Prng(this.seed, 1000 + this.nodeList.length));
    this.nodes.set(id, node);
    this.nodeList.push(node);
    return node;
  }

  private startNode(node: SimNode): void {
    const p = this.profile;
    const snapshot = node.disk.snapshot();
    const config: RaftConfig = {
      id: node.id,
      groupId: GROUP_ID,
      electionTicks: p.electionTicks,
      heartbeatTicks: p.heartbeatTicks,
      random: (n) => node.random.int(n),
      preVote: p.preVote,
      checkQuorum: p.checkQuorum,
      inflightMessagesMax: p.inflightMessagesMax,
      inflightBytesMax: p.inflightBytesMax,
      messageBytesMax: p.messageBytesMax,
      uncommittedBytesMax: p.uncommittedBytesMax,
      applied: snapshot.meta.index,
      ...(this.options.canary !== undefined ? { canary: this.options.canary } : {}),
    };
    node.incarnation++;
    node.state = 'up';
    node.role = 'follower';
    node.term = node.disk.hardState.term;
    node.crashPending = null;
    node.removedAtIndex = 0;
    node.commitObserved = Math.max(node.commitObserved, 0);
    node.confState = node.disk.confState();
    node.machine = snapshot.meta.index === 0 ? SimStateMachine.empty(0) : SimStateMachine.fromSnapshot(snapshot.meta.index, snapshot.data);
    this.trace(`${node.id} start (incarnation ${node.incarnation}, term ${node.term}, commit ${node.disk.hardState.commit}, snapshot ${snapshot.meta.index}, last ${node.disk.lastIndex()})`);
    try {
      node.raw = new RawNode(config, node.disk.reader);
      if (this.traceLines !== null) this.trace(`${node.id} config ${describeConfState(node.raw.status().confState)}`);
    } catch (error) {
      this.coreException(node, error);
      return;
    }
    this.queue.push({ kind: 'tick', time: this.now + 1 + this.schedule.int(UNITS_PER_TICK), node, incarnation: node.incarnation });
    this.drain(node);
  }

  private crash(node: SimNode, where: CrashPoint | 'now'): void {
    this.stats.crashes++;
    const lost = node.disk.loseUnsynced();
    this.trace(
      `${node.id} CRASH (${where}); restarts at tick ${node.restartTick}` +
        (lost === null ? '' : `; lost the unsynced commit ${lost.commit} (back to ${node.disk.hardState.commit})`),
    );
    this.stop(node, 'down');
  }

  private stop(node: SimNode, state: 'down' | 'retired'): void {
    node.raw = null;
    node.machine = null;
    node.state = state;
    node.incarnation++;
    node.role = 'follower';
    node.crashPending = null;
    node.removedAtIndex = 0;
    this.checker.forgetReads(node.id);
  }

  /** Run `action` on a live node's core, then handle its Readies. */
  private turn(node: SimNode, action: (raw: RawNode) => void): void {
    const raw = node.raw;
    if (raw === null || this.checker.failed) return;
    try {
      action(raw);
    } catch (error) {
      this.coreException(node, error);
      return;
    }
    this.drain(node);
  }

  private drain(node: SimNode): void {
    try {
      let readies = 0;
      while (node.raw !== null && node.raw.hasReady()) {
        if (++readies > READIES_PER_TURN_MAX) throw new Error(`more than ${READIES_PER_TURN_MAX} Readies in one turn`);
        this.handleReady(node, node.raw);
        if (this.checker.failed) return;
      }
    } catch (error) {
      this.coreException(node, error);
      return;
    }
    if (node.state !== 'up') return;
    if (node.crashPending !== null && this.tickNumber >= node.crashDeadlineTick) this.crash(node, node.crashPending);
  }

  /** The Ready duties, in the contract's order, with the scheduled crash (if any) striking between them. */
  private handleReady(node: SimNode, raw: RawNode): void {
    const rd = raw.ready();
    const disk = node.disk;
    let crashPoint = node.crashPending;
    if (crashPoint !== null && this.tickNumber < node.crashDeadlineTick) {
      // Crash during an fsync or an apply rather than around an idle Ready.
      const persists = rd.entries.length > 0 || rd.snapshot !== null || rd.hardState !== null;
      if ((crashPoint === 'beforePersist' || crashPoint === 'afterPersist') && !persists) crashPoint = null;
      if (crashPoint === 'midApply' && rd.committedEntries.length === 0) crashPoint = null;
    }

    if (rd.hardState !== null) node.term = rd.hardState.term;
    if (rd.softState !== null) {
      const wasLeader = node.role === 'leader';
      node.role = rd.softState.role;
      if (node.role === 'leader' && !wasLeader) {
        this.stats.elections++;
        this.trace(`${node.id} LEADER of term ${node.term}`);
        this.checker.onLeader({ id: node.id, term: node.term, log: disk });
        this.maybeIsolateNewLeader(node);
      } else if (this.traceLines !== null) {
        this.trace(`${node.id} ${rd.softState.role} (leader '${rd.softState.leader}', term ${node.term})`);
      }
    }

    // 1. Messages that need nothing durable.
    this.send(node, rd.messages);
    if (crashPoint === 'beforePersist') {
      this.crash(node, crashPoint);
      return;
    }

    // 2. Persist: snapshot, entries, hard state (one group-committed fsync).
    if (rd.snapshot !== null) disk.persistSnapshot(rd.snapshot);
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!;
      const previousTerm = disk.termAt(first.index - 1) ?? 0;
      disk.persistEntries(rd.entries);
      this.checker.onEntriesPersisted(
        node.id,
        rd.entries.map((e) => ({ index: e.index, term: e.term, key: entryKey(e.type, bytesKey(e.data)) })),
        previousTerm,
      );
      if (this.traceLines !== null) this.trace(`${node.id} persist entries ${first.index}..${rd.entries[rd.entries.length - 1]!.index}`);
    }
    if (!rd.mustSync && (rd.entries.length > 0 || rd.snapshot !== null || (rd.hardState !== null && (rd.hardState.term !== disk.hardState.term || rd.hardState.vote !== disk.hardState.vote)))) {
      this.fail('ready-contract', `${node.id} was handed a Ready with entries, a snapshot, a term or a vote to persist but mustSync false`);
      return;
    }
    if (rd.hardState !== null) {
      const previous = disk.hardState;
      disk.persistHardState(rd.hardState);
      this.checker.onHardStatePersisted(node.id, previous, rd.hardState);
      if (this.traceLines !== null) {
        this.trace(`${node.id} persist hardState term ${rd.hardState.term} vote '${rd.hardState.vote}' commit ${rd.hardState.commit}${rd.mustSync ? '' : ' (no sync)'}`);
      }
    }
    if (rd.mustSync) disk.sync();
    this.observeCommit(node);
    if (crashPoint === 'afterPersist') {
      this.crash(node, crashPoint);
      return;
    }

    // 3. Messages that promise durable state.
    this.send(node, rd.messagesAfterPersist);

    // 4. Apply: the snapshot, then committed entries.
    let machine = node.machine!;
    if (rd.snapshot !== null) {
      const meta = rd.snapshot.meta;
      machine = SimStateMachine.fromSnapshot(meta.index, rd.snapshot.data);
      node.machine = machine;
      node.confState = meta.confState;
      this.stats.snapshotsInstalled++;
      this.trace(`${node.id} installed snapshot (index ${meta.index}, term ${meta.term})`);
      this.checker.onSnapshotInstalled(node.id, disk.hardState.term, meta, machine.items);
    }
    const committed = rd.committedEntries;
    for (let i = 0; i < committed.length; i++) {
      if (crashPoint === 'midApply' && i === committed.length >> 1) {
        this.crash(node, crashPoint);
        return;
      }
      const entry = committed[i]!;
      if (entry.index !== machine.appliedIndex + 1) {
        this.fail('state-machine-safety', `${node.id} was handed entry ${entry.index} to apply after ${machine.appliedIndex}`);
        return;
      }
      const payload = bytesKey(entry.data);
      if (entry.type === 'confChange') {
        const wasMember = node.isMember;
        const cs = raw.applyConfChange(decodeConfChange(entry.data));
        node.confState = cs;
        machine.skip(entry.index);
        this.stats.confChangesApplied++;
        this.trace(`${node.id} apply ${entry.index} confChange -> ${describeConfState(cs)}`);
        if (wasMember && !node.isMember) node.removedAtIndex = entry.index;
        else if (node.isMember) node.removedAtIndex = 0;
      } else {
        machine.apply(entry.index, payload);
        if (this.traceLines !== null) this.trace(`${node.id} apply ${entry.index} '${payload}'`);
      }
      this.stats.entriesApplied++;
      this.checker.onApplied(node.id, disk.hardState.term, entry.index, entry.term, entryKey(entry.type, payload));
    }
    for (const read of rd.readStates) {
      const context = bytesKey(read.context);
      if (this.checker.onReadAnswered(node.id, context, read.index)) {
        this.stats.readsAnswered++;
        this.trace(`${node.id} read ${context} -> index ${read.index}`);
      }
    }
    this.checker.onProgress(node.id, machine.appliedIndex, disk.hardState.commit);

    // 5. Done.
    raw.advance(rd);
    if (crashPoint === 'afterAdvance') {
      this.crash(node, crashPoint);
      return;
    }
    this.maybeSnapshot(node, machine);
  }

  private maybeIsolateNewLeader(node: SimNode): void {
    const p = this.profile;
    if (this.healing || p.newLeaderIsolationRate === 0 || !this.schedule.chance(p.newLeaderIsolationRate)) return;
    const partition = this.network.isolate(node.id, this.tickNumber + this.schedule.between(2, p.partitionTicksMax));
    if (partition === null) return;
    this.stats.partitions++;
    this.trace(`partition: ${partition.description} until tick ${partition.endTick} (new leader)`);
  }

  /** Report entries newly covered by the node's persisted commit index. */
  private observeCommit(node: SimNode): void {
    const disk = node.disk;
    const commit = disk.hardState.commit;
    if (commit <= node.commitObserved) return;
    if (commit > disk.lastIndex()) {
      this.fail('committed-durable', `${node.id} persisted commit ${commit} beyond its persisted log (last index ${disk.lastIndex()})`);
      return;
    }
    const snapshotIndex = disk.firstIndex() - 1;
    for (let index = Math.max(node.commitObserved + 1, snapshotIndex); index <= commit; index++) {
      if (index === snapshotIndex) {
        const term = disk.termAt(index);
        if (term !== undefined && index > 0) this.checker.onCommitted(node.id, disk.hardState.term, index, term, null);
        continue;
      }
      const entry = disk.entryAt(index)!;
      this.checker.onCommitted(node.id, disk.hardState.term, index, entry.term, entryKey(entry.type, bytesKey(entry.data)));
      if (this.checker.failed) return;
    }
    if (node.role === 'leader') this.checkCommitQuorum(node, commit);
    node.commitObserved = commit;
    if (this.traceLines !== null) this.trace(`${node.id} commit ${commit}`);
  }

  /**
   * A leader just made its commit index `commit` durable: the entry there must be durable on a
   * quorum of its configuration (both halves when joint) right now. Acknowledgments promise
   * durable entries, so this fails when some node acknowledged before persisting and crashed.
   */
  private checkCommitQuorum(leader: SimNode, commit: number): void {
    const term = leader.disk.termAt(commit);
    if (term === undefined) return;
    const holds = (id: NodeId): boolean => {
      const disk = this.nodes.get(id)?.disk;
      if (disk === undefined) return false;
      return disk.firstIndex() - 1 >= commit || disk.termAt(commit) === term;
    };
    const cs = leader.confState;
    for (const voters of [cs.voters, cs.votersOutgoing]) {
      if (voters.length === 0) continue;
      const holders = voters.filter(holds);
      if (holders.length * 2 <= voters.length) {
        this.fail(
          'committed-durable',
          `${leader.id} (leader of term ${leader.term}) committed (index ${commit}, term ${term}) but only {${holders.join(',')}} of voters {${voters.join(',')}} have it on disk`,
        );
        return;
      }
    }
  }

  private maybeSnapshot(node: SimNode, machine: SimStateMachine): void {
    const disk = node.disk;
    const snapshotIndex = disk.snapshot().meta.index;
    const index = Math.min(machine.appliedIndex, disk.lastIndex());
    if (index - snapshotIndex < this.profile.snapshotEntries || machine.appliedIndex !== index) return;
    const compactIndex = Math.max(disk.firstIndex(), index - this.profile.compactionKeep);
    disk.snapshotAndCompact(index, node.confState, machine.encode(), compactIndex);
    this.stats.snapshotsCreated++;
    this.trace(`${node.id} snapshot at ${index} (${describeConfState(node.confState)}), log compacted to ${compactIndex}`);
  }

  private send(node: SimNode, messages: readonly Message[]): void {
    for (const message of messages) {
      this.stats.messagesSent++;
      if (message.type === 'MsgVoteResp' && !message.reject) this.checker.onVoteGranted(message.from, message.to, message.term);
      const snapshotReport: SnapshotReport | null = message.type === 'MsgSnap' ? { sender: node, incarnation: node.incarnation } : null;
      if (this.network.blocked(message.from, message.to)) {
        this.stats.messagesDropped++;
        if (this.traceLines !== null) this.trace(`drop ${describe(message)} (partitioned at send)`);
        if (snapshotReport !== null) this.reportSnapshot(snapshotReport, message.to, false);
        else if (this.schedule.chance(0.2)) {
          this.queue.push({ kind: 'report', time: this.now + 1, node, incarnation: node.incarnation, peer: message.to, what: 'unreachable' });
        }
        continue;
      }
      const times = this.network.deliveryTimes(message.from, message.to, this.now);
      if (times.length === 0) {
        this.stats.messagesDropped++;
        if (this.traceLines !== null) this.trace(`drop ${describe(message)} (lost)`);
        if (snapshotReport !== null) this.reportSnapshot(snapshotReport, message.to, false);
        continue;
      }
      if (times.length > 1) this.stats.messagesDuplicated++;
      for (let i = 0; i < times.length; i++) {
        this.queue.push({ kind: 'deliver', time: times[i]!, message, snapshotReport: i === 0 ? snapshotReport : null });
      }
    }
  }

  // --- views ---------------------------------------------------------------------------------------

  /** The live node that believes it leads the highest term (ignoring isolated ones when `reachable`). */
  private currentLeader(reachable = false): SimNode | null {
    let best: SimNode | null = null;
    for (const node of this.nodeList) {
      if (node.state !== 'up' || node.role !== 'leader' || (best !== null && node.term <= best.term)) continue;
      if (reachable && this.network.isIsolated(node.id)) continue;
      best = node;
    }
    return best;
  }

  private leaderViews(): LeaderView[] {
    const views: LeaderView[] = [];
    for (const node of this.nodeList) if (node.state === 'up' && node.role === 'leader') views.push({ id: node.id, term: node.term, log: node.disk });
    return views;
  }

  private liveIds(): NodeId[] {
    return this.nodeList.filter((n) => n.state !== 'retired').map((n) => n.id);
  }

  private fail(invariant: InvariantName, detail: string): void {
    this.checker.fail(invariant, detail);
  }

  private coreException(node: SimNode, error: unknown): void {
    const text = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
    this.fail('core-exception', `${node.id}: ${text}`);
  }

  private trace(line: string): void {
    if (this.traceLines === null) return;
    const text = `[${(this.now / UNITS_PER_TICK).toFixed(3)}] ${line}`;
    this.traceLines.push(text);
    this.traceHash!.update(text);
  }
}

function describe(m: Message): string {
  let text = `${m.from}->${m.to} ${m.type} t${m.term}`;
  if (m.type === 'MsgApp') text += ` prev(${m.index},${m.logTerm}) n${m.entries.length} c${m.commit}`;
  else if (m.type === 'MsgAppResp') text += m.reject ? ` reject ${m.index} hint ${m.rejectHint}/${m.logTerm}` : ` ok ${m.index}`;
  else if (m.type === 'MsgVote' || m.type === 'MsgPreVote') text += ` last(${m.index},${m.logTerm})`;
  else if (m.type === 'MsgVoteResp' || m.type === 'MsgPreVoteResp') text += m.reject ? ' reject' : ' grant';
  else if (m.type === 'MsgHeartbeat') text += ` c${m.commit}`;
  else if (m.type === 'MsgSnap' && m.snapshot !== null) text += ` snap(${m.snapshot.meta.index},${m.snapshot.meta.term})`;
  else if (m.type === 'MsgReadIndexResp') text += ` index ${m.index}`;
  return text;
}

function describeConfChange(cc: ConfChange): string {
  if (cc.changes.length === 0) return 'leave-joint';
  return `${cc.transition}[${cc.changes.map((c) => `${c.type} ${c.node}`).join(', ')}]`;
}

function describeConfState(cs: ConfState): string {
  let text = `voters {${cs.voters.join(',')}}`;
  if (cs.votersOutgoing.length > 0) text += ` outgoing {${cs.votersOutgoing.join(',')}}${cs.autoLeave ? ' auto' : ''}`;
  if (cs.learners.length > 0) text += ` learners {${cs.learners.join(',')}}`;
  if (cs.learnersNext.length > 0) text += ` learnersNext {${cs.learnersNext.join(',')}}`;
  return text;
}
