/**
 * The Raft runtime: drives the pure core (`core/`) with a timer, durable storage (`storage/`)
 * and the gRPC transport (`transport/`), and applies committed entries to a StateMachine.
 *
 * One Ready at a time, handled as ordered duties:
 * 1. send the leader's appends at once (so the leader writes its log in parallel with
 *    replicating it; it counts itself only after `advance`, i.e. once durable);
 * 2. persist: an incoming snapshot (restore + WAL reset), then entries (one WAL append, group
 *    committed), then term and vote (hard state, when they changed);
 * 3. send the messages that promise durable state (votes, append acknowledgements);
 * 4. apply committed entries, resolve the proposals waiting on them (the committed entries this
 *    node already held durably before this Ready are applied while step 2 runs, see
 *    `splitDurable`; the others, and configuration changes, after it);
 * 5. advance the core, maybe take a snapshot (every `snapshotEntries` entries or
 *    `snapshotBytes` bytes applied: the log is held in memory until compacted). The loop waits
 *    only for the state machine's capture; its completion, the publish and the compaction of
 *    the log run in the background, one snapshot at a time (an install waits for it).
 * Inputs (ticks, messages, proposals) arriving meanwhile go to the core at once and are picked
 * up by the next Ready: that is what batches many proposals into one fsync.
 *
 * A storage failure (a failed write or fsync) is fatal: the node stops and calls `onFatal`
 * (by default the process exits). It never retries an fsync.
 */
import { EventEmitter } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { RawNode, MemoryStorage, encodeConfChange, decodeConfChange } from './core/index.ts';
import { EntryReadAhead } from './read-ahead.ts';
import type {
  ConfChange,
  ConfChangeSingle,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  ProposeResult,
  Ready,
  Role,
  Snapshot,
  SnapshotMeta,
  Status,
} from './core/types.ts';
import { EMPTY_BYTES } from './core/types.ts';
import type { SnapshotCompletion, StateMachine } from './state-machine.ts';
import { assert } from './core/assert.ts';
import { openWal, WAL_RECYCLE_FILES_MAX, WAL_SEGMENT_BYTES_DEFAULT, type Wal } from './storage/wal.ts';
import { openHardStateStore, type HardStateStore } from './storage/hard-state.ts';
import { openSnapshotStore, type SnapshotStore, type SnapshotInfo, type SnapshotWriter } from './storage/snapshot-store.ts';
import { nodeFileSystem, type FileSystem } from './storage/fs.ts';
import { GrpcRaftTransport } from './transport/grpc-transport.ts';
import type { SharedPort } from './transport/shared-port.ts';
import { isAddress } from './address.ts';
import {
  InvalidArgumentError,
  NodeStoppedError,
  NotLeaderError,
  ProposalDroppedError,
  ProposalRefusedError,
  RaftTimeoutError,
} from './errors.ts';

/**
 * Default `snapshotBytes`: 512 MiB of applied entries, held in memory until then. Smaller
 * saves memory but snapshots more often; for a JournalNode, whose snapshots link their files,
 * the price is the standbys' tail latency, not writes (figures in journalnode/README.md).
 */
export const DEFAULT_SNAPSHOT_BYTES = 512 * 1024 * 1024;

/**
 * Compacted WAL files to keep for reuse (raft/storage/wal.ts): those a compaction after
 * `snapshotBytes` of entries frees, at most {@link WAL_RECYCLE_FILES_MAX}.
 */
export function walRecycleFilesFor(snapshotBytes: number, walSegmentBytes = WAL_SEGMENT_BYTES_DEFAULT): number {
  return Math.max(1, Math.min(WAL_RECYCLE_FILES_MAX, Math.ceil(snapshotBytes / walSegmentBytes)));
}

/** Default `laggingFollowerCacheBytes`: 64 MiB. */
export const DEFAULT_LAGGING_FOLLOWER_CACHE_BYTES = 64 * 1024 * 1024;

/** Default `snapshotKeepBytes`: 64 MiB of entries kept below a snapshot. */
export const DEFAULT_SNAPSHOT_KEEP_BYTES = 64 * 1024 * 1024;

/** Name of the runtime's own file inside every snapshot's file set (the address book). */
export const PEERS_FILE = 'raft-peers.json';

/** Options of a RaftNode. Durations in milliseconds unless named in ticks. */
export interface RaftNodeOptions {
  readonly id: NodeId;
  readonly groupId: string;
  /** Holds `wal/`, `snap/` and `hardstate.json`. */
  readonly dataDir: string;
  /** The cluster on first start (id -> raft `host:port`); ignored once the node has state. */
  readonly initialPeers: ReadonlyMap<NodeId, string>;
  /** True for a node added to a running group: it starts empty and waits for the leader. */
  readonly join?: boolean;
  readonly stateMachine: StateMachine;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  /** Take a snapshot once this many entries were applied since the last one. */
  readonly snapshotEntries?: number;
  /**
   * Take a snapshot once entries holding this many bytes were applied since the last one
   * (default 512 MiB): the log stays in memory until a snapshot compacts it, so a count of
   * entries alone does not bound memory when entries are large.
   */
  readonly snapshotBytes?: number;
  /** Entries kept in the log below a snapshot, for slow followers. */
  readonly snapshotKeepEntries?: number;
  /** ... but no more than this many bytes of them (default 64 MiB). */
  readonly snapshotKeepBytes?: number;
  /** Size of a WAL file (default 64 MiB, `WAL_SEGMENT_BYTES_DEFAULT`). */
  readonly walSegmentBytes?: number;
  /**
   * A leader keeps applied entries that some follower does not hold yet in memory while the log
   * holds at most this many bytes of entry data (default
   * {@link DEFAULT_LAGGING_FOLLOWER_CACHE_BYTES}); past that, and on a follower at once, applied
   * entries are evicted from memory and read back from the WAL when needed (see `evictEntries`).
   */
  readonly laggingFollowerCacheBytes?: number | undefined;
  /** Largest raft message (gRPC limit both ways). */
  readonly messageBytesMax?: number;
  /** Proposals are refused once this many bytes are proposed but not yet committed. */
  readonly uncommittedBytesMax?: number;
  readonly inflightMessagesMax?: number;
  readonly inflightBytesMax?: number;
  readonly fs?: FileSystem;
  readonly log?: Logger;
  /** Called once when storage fails; the node is already stopped. Default: log and exit(1). */
  readonly onFatal?: (error: Error) => void;
  /**
   * Where to dial a peer instead of its address in the configuration (tests route links
   * through fault proxies this way). The configuration keeps the real addresses.
   */
  readonly dialOverrides?: ReadonlyMap<NodeId, string>;
  /** Seeded randomness for election timeouts (tests); default Math.random. */
  readonly random?: (n: number) => number;
}

