/**
 * A small deterministic cluster of RawNodes over MemoryStorage for the core's tests: it runs
 * the Ready loop as the runtime would (persist, send, apply, advance), delivers messages in
 * order, and can drop messages, isolate nodes and restart them. Every delivered message is
 * recorded as a transcript line (`describe`), so tests read like etcd's testdata.
 */
import {
  decodeConfChange,
  MemoryStorage,
  RawNode,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type RaftConfig,
  type RandomInt,
  type ReadState,
  type Ready,
} from '../../raft/core/index.ts';

/** mulberry32: a tiny seeded generator; returns integers in [0, n). */
export function seededRandom(seed: number): RandomInt {
  let state = seed >>> 0;
  return (n: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const value = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(value * n);
  };
}

export const GROUP = 'g1';

export function makeConfig(id: NodeId, overrides: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id,
    groupId: GROUP,
    electionTicks: 10,
    heartbeatTicks: 1,
    random: seededRandom(id.charCodeAt(0)),
    preVote: false,
    checkQuorum: false,
    inflightMessagesMax: 256,
    inflightBytesMax: 1 << 30,
    messageBytesMax: 1 << 20,
    uncommittedBytesMax: 1 << 30,
    applied: 0,
    ...overrides,
  };
}

export function confStateOf(voters: NodeId[], learners: NodeId[] = []): ConfState {
  return { voters, votersOutgoing: [], learners, learnersNext: [], autoLeave: false };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const bytes = (text: string): Uint8Array => encoder.encode(text);
export const text = (data: Uint8Array): string => decoder.decode(data);

/** One line per message: `a->b MsgApp t2 i5 lt1 c5 [6@2 7@2]`, plus reject/hint/context when set. */
export function describe(m: Message): string {
  const parts = [`${m.from}->${m.to} ${m.type} t${m.term}`];
  if (m.type === 'MsgApp' || m.type === 'MsgVote' || m.type === 'MsgPreVote') parts.push(`i${m.index} lt${m.logTerm}`);
  else if (m.type === 'MsgAppResp' || m.type === 'MsgReadIndexResp') parts.push(`i${m.index}`);
  if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat') parts.push(`c${m.commit}`);
  if (m.entries.length > 0) parts.push(`[${m.entries.map((e) => `${e.index}@${e.term}`).join(' ')}]`);
  if (m.reject && (m.type === 'MsgVoteResp' || m.type === 'MsgPreVoteResp')) parts.push(`reject c${m.commit}@${m.logTerm}`);
  else if (m.reject) parts.push(`reject hint=${m.rejectHint}@${m.logTerm}`);
  if (m.snapshot !== null) parts.push(`snap=${m.snapshot.meta.index}@${m.snapshot.meta.term}`);
  if (m.context.length > 0) parts.push(`ctx=${text(m.context)}`);
  if (m.commitOnly) parts.push('commit-only');
  return parts.join(' ');
}

export interface Member {
  readonly id: NodeId;
  storage: MemoryStorage;
  node: RawNode;
  config: RaftConfig;
  /** Entries applied, in order (normal and confChange). */
  applied: Entry[];
  appliedIndex: number;
  readStates: ReadState[];
  /** The configuration after each applied confChange. */
  confStates: ConfState[];
  /** Snapshots installed. */
  snapshotsInstalled: number;
}

/**
 * A bootstrapped storage whose log holds entries 2, 3, ... with the given terms (data `e<index>`),
 * hard state term = max(`term`, last entry term), commit 1.
 */
export function storageWithLog(confState: ConfState, terms: number[], hard: { term?: number; vote?: NodeId; commit?: number } = {}): MemoryStorage {
  const storage = MemoryStorage.bootstrap(confState);
  storage.append(terms.map((term, i) => ({ term, index: i + 2, type: 'normal' as const, data: bytes(`e${i + 2}`) })));
  const term = Math.max(hard.term ?? 1, ...terms);
  storage.setHardState({ term, vote: hard.vote ?? '', commit: hard.commit ?? 1 });
  return storage;
}

export interface ClusterOptions {
  /** Per id: terms of the entries from index 2 its log starts with (see storageWithLog). */
  logs?: Record<NodeId, number[]>;
  /** Per id: hard state term to start at. */
  terms?: Record<NodeId, number>;
  /** Initial voters; defaults to every id. */
  voters?: NodeId[];
  learners?: NodeId[];
  /** Ids that start empty (join later). */
  empty?: NodeId[];
  config?: Partial<RaftConfig>;
}

/** Round limit of `settle`: a cluster that keeps talking longer is livelocked (a test failure). */
const SETTLE_ROUNDS_MAX = 10_000;

export class Cluster {
  readonly members = new Map<NodeId, Member>();
  /** Messages sent and not yet delivered, in order. */
  network: Message[] = [];
  /** Every delivered message, described. */
  transcript: string[] = [];
  /** Return true to drop a message (partitions, losses). */
  drop: (m: Message) => boolean = () => false;
  /** Called on every Ready before it is processed (tests inspect duties). */
  onReady: (id: NodeId, rd: Ready) => void = () => {};

  constructor(ids: NodeId[], readonly options: ClusterOptions = {}) {
    const confState = confStateOf(options.voters ?? ids, options.learners ?? []);
    for (const id of ids) {
      const log = options.logs?.[id];
      const term = options.terms?.[id];
      let storage: MemoryStorage;
      if (options.empty?.includes(id)) storage = new MemoryStorage();
      else if (log !== undefined || term !== undefined) storage = storageWithLog(confState, log ?? [], term === undefined ? {} : { term });
      else storage = MemoryStorage.bootstrap(confState);
      this.add(id, storage);
    }
  }

  add(id: NodeId, storage: MemoryStorage, overrides: Partial<RaftConfig> = {}): Member {
    const config = makeConfig(id, { ...this.options.config, ...overrides });
    const member: Member = {
      id,
      storage,
      node: new RawNode(config, storage),
      config,
      applied: [],
      appliedIndex: config.applied,
      readStates: [],
      confStates: [],
      snapshotsInstalled: 0,
    };
    this.members.set(id, member);
    return member;
  }

  get(id: NodeId): Member {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no member ${id}`);
    return member;
  }

  node(id: NodeId): RawNode {
    return this.get(id).node;
  }

  /** Handles one Ready of `id` as the runtime does. Returns false when there was none. */
  processReady(id: NodeId): boolean {
    const member = this.get(id);
    if (!member.node.hasReady()) return false;
    const rd = member.node.ready();
    this.onReady(id, rd);
    this.network.push(...rd.messages);
    if (rd.snapshot !== null) {
      member.storage.applySnapshot(rd.snapshot);
      member.appliedIndex = rd.snapshot.meta.index;
      member.snapshotsInstalled++;
    }
    member.storage.append(rd.entries);
    if (rd.hardState !== null) member.storage.setHardState(rd.hardState);
    this.network.push(...rd.messagesAfterPersist);
    for (const entry of rd.committedEntries) {
      if (entry.type === 'confChange') {
        const confState = member.node.applyConfChange(decodeConfChange(entry.data));
        member.confStates.push(confState);
        member.storage.setConfState(confState);
      }
      member.applied.push(entry);
      member.appliedIndex = entry.index;
    }
    member.readStates.push(...rd.readStates);
    member.node.advance(rd);
    return true;
  }

  /** Runs every Ready and delivers messages until the cluster is quiet. */
  settle(): void {
    for (let round = 0; round < SETTLE_ROUNDS_MAX; round++) {
      let busy = false;
      for (const id of this.members.keys()) while (this.processReady(id)) busy = true;
      const inFlight = this.network;
      this.network = [];
      for (const m of inFlight) {
        busy = true;
        this.deliver(m);
      }
      if (!busy) return;
    }
    throw new Error('cluster did not settle');
  }

  deliver(m: Message): void {
    const target = this.members.get(m.to);
    if (target === undefined || this.drop(m)) return;
    this.transcript.push(describe(m));
    target.node.step(m);
  }

  /** Ticks `id` `count` times, settling after each tick. */
  tick(id: NodeId, count = 1): void {
    for (let i = 0; i < count; i++) {
      this.node(id).tick();
      this.settle();
    }
  }

  /** Ticks every member `count` times, settling after each round. */
  tickAll(count = 1): void {
    for (let i = 0; i < count; i++) {
      for (const member of this.members.values()) member.node.tick();
      this.settle();
    }
  }

  /** `id` campaigns and the cluster settles. */
  elect(id: NodeId): void {
    this.node(id).campaign();
    this.settle();
  }

  leaders(): NodeId[] {
    return [...this.members.values()].filter((m) => m.node.status().softState.role === 'leader').map((m) => m.id);
  }

  /** Drops every message to or from the listed ids. */
  isolate(...ids: NodeId[]): void {
    this.drop = (m) => ids.includes(m.from) || ids.includes(m.to);
  }

  heal(): void {
    this.drop = () => false;
  }

  /** Proposes `data` on `id` (must be leader) and settles. Returns the index. */
  propose(id: NodeId, data: string): number {
    const result = this.node(id).propose(bytes(data));
    if (!result.ok) throw new Error(`proposal refused: ${result.reason}`);
    this.settle();
    return result.index;
  }

  /** Replaces `id`'s RawNode by a new one over the same storage (a crash and restart). */
  restart(id: NodeId, overrides: Partial<RaftConfig> = {}): Member {
    const old = this.get(id);
    const member = this.add(id, old.storage, { applied: old.appliedIndex, ...overrides });
    member.applied = old.applied;
    member.confStates = old.confStates;
    return member;
  }

  /** Data of the normal, non-empty entries `id` applied. */
  appliedData(id: NodeId): string[] {
    return this.get(id).applied.filter((e) => e.type === 'normal' && e.data.length > 0).map((e) => text(e.data));
  }
}