/** What `status()` reports: the core's status plus the runtime's view. */
export interface RaftNodeStatus extends Status {
  readonly peers: Readonly<Record<NodeId, string>>;
  readonly leaderAddress: string;
  readonly snapshotIndex: number;
  readonly walStats: Readonly<Record<string, number>>;
  /** Read index requests handed to the core again because no answer came (see READ_INDEX_RETRY_TICKS). */
  readonly readIndexRetries: number;
  /** Bytes of entry data the log holds in memory (the rest was evicted: `evictEntries`). */
  readonly logHeldBytes: number;
  /**
   * Entries read back from the WAL for followers further behind (read-ahead.ts): entry data
   * held, reads in flight, and how often the core found none at hand and had to wait.
   */
  readonly readAhead: { readonly heldBytes: number; readonly readsInFlight: number; readonly misses: number };
}

/** Events: 'role' (role, leader), 'applied' (index), 'fatal' (error). */
export interface RaftNodeEvents {
  role: [role: Role, leader: NodeId | ''];
  applied: [index: number];
  fatal: [error: Error];
}

interface ProposalWaiter {
  readonly term: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface ReadWaiter {
  readonly resolve: (index: number) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly context: Uint8Array;
  /** Ticks since the request was last handed to the core. */
  ticksWaiting: number;
}

/**
 * Ticks after which an unanswered read index request is handed to the core again. The core
 * drops a request it cannot serve (a follower that knows no leader, a candidate), and a message
 * can be lost: without a retry the read would wait for its whole timeout. A repeated request
 * is harmless (the leader ignores a context already pending; a late second answer finds no
 * waiter).
 */
const READ_INDEX_RETRY_TICKS = 2;

interface AppliedWaiter {
  readonly index: number;
  readonly resolve: () => void;
}

/** A snapshot captured in the Ready loop, to be completed in the background. */
interface CapturedSnapshot {
  readonly meta: SnapshotMeta;
  readonly writer: SnapshotWriter;
  readonly complete: SnapshotCompletion | void;
  /** The address book as of the capture. */
  readonly peers: Uint8Array;
  readonly startedMs: number;
  readonly captureMs: number;
}

interface PeersContext {
  readonly addresses: Record<NodeId, string>;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

function encodePeers(peers: ReadonlyMap<NodeId, string>): Uint8Array {
  const addresses: Record<NodeId, string> = {};
  for (const [id, address] of [...peers].sort((a, b) => (a[0] < b[0] ? -1 : 1))) addresses[id] = address;
  return textEncoder.encode(JSON.stringify({ addresses } satisfies PeersContext));
}

function decodePeers(data: Uint8Array): Map<NodeId, string> {
  const out = new Map<NodeId, string>();
  if (data.length === 0) return out;
  const parsed = JSON.parse(textDecoder.decode(data)) as Partial<PeersContext>;
  for (const [id, address] of Object.entries(parsed.addresses ?? {})) {
    if (typeof address === 'string') out.set(id, address);
  }
  return out;
}

export { isAddress };

/**
 * A Raft group member running as part of a process. Usage:
 * `const n = new RaftNode(opts); await n.start(); n.addToServer(server, sharedPort);` then `propose`,
 * `readIndex`, admin calls; `await n.stop()`.
 */
export class RaftNode extends EventEmitter<RaftNodeEvents> {
  readonly id: NodeId;
  readonly groupId: string;
  private readonly options: RaftNodeOptions;
  private readonly fs: FileSystem;
  private readonly log: Logger | undefined;
  private readonly tickMs: number;
  private readonly electionTicks: number;

  private raw!: RawNode;
  private storage!: MemoryStorage;
  private wal!: Wal;
  private readAhead!: EntryReadAhead;
  private hardStateStore!: HardStateStore;
  private snapshots!: SnapshotStore;
  private transport!: GrpcRaftTransport;
  private peers = new Map<NodeId, string>();

  private confState!: ConfState;
  private applied = 0;
  private snapshotIndex = 0;
  /** Index of the last snapshot captured (it may still be completing) or installed. */
  private capturedIndex = 0;
  /** Entry bytes applied since the last snapshot captured or installed. */
  private appliedBytesSinceSnapshot = 0;
  /** The snapshot completing in the background (at most one), settled when done or failed. */
  private completing: Promise<void> | null = null;
  private savedTerm = 0;
  private savedVote: NodeId | '' = '';
  private role: Role = 'follower';
  private leader: NodeId | '' = '';

  private readonly proposals = new Map<number, ProposalWaiter>();
  private readonly reads = new Map<string, ReadWaiter>();
  private appliedWaiters: AppliedWaiter[] = [];
  private readSequence = 0;
  private readIndexRetries = 0;

  private tickTimer: NodeJS.Timeout | undefined;
  private lastTickAt = 0;
  private readyScheduled = false;
  private processing = false;
  private started = false;
  private stopped = false;
  private failure: Error | undefined;

  constructor(options: RaftNodeOptions) {
    super();
    this.options = options;
    this.id = options.id;
    this.groupId = options.groupId;
    this.fs = options.fs ?? nodeFileSystem;
    this.log = options.log;
    this.tickMs = options.tickMs ?? 100;
    this.electionTicks = options.electionTicks ?? 10;
  }

  /** Open storage, restore the latest snapshot, replay the log, start ticking and the transport. */
  async start(): Promise<void> {
    if (this.started) throw new Error('raft node: start called twice');
    this.started = true;
    const dir = this.options.dataDir;
    await mkdir(join(dir, 'wal'), { recursive: true });
    await mkdir(join(dir, 'snap'), { recursive: true });
    this.hardStateStore = await openHardStateStore(dir, { fs: this.fs });
    this.snapshots = await openSnapshotStore(join(dir, 'snap'), { fs: this.fs });
    this.storage = new MemoryStorage();

    // 1. The latest snapshot: state machine, address book, configuration.
    const latest = await this.snapshots.latest();
    let snapshotMeta: SnapshotMeta | null = null;
    if (latest !== null) {
      snapshotMeta = latest.meta;
      await this.options.stateMachine.restore(latest.dir, latest.meta);
      const peersBytes = await this.readPeersFile(latest);
      this.peers = decodePeers(peersBytes);
      this.storage.applySnapshot({ meta: latest.meta, data: peersBytes });
      this.applied = latest.meta.index;
      this.snapshotIndex = latest.meta.index;
      this.confState = latest.meta.confState;
    }

    // 2. The log: only entries that continue the snapshot are kept (see keepAfterSnapshot).
    const walSegmentBytes = this.options.walSegmentBytes ?? WAL_SEGMENT_BYTES_DEFAULT;
    const opened = await openWal(join(dir, 'wal'), {
      fs: this.fs,
      segmentBytesMax: walSegmentBytes,
      // As many free files as one snapshot's compaction frees (more would never be reused).
      recycleFilesMax: walRecycleFilesFor(this.options.snapshotBytes ?? DEFAULT_SNAPSHOT_BYTES, walSegmentBytes),
      log: (msg, fields) => this.log?.warn(fields ?? {}, msg),
    });
    this.wal = opened.wal;
    const wal = opened.wal;
    // Evicted entries come back from the WAL off the event loop (read-ahead.ts).
    this.readAhead = new EntryReadAhead({
      source: wal,
      termOf: (index) => {
        try {
          return this.storage.term(index);
        } catch {
          return undefined;
        }
      },
      readableThrough: () => this.storage.evictedThrough,
      onReadable: () => {
        if (this.stopped || this.failure !== undefined) return;
        try {
          this.raw.retryAppends();
        } catch (error) {
          // As in onMessages (this runs in a promise callback: never let it escape there).
          this.fail(error);
          return;
        }
        this.scheduleReady();
      },
      onFailure: (error) => this.fail(error),
    });
    const readAhead = this.readAhead;
    this.storage.setEntryReader((lo, hi) => readAhead.read(lo, hi));
    if (opened.repair) this.log?.warn({ repair: opened.repair }, 'wal: truncated a torn tail');
    const entries = keepAfterSnapshot(opened.entries, snapshotMeta);
    if (entries.length > 0) this.storage.append(entries);

    // 3. Hard state. The commit index is saved lazily: it can only be behind, never ahead.
    let hardState = this.hardStateStore.load();
    this.savedTerm = hardState.term;
    this.savedVote = hardState.vote;
    const lastIndex = this.storage.lastIndex();
    const commit = Math.min(Math.max(hardState.commit, this.snapshotIndex), lastIndex);
    hardState = { ...hardState, commit };

    // 4. A brand new node of the initial cluster writes the same bootstrap entries as its
    // peers: one configuration entry per initial voter, at term 1, committed.
    const fresh = latest === null && entries.length === 0 && hardState.term === 0;
    if (fresh && !this.options.join) {
      const bootstrap = this.bootstrapEntries();
      await this.wal.append(bootstrap);
      this.storage.append(bootstrap);
      hardState = { term: 1, vote: '', commit: bootstrap.length };
      await this.hardStateStore.save(hardState);
      this.savedTerm = 1;
    }
    this.storage.setHardState(hardState);
    if (this.confState === undefined) this.confState = { voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };

    this.raw = new RawNode(
      {
        id: this.id,
        groupId: this.groupId,
        electionTicks: this.electionTicks,
        heartbeatTicks: this.options.heartbeatTicks ?? 1,
        random: this.options.random ?? ((n) => Math.floor(Math.random() * n)),
        preVote: true,
        checkQuorum: true,
        inflightMessagesMax: this.options.inflightMessagesMax ?? 256,
        inflightBytesMax: this.options.inflightBytesMax ?? 64 * 1024 * 1024,
        messageBytesMax: Math.floor((this.options.messageBytesMax ?? 16 * 1024 * 1024) / 2),
        uncommittedBytesMax: this.options.uncommittedBytesMax ?? 256 * 1024 * 1024,
        applied: this.applied,
      },
      this.storage,
    );

    if (fresh && this.options.join) this.peers = new Map(this.options.initialPeers);
    if (this.peers.size === 0) this.peers = new Map(this.options.initialPeers);
    this.transport = new GrpcRaftTransport({
      id: this.id,
      groupId: this.groupId,
      peers: new Map([...this.peers].map(([id, address]) => [id, this.options.dialOverrides?.get(id) ?? address])),
      messageBytesMax: this.options.messageBytesMax ?? 16 * 1024 * 1024,
      handlers: {
        onMessages: (messages) => this.onMessages(messages),
        onUnreachable: (peer) => {
          if (!this.stopped) this.raw.reportUnreachable(peer);
        },
        onSnapshotStatus: (peer, ok) => {
          if (this.stopped) return;
          this.raw.reportSnapshot(peer, ok);
          this.scheduleReady();
        },
        snapshotSource: async (meta) => {
          const info = (await this.snapshots.list()).find((i) => i.meta.index === meta.index && i.meta.term === meta.term);
          if (info === undefined) throw new Error(`no snapshot at ${meta.term}/${meta.index}`);
          return { dir: info.dir, files: info.files };
        },
        snapshotSink: this.snapshots,
      },
    });

    this.lastTickAt = performance.now();
    this.tickTimer = setInterval(() => this.onTimer(), this.tickMs);
    this.tickTimer.unref();
    this.log?.info({ id: this.id, applied: this.applied, lastIndex: this.storage.lastIndex(), term: hardState.term }, 'raft node started');
    this.scheduleReady();
  }

  /** Register the raft transport service on the process's gRPC server, and take the peer links of its shared port. */
  addToServer(server: grpc.Server, port: SharedPort): void {
    this.transport.addToServer(server, port);
  }

  // ---------------------------------------------------------------------------------------
  // Client API

  /**
   * Propose `data`; resolves with the state machine's result once the entry is applied on this
   * node. Rejects with NotLeaderError (with the leader's id and address), ProposalRefusedError,
   * ProposalDroppedError (lost to a leader change: retry), NodeStoppedError.
   */
  propose(data: Uint8Array): Promise<unknown> {
    if (this.stopped) return Promise.reject(new NodeStoppedError(this.failure));
    return this.track(this.raw.propose(data));
  }

  /** Propose a configuration change; resolves with the new configuration once applied. */
  async proposeConfChange(cc: ConfChange, timeoutMs = 10_000): Promise<ConfState> {
    // The core refuses a change while the previous one is not applied (as it counts applied:
    // after `advance`): wait that out instead of failing the operator's call.
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.stopped) throw new NodeStoppedError(this.failure);
      const result = this.raw.proposeConfChange(cc);
      if (result.ok || result.reason !== 'confChangePending' || performance.now() > deadline) {
        return (await this.track(result)) as ConfState;
      }
      await new Promise<void>((r) => setTimeout(r, Math.min(20, this.tickMs)));
    }
  }

  /**
   * A linearizable read barrier (ReadIndex): resolves with an index once this node has applied
   * at least it; a read of the state machine after that sees every write acknowledged before
   * the call.
   */
  readIndex(timeoutMs = 5000): Promise<number> {
    if (this.stopped) return Promise.reject(new NodeStoppedError(this.failure));
    const key = `${this.id}:${++this.readSequence}`;
    const context = textEncoder.encode(key);
    const promise = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(key);
        reject(new RaftTimeoutError('read index', timeoutMs));
      }, timeoutMs);
      this.reads.set(key, { resolve, reject, timer, context, ticksWaiting: 0 });
    });
    this.raw.readIndex(context);
    this.scheduleReady();
    return promise;
  }

  /** Resolves once this node has applied `index` (or rejects when it stops). */
  waitApplied(index: number): Promise<void> {
    if (this.applied >= index) return Promise.resolve();
    if (this.stopped) return Promise.reject(new NodeStoppedError(this.failure));
    return new Promise((resolve) => this.appliedWaiters.push({ index, resolve }));
  }

  /** Hand leadership to `to`; resolves once `to` is the leader as seen here, or times out. */
  async transferLeader(to: NodeId, timeoutMs = 10_000): Promise<void> {
    this.assertLeader();
    if (!this.peers.has(to) || !this.confState.voters.includes(to)) throw new InvalidArgumentError(`transfer-leader: ${to} is not a voter`);
    if (to === this.id) return;
    this.raw.transferLeader(to);
    this.scheduleReady();
    await this.waitFor(() => this.leader === to, timeoutMs, `leader transfer to ${to}`);
  }

  /**
   * Add a peer: it joins as a learner, and is promoted to voter once its log has caught up
   * (unless `learner`). Resolves with the final configuration.
   */
  async addPeer(id: NodeId, address: string, options: { learner?: boolean; timeoutMs?: number } = {}): Promise<ConfState> {
    this.assertLeader();
    if (!isAddress(address)) throw new InvalidArgumentError(`add-peer: '${address}' is not host:port`);
    if (this.confState.voters.includes(id)) throw new InvalidArgumentError(`add-peer: ${id} is already a voter`);
    const timeoutMs = options.timeoutMs ?? 60_000;
    const context = encodePeers(new Map([[id, address]]));
    if (!this.confState.learners.includes(id)) {
      await this.proposeConfChange({ changes: [{ type: 'addLearner', node: id }], transition: 'auto', context });
    }
    if (options.learner) return this.confState;
    await this.waitFor(
      () => {
        const status = this.raw.status();
        const progress = status.progress?.[id];
        return progress !== undefined && progress.match >= status.lastIndex - 64 && progress.match > 0;
      },
      timeoutMs,
      `${id} to catch up`,
      { leaderOnly: true },
    );
    return this.proposeConfChange({ changes: [{ type: 'addVoter', node: id }], transition: 'auto', context });
  }

  /** Remove a peer (voter or learner). Resolves with the new configuration. */
  async removePeer(id: NodeId): Promise<ConfState> {
    this.assertLeader();
    if (!this.confState.voters.includes(id) && !this.confState.learners.includes(id)) {
      throw new InvalidArgumentError(`remove-peer: ${id} is not a member`);
    }
    if (this.confState.voters.length === 1 && this.confState.voters[0] === id) {
      throw new InvalidArgumentError('remove-peer: cannot remove the last voter');
    }
    return this.proposeConfChange({ changes: [{ type: 'removeVoter', node: id }], transition: 'auto', context: EMPTY_BYTES });
  }

  /**
   * Change the voters to exactly `voters` (id -> address) through joint consensus: new voters
   * are added as learners first and promoted together with the removals in one joint change.
   */
  async changePeers(voters: ReadonlyMap<NodeId, string>, timeoutMs = 60_000): Promise<ConfState> {
    this.assertLeader();
    if (voters.size === 0) throw new InvalidArgumentError('change-peers: the new configuration is empty');
    for (const [id, address] of voters) {
      if (!isAddress(address)) throw new InvalidArgumentError(`change-peers: '${address}' (${id}) is not host:port`);
    }
    const added = [...voters.keys()].filter((id) => !this.confState.voters.includes(id));
    for (const id of added) {
      if (!this.confState.learners.includes(id)) await this.addPeer(id, voters.get(id)!, { learner: true, timeoutMs });
    }
    await this.waitFor(
      () => {
        const status = this.raw.status();
        return added.every((id) => (status.progress?.[id]?.match ?? 0) >= status.lastIndex - 64);
      },
      timeoutMs,
      'new peers to catch up',
      { leaderOnly: true },
    );
    const changes: ConfChangeSingle[] = [
      ...added.map((node) => ({ type: 'addVoter' as const, node })),
      ...this.confState.voters.filter((id) => !voters.has(id)).map((node) => ({ type: 'removeVoter' as const, node })),
    ];
    if (changes.length === 0) return this.confState;
    const context = encodePeers(voters);
    await this.proposeConfChange({ changes, transition: 'joint', context });
    // Leave the joint configuration.
    return this.proposeConfChange({ changes: [], transition: 'auto', context: EMPTY_BYTES });
  }

  /**
   * UNSAFE: force this node's configuration to `voters` when a quorum is permanently lost.
   * Committed entries only the lost nodes held are gone, and if the old majority comes back
   * the group can split in two. Only for an operator who knows the old nodes are dead.
   */
  resetPeers(voters: ReadonlyMap<NodeId, string>): void {
    if (voters.size === 0) throw new InvalidArgumentError('reset-peer: the new configuration is empty');
    for (const [id, address] of voters) {
      if (!isAddress(address)) throw new InvalidArgumentError(`reset-peer: '${address}' (${id}) is not host:port`);
      if (id !== this.id) this.setPeerAddress(id, address);
    }
    this.raw.resetPeers([...voters.keys()]);
    this.confState = this.raw.status().confState;
    this.log?.warn({ voters: [...voters.keys()] }, 'reset-peer: configuration forced (unsafe)');
    this.scheduleReady();
  }

  /** Take a snapshot now (as the operator's `snapshot` verb). Resolves with its index. */
  async snapshotNow(): Promise<number> {
    await this.runExclusive(async () => {
      await this.completing;
      const captured = await this.captureSnapshot();
      if (captured !== null) await this.completeSnapshot(captured);
    });
    return this.snapshotIndex;
  }

  /** Campaign at once (tests and operators); normally elections start from timeouts. */
  campaign(): void {
    this.raw.campaign();
    this.scheduleReady();
  }

  status(): RaftNodeStatus {
    const status = this.raw.status();
    return {
      ...status,
      peers: Object.fromEntries(this.peers),
      leaderAddress: this.addressOf(status.softState.leader),
      snapshotIndex: this.snapshotIndex,
      walStats: { ...this.wal.stats },
      readIndexRetries: this.readIndexRetries,
      logHeldBytes: this.storage.heldBytes,
      readAhead: { heldBytes: this.readAhead.heldBytes, readsInFlight: this.readAhead.readsInFlight, misses: this.readAhead.misses },
    };
  }

  /** True when this node is the leader now. */
  isLeader(): boolean {
    return this.role === 'leader';
  }

  /** The leader's id and raft address as known here ('' when unknown). */
  leaderInfo(): { id: NodeId | ''; address: string } {
    return { id: this.leader, address: this.addressOf(this.leader) };
  }

  appliedIndex(): number {
    return this.applied;
  }

  /** Stop: no more ticks, transport closed, pending calls rejected, files closed. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.rejectAll(new NodeStoppedError(this.failure));
    await this.transport?.close().catch(() => undefined);
    // Let a Ready in progress finish its current step before the WAL closes.
    await this.waitFor(() => !this.processing, 10_000, 'ready loop to stop').catch(() => undefined);
    await this.completing;
    await this.wal?.close().catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------
  // The loop

  private onTimer(): void {
    if (this.stopped) return;
    const now = performance.now();
    // Count ticks from elapsed time: a blocked event loop must not slow the protocol's clock
    // down, but catching up is capped so one stall is not seen as many elections.
    let ticks = Math.floor((now - this.lastTickAt) / this.tickMs);
    if (ticks <= 0) return;
    this.lastTickAt += ticks * this.tickMs;
    ticks = Math.min(ticks, 2 * this.electionTicks);
    try {
      for (let i = 0; i < ticks; i++) this.raw.tick();
    } catch (error) {
      // As in onMessages: a failure of the core's storage while ticking is fatal.
      this.fail(error);
      return;
    }
    for (const read of this.reads.values()) {
      read.ticksWaiting += ticks;
      if (read.ticksWaiting < READ_INDEX_RETRY_TICKS) continue;
      read.ticksWaiting = 0;
      this.readIndexRetries += 1;
      this.raw.readIndex(read.context);
    }
    this.scheduleReady();
  }

  private onMessages(messages: readonly Message[]): void {
    if (this.stopped) return;
    try {
      for (const m of messages) this.raw.step(m);
    } catch (error) {
      // A storage failure while stepping (the entry reader's checks) is fatal, as every other.
      this.fail(error);
      return;
    }
    this.scheduleReady();
  }

  private scheduleReady(): void {
    if (this.readyScheduled || this.stopped) return;
    this.readyScheduled = true;
    setImmediate(() => {
      this.readyScheduled = false;
      void this.runReadyLoop();
    });
  }

  private async runReadyLoop(): Promise<void> {
    if (this.processing || this.stopped) return;
    this.processing = true;
    try {
      while (!this.stopped && this.raw.hasReady()) {
        const rd = this.raw.ready();
        await this.handleReady(rd);
        if (this.stopped) break;
        this.raw.advance(rd);
        this.evictEntries();
        await this.maybeSnapshot();
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.processing = false;
    }
    if (!this.stopped && this.raw.hasReady()) this.scheduleReady();
  }

  /** Run `fn` while the Ready loop is idle (snapshots requested by the operator). */
  private async runExclusive(fn: () => Promise<void>): Promise<void> {
    await this.waitFor(() => !this.processing, 30_000, 'ready loop to idle');
    this.processing = true;
    try {
      await fn();
    } finally {
      this.processing = false;
      this.scheduleReady();
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== null) this.onSoftState(rd.softState.role, rd.softState.leader);
    if (rd.messages.length > 0) this.transport.send(rd.messages);
    if (rd.snapshot !== null) await this.installSnapshot(rd.snapshot);
    // Committed entries this node already holds durably (below the first entry this Ready
    // writes) are applied while the new entries are persisted: applying them depends on nothing
    // this Ready writes, and a pipelined leader would otherwise pay fsync + apply per Ready.
    // Configuration changes keep the strict order (persist, then apply).
    const [early, late] = splitDurable(rd);
    const applying = early.length > 0 ? this.applyEntries(early) : undefined;
    try {
      if (rd.entries.length > 0) {
        await this.wal.append(rd.entries);
        this.storage.append([...rd.entries]);
      }
      if (rd.hardState !== null) await this.persistHardState(rd.hardState);
    } catch (error) {
      await applying?.catch(() => undefined);
      throw error;
    }
    if (rd.messagesAfterPersist.length > 0) this.transport.send(rd.messagesAfterPersist);
    if (applying !== undefined) await applying;
    if (late.length > 0) await this.applyEntries(late);
    for (const rs of rd.readStates) {
      const key = textDecoder.decode(rs.context);
      const waiter = this.reads.get(key);
      if (waiter === undefined) continue;
      this.reads.delete(key);
      clearTimeout(waiter.timer);
      this.waitApplied(rs.index).then(() => waiter.resolve(rs.index), waiter.reject);
    }
  }

  private async persistHardState(hs: HardState): Promise<void> {
    this.storage.setHardState(hs);
    // Term and vote must be durable before any message that depends on them is sent; the
    // commit index is only a hint (it is re-learned from the leader) and rides along.
    if (hs.term !== this.savedTerm || hs.vote !== this.savedVote) {
      await this.hardStateStore.save(hs);
      this.savedTerm = hs.term;
      this.savedVote = hs.vote;
    }
  }

  private onSoftState(role: Role, leader: NodeId | ''): void {
    const changed = role !== this.role || leader !== this.leader;
    this.role = role;
    this.leader = leader;
    // Only a leader reads entries back for its followers.
    if (role !== 'leader') this.readAhead.clear();
    if (changed) {
      this.log?.info({ role, leader, term: this.storage.hardState?.term }, 'raft role');
      this.emit('role', role, leader);
    }
  }

  private async applyEntries(entries: readonly Entry[]): Promise<void> {
    let batch: Entry[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const normal = batch.filter((e) => e.data.length > 0);
      for (const e of normal) this.appliedBytesSinceSnapshot += e.data.length;
      const results = normal.length > 0 ? await this.options.stateMachine.apply(normal) : [];
      if (results.length !== normal.length) throw new Error(`state machine returned ${results.length} results for ${normal.length} entries`);
      let r = 0;
      for (const e of batch) this.settle(e, e.data.length > 0 ? results[r++] : undefined);
      this.setApplied(batch[batch.length - 1]!.index);
      batch = [];
    };
    for (const e of entries) {
      if (e.type === 'confChange') {
        await flush();
        const cc = decodeConfChange(e.data);
        const wasMember = this.isMember();
        this.confState = this.raw.applyConfChange(cc);
        this.applyPeerChanges(cc, wasMember);
        this.settle(e, this.confState);
        this.setApplied(e.index);
      } else {
        batch.push(e);
      }
    }
    await flush();
  }

  /** True while `id` (default: this node) is a voter, an outgoing voter or a learner. */
  private isMember(id: NodeId = this.id): boolean {
    return this.confState.voters.includes(id) || this.confState.learners.includes(id) || this.confState.votersOutgoing.includes(id);
  }

  /** `wasMember`: whether this node was a member before `cc` (the bootstrap adds members one by one). */
  private applyPeerChanges(cc: ConfChange, wasMember: boolean): void {
    const addresses = decodePeers(cc.context);
    for (const change of cc.changes) {
      if (change.type === 'removeVoter') {
        if (!this.isMember(change.node) && change.node !== this.id) {
          this.peers.delete(change.node);
          this.transport.removePeer(change.node);
        }
      } else {
        const address = addresses.get(change.node);
        if (address !== undefined) this.setPeerAddress(change.node, address);
      }
    }
    for (const [id, address] of addresses) if (!this.peers.has(id)) this.setPeerAddress(id, address);
    if (wasMember && !this.isMember()) this.log?.warn({ id: this.id }, 'this node was removed from the configuration');
  }

  private setPeerAddress(id: NodeId, address: string): void {
    this.peers.set(id, address);
    if (id !== this.id) this.transport?.setPeer(id, this.options.dialOverrides?.get(id) ?? address);
  }

  private settle(e: Entry, result: unknown): void {
    const waiter = this.proposals.get(e.index);
    if (waiter === undefined) return;
    this.proposals.delete(e.index);
    if (waiter.term === e.term) waiter.resolve(result);
    else waiter.reject(new ProposalDroppedError(e.index, waiter.term));
  }

  private setApplied(index: number): void {
    if (index < this.applied) throw new Error(`applied index going backwards: ${index} < ${this.applied}`);
    this.applied = index;
    if (this.appliedWaiters.length > 0) {
      const still: AppliedWaiter[] = [];
      for (const w of this.appliedWaiters) {
        if (w.index <= index) w.resolve();
        else still.push(w);
      }
      this.appliedWaiters = still;
    }
    this.emit('applied', index);
  }

  private async installSnapshot(snapshot: Snapshot): Promise<void> {
    const info = (await this.snapshots.list()).find((i) => i.meta.index === snapshot.meta.index && i.meta.term === snapshot.meta.term);
    if (info === undefined) {
      throw new Error(`snapshot ${snapshot.meta.term}/${snapshot.meta.index} to install is not in the snapshot store`);
    }
    this.log?.info({ index: snapshot.meta.index, term: snapshot.meta.term }, 'installing snapshot');
    // A snapshot of our own still completing would publish and compact behind the restore.
    await this.completing;
    await this.options.stateMachine.restore(info.dir, info.meta);
    // The core installs a snapshot only when its log does not hold (index, term): every entry
    // we hold after it is stale, so the WAL starts afresh after the snapshot.
    await this.wal.reset(snapshot.meta.index + 1);
    this.storage.applySnapshot(snapshot);
    const peers = decodePeers(snapshot.data);
    for (const [id, address] of peers) this.setPeerAddress(id, address);
    this.confState = snapshot.meta.confState;
    this.snapshotIndex = snapshot.meta.index;
    this.capturedIndex = snapshot.meta.index;
    this.appliedBytesSinceSnapshot = 0;
    // Every proposal below the snapshot is lost to us (they were decided elsewhere).
    for (const [index, waiter] of this.proposals) {
      if (index <= snapshot.meta.index) {
        this.proposals.delete(index);
        waiter.reject(new ProposalDroppedError(index, waiter.term));
      }
    }
    this.setApplied(Math.max(this.applied, snapshot.meta.index));
  }

  /**
   * Take a snapshot once enough was applied since the last one. The Ready loop waits only for
   * the capture; the state machine's completion, the publish and the log compaction run in the
   * background (one snapshot at a time) while entries keep being appended and applied.
   */
  private async maybeSnapshot(): Promise<void> {
    if (this.completing !== null) return;
    const every = this.options.snapshotEntries ?? 100_000;
    const bytes = this.options.snapshotBytes ?? DEFAULT_SNAPSHOT_BYTES;
    if (this.applied - this.capturedIndex < every && this.appliedBytesSinceSnapshot < bytes) return;
    const captured = await this.captureSnapshot();
    if (captured === null) return;
    this.completing = this.completeSnapshot(captured)
      .catch((error: unknown) => {
        if (!this.stopped) this.fail(error);
      })
      .finally(() => {
        this.completing = null;
      });
  }

  /** Capture a snapshot at the applied index (between applies). Null when there is nothing new. */
  private async captureSnapshot(): Promise<CapturedSnapshot | null> {
    const index = this.applied;
    if (index <= this.snapshotIndex) return null;
    const startedMs = performance.now();
    const meta: SnapshotMeta = { index, term: this.storage.term(index), confState: this.confState };
    const writer = await this.snapshots.begin(meta);
    let complete: SnapshotCompletion | void;
    try {
      complete = await this.options.stateMachine.snapshot(writer.dir);
    } catch (e) {
      await writer.abort().catch(() => undefined);
      throw e;
    }
    this.capturedIndex = index;
    this.appliedBytesSinceSnapshot = 0;
    return { meta, writer, complete, peers: encodePeers(this.peers), startedMs, captureMs: performance.now() - startedMs };
  }

  /**
   * Finish a captured snapshot: the state machine's completion, the address book, publish,
   * then compact the in-memory log and the WAL below it.
   */
  private async completeSnapshot(captured: CapturedSnapshot): Promise<void> {
    const { meta, writer, complete, peers, startedMs } = captured;
    const { index, term } = meta;
    let completeMs = 0;
    try {
      const prefixes = complete !== undefined ? await complete() : undefined;
      completeMs = performance.now() - startedMs - captured.captureMs;
      // A stopping node does not wait for a publish: the log still holds everything.
      if (this.stopped) throw new NodeStoppedError(null);
      await writeFile(join(writer.dir, PEERS_FILE), peers);
      await writer.publish(prefixes ?? undefined);
    } catch (e) {
      await writer.abort().catch(() => undefined);
      throw e;
    }
    const publishMs = performance.now() - startedMs - captured.captureMs - completeMs;
    if (this.stopped) return;
    // installSnapshot waits for this one, so nothing newer can have been installed meanwhile.
    assert(index > this.snapshotIndex, `snapshot ${index} completed behind ${this.snapshotIndex}`);
    this.storage.createSnapshot(index, meta.confState, peers);
    this.snapshotIndex = index;
    const compactTo = this.compactionIndex(index);
    const compactStartedMs = performance.now();
    if (compactTo > this.storage.firstIndex()) {
      this.storage.compact(compactTo);
      await this.wal.compact(compactTo);
    }
    // A restart replays from max(saved commit, snapshot index): the snapshot needs no hard
    // state write of its own.
    const ms = (value: number): number => Math.round(value * 10) / 10;
    this.log?.info(
      {
        index,
        term,
        captureMs: ms(captured.captureMs),
        completeMs: ms(completeMs),
        publishMs: ms(publishMs),
        compactMs: ms(performance.now() - compactStartedMs),
        totalMs: ms(performance.now() - startedMs),
      },
      'snapshot taken',
    );
  }

  /**
   * Drop the data of entries this node no longer needs from memory (MemoryStorage `evict`; the
   * storage reads them back from the WAL when asked for them). Applied entries go, except on a
   * leader those some follower does not hold yet, while the log holds at most
   * `laggingFollowerCacheBytes` in memory: a follower that keeps up is then sent entries from
   * memory, one that fell further behind from the WAL. Evicting what is already evicted does
   * nothing (the storage knows how far it went).
   *
   * Why: otherwise every entry stays in memory until a snapshot compacts the log (512 MiB by
   * default), and V8 starts a full collection each time about 64 MiB more of such buffers is
   * alive: at 100 MB/s of edits, two per second on every node, each marking the whole heap.
   */
  private evictEntries(): void {
    // Through what the core knows applied (at `advance`, a little after the runtime applied),
    // never above: the core reads the entries above it (a campaign checks them for configuration
    // changes) and cannot wait for a read back there. Hence called after each `advance`.
    let through = this.raw.appliedIndex();
    const lowestMatch = this.raw.lowestFollowerMatch();
    if (lowestMatch < through && this.storage.heldBytes <= (this.options.laggingFollowerCacheBytes ?? DEFAULT_LAGGING_FOLLOWER_CACHE_BYTES)) {
      through = lowestMatch;
    }
    this.storage.evict(through);
  }

  /**
   * The index to compact the log to after a snapshot at `index`: keep `snapshotKeepEntries`
   * entries below it for slow followers, fewer when they hold more than `snapshotKeepBytes`.
   */
  private compactionIndex(index: number): number {
    const keepEntries = this.options.snapshotKeepEntries ?? 10_000;
    const keepBytesMax = this.options.snapshotKeepBytes ?? DEFAULT_SNAPSHOT_KEEP_BYTES;
    const first = Math.max(this.storage.firstIndex(), index - keepEntries + 1);
    if (first > index) return index - keepEntries;
    let bytes = 0;
    let i = index;
    while (i >= first && bytes + this.storage.entryBytes(i) <= keepBytesMax) {
      bytes += this.storage.entryBytes(i);
      i -= 1;
    }
    return i;
  }

  private async readPeersFile(info: SnapshotInfo): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(join(info.dir, PEERS_FILE)));
    } catch {
      return EMPTY_BYTES;
    }
  }

  private bootstrapEntries(): Entry[] {
    const ids = [...this.options.initialPeers.keys()].sort();
    if (!ids.includes(this.id)) throw new InvalidArgumentError(`initial cluster does not name this node (${this.id})`);
    return ids.map((node, i) => ({
      term: 1,
      index: i + 1,
      type: 'confChange' as const,
      data: encodeConfChange({
        changes: [{ type: 'addVoter', node }],
        transition: 'auto',
        context: encodePeers(new Map([[node, this.options.initialPeers.get(node)!]])),
      }),
    }));
  }

  // ---------------------------------------------------------------------------------------
  // Helpers

  private track(result: ProposeResult): Promise<unknown> {
    if (!result.ok) {
      if (result.reason === 'notLeader') return Promise.reject(new NotLeaderError(result.leader, this.addressOf(result.leader)));
      return Promise.reject(new ProposalRefusedError(result.reason));
    }
    // A waiter still registered at this index belongs to an entry of an older term that the
    // log has since replaced: it can never be applied.
    const stale = this.proposals.get(result.index);
    if (stale !== undefined) stale.reject(new ProposalDroppedError(result.index, stale.term));
    const promise = new Promise<unknown>((resolve, reject) => {
      this.proposals.set(result.index, { term: result.term, resolve, reject });
    });
    this.scheduleReady();
    return promise;
  }

  private assertLeader(): void {
    if (this.stopped) throw new NodeStoppedError(this.failure);
    if (this.role !== 'leader') throw new NotLeaderError(this.leader, this.addressOf(this.leader));
  }

  private addressOf(id: NodeId | ''): string {
    return id === '' ? '' : (this.peers.get(id) ?? '');
  }

  /**
   * Poll `cond` until it holds (or fail at the deadline); `leaderOnly`: fail fast with
   * NotLeaderError once this node is no longer the leader. The polling timer keeps the process
   * alive: a caller awaiting this (stop, a configuration change) must get its answer even when
   * nothing else is pending (an unref'd timer let an embedding process exit mid-stop).
   */
  private async waitFor(cond: () => boolean, timeoutMs: number, what: string, options: { leaderOnly?: boolean } = {}): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!cond()) {
      if (this.stopped && what !== 'ready loop to stop') throw new NodeStoppedError(this.failure);
      if (options.leaderOnly && this.role !== 'leader') throw new NotLeaderError(this.leader, this.addressOf(this.leader));
      if (performance.now() > deadline) throw new RaftTimeoutError(what, timeoutMs);
      await new Promise<void>((r) => setTimeout(r, Math.min(20, this.tickMs)));
    }
  }

  private rejectAll(error: Error): void {
    for (const w of this.proposals.values()) w.reject(error);
    this.proposals.clear();
    for (const w of this.reads.values()) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.reads.clear();
  }

  private fail(cause: unknown): void {
    if (this.failure !== undefined) return;
    const error = cause instanceof Error ? cause : new Error(String(cause));
    this.failure = error;
    this.log?.fatal({ err: error }, 'raft node failed: stopping (storage errors are never retried)');
    void this.stop();
    this.emit('fatal', error);
    if (this.options.onFatal) this.options.onFatal(error);
    else process.exit(1);
  }
}

/**
 * Entries of the WAL that continue `snapshot`: those after it, provided the log holds the
 * snapshot's own entry with its term, or starts right after it. Anything else after a snapshot
 * whose entry the log does not match is stale (a snapshot is installed only in that case).
 */
export function keepAfterSnapshot(entries: readonly Entry[], snapshot: SnapshotMeta | null): Entry[] {
  if (snapshot === null) return [...entries];
  const first = entries[0];
  if (first === undefined) return [];
  if (first.index > snapshot.index + 1) return [];
  if (first.index === snapshot.index + 1) return [...entries];
  const at = entries[snapshot.index - first.index];
  if (at === undefined || at.term !== snapshot.term) return [];
  return entries.slice(snapshot.index - first.index + 1);
}

/**
 * Split a Ready's committed entries into those that may be applied while its entries and hard
 * state are persisted (`early`: already durable here, i.e. below the first entry it writes, with
 * no snapshot to install and no configuration change among them) and those applied after
 * (`late`). Order is kept: `early` is a prefix.
 */
export function splitDurable(rd: Pick<Ready, 'entries' | 'committedEntries' | 'snapshot'>): [readonly Entry[], readonly Entry[]] {
  const committed = rd.committedEntries;
  if (committed.length === 0 || rd.snapshot !== null) return [[], committed];
  const firstWritten = rd.entries[0]?.index ?? Number.POSITIVE_INFINITY;
  let split = 0;
  while (split < committed.length && committed[split]!.index < firstWritten && committed[split]!.type !== 'confChange') split++;
  if (split === committed.length) return [committed, []];
  return [committed.slice(0, split), committed.slice(split)];
}
