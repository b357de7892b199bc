/**
 * The vocabulary of the pure Raft core: entries, messages, hard state, configuration,
 * snapshots and the Ready contract. No I/O, no clock, no randomness lives here.
 *
 * Invariants are written on the fields they govern; the core asserts them where data enters
 * (from `step`, from `Storage`).
 */

/** A node's id: a short printable string (`[A-Za-z0-9_.-]{1,64}`), unique in its group. */
export type NodeId = string;

/** Entry kinds. `normal` carries application data; `confChange` carries an encoded {@link ConfChange}. */
export type EntryType = 'normal' | 'confChange';

/** One log entry. Invariant: `index >= 1`, `term >= 1`; `data` is owned by the log once appended. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/**
 * What must be durable before a node answers anything that depends on it.
 * Invariant: `term` never decreases; `vote` is `''` or a node id; `commit` never decreases
 * while the log holds the entries it covers.
 */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | '';
  readonly commit: number;
}

/**
 * A configuration. `votersOutgoing` is non-empty only in a joint configuration (C_old,new):
 * decisions then need a majority of `voters` AND a majority of `votersOutgoing`.
 * `learnersNext` are voters of the outgoing config that become learners when joint is left.
 * `autoLeave`: the leader proposes leaving the joint config by itself once it is committed.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly learnersNext: readonly NodeId[];
  readonly autoLeave: boolean;
}

/** One step of a configuration change. */
export interface ConfChangeSingle {
  readonly type: 'addVoter' | 'removeVoter' | 'addLearner';
  readonly node: NodeId;
}

/**
 * A configuration change, proposed through `proposeConfChange`.
 * - one change with `transition: 'auto'`: applied directly when it changes at most one voter
 *   (simple change), otherwise through a joint configuration left automatically;
 * - `transition: 'joint'`: always enter a joint configuration, leave it with an empty change;
 * - `changes: []`: leave the current joint configuration;
 * - `transition: 'reset'`: written only by `resetPeers` (UNSAFE): the configuration becomes
 *   exactly the `addVoter`/`addLearner` nodes listed, whatever it was. Never proposed.
 * `context` is opaque to the core (the runtime keeps addresses there).
 */
export interface ConfChange {
  readonly changes: readonly ConfChangeSingle[];
  readonly transition: 'auto' | 'joint' | 'reset';
  readonly context: Uint8Array;
}

/** The metadata of a snapshot: it covers the log up to and including `index`. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/**
 * A snapshot as the core sees it: metadata plus opaque bytes. The runtime may keep the real
 * state as a file set and put only a descriptor in `data`; the core never looks inside.
 */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export type MessageType =
  | 'MsgApp' // leader -> follower: entries after (logTerm, index), commit
  | 'MsgAppResp' // follower -> leader: index = last matching index, or reject with rejectHint/logTerm
  | 'MsgVote'
  | 'MsgVoteResp'
  | 'MsgPreVote'
  | 'MsgPreVoteResp'
  | 'MsgHeartbeat'
  | 'MsgHeartbeatResp'
  | 'MsgSnap' // leader -> follower: install `snapshot`
  | 'MsgProp' // follower -> leader: forwarded proposal (entries)
  | 'MsgTransferLeader' // any -> leader: transfer to `from`
  | 'MsgTimeoutNow' // leader -> transferee: campaign now, ignoring lease
  | 'MsgReadIndex' // follower -> leader: a read-index request, `context` is the request id
  | 'MsgReadIndexResp'; // leader -> follower: `index` is the read index for `context`

/**
 * A message between peers of one group. Every field is always present (zero values when
 * unused) so encoders and the simulator need no optional checks.
 */
export interface Message {
  readonly groupId: string;
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** MsgApp: term of the entry at `index`. MsgAppResp reject: term at `rejectHint`. Votes: candidate's last term. */
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  /** Present on MsgSnap only. */
  readonly snapshot: Snapshot | null;
  /** MsgReadIndex/Resp, heartbeats: request context; MsgVote: `transfer` marker bytes when forced. */
  readonly context: Uint8Array;
  /**
   * MsgApp without entries sent only to carry a new commit index, to a follower the leader knows
   * holds `index` (replicating, match = index): a follower that accepts it does not answer, since
   * the answer would tell the leader nothing. A rejection is still answered.
   */
  readonly commitOnly: boolean;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state, reported when it changes. */
export interface SoftState {
  readonly leader: NodeId | '';
  readonly role: Role;
}

/** The answer to a `readIndex(context)` request: reads at `index` (once applied) are linearizable. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/**
 * The output of the core, as ordered duties for the runtime:
 * 1. send `messages` at once (leader appends and heartbeats: safe before the leader's own
 *    persistence; the leader counts itself only after `advance`);
 * 2. persist `snapshot` (if any), then `entries` (append, truncating any suffix from
 *    `entries[0].index`), then `hardState` (if any); fsync when `mustSync`;
 * 3. send `messagesAfterPersist` (votes, append responses: they promise durable state);
 * 4. apply `committedEntries` in order (they are durable on a quorum);
 * 5. call `advance(ready)`.
 * Exactly one Ready is outstanding at a time.
 */
export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  readonly mustSync: boolean;
}

/** The result of a proposal: the place the entry took in the leader's log, or why it did not. */
export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: ProposeRefusal; readonly leader: NodeId | '' };

export type ProposeRefusal =
  | 'notLeader' // this node is not the leader (leader: the hint, possibly '')
  | 'transferring' // a leader transfer is in progress
  | 'confChangePending' // a configuration change is not yet applied, or no entry of this term committed yet
  | 'tooLarge' // the uncommitted log passed `uncommittedBytesMax`
  | 'invalid'; // a malformed configuration change

/** A seeded source of randomness, injected so a run replays exactly. Returns an integer in [0, n). */
export type RandomInt = (n: number) => number;

/** Deliberately broken behaviours, used only by the simulator to prove its checks can fail. */
export type CanaryName =
  | 'commit-previous-term' // count entries of an earlier term toward commit (Figure 8)
  | 'double-vote' // grant a second vote in the same term
  | 'ack-before-persist' // acknowledge appends (and count the leader) before persisting
  | 'forget-vote'; // lose the vote across a restart

/** Configuration of one core instance. All durations are in ticks. */
export interface RaftConfig {
  readonly id: NodeId;
  readonly groupId: string;
  /** Election timeout is randomized in [electionTicks, 2 * electionTicks). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly random: RandomInt;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Pipelining: at most this many MsgApp in flight to one follower. */
  readonly inflightMessagesMax: number;
  /** Pipelining: at most this many entry bytes in flight to one follower. */
  readonly inflightBytesMax: number;
  /** Batching: at most this many entry bytes in one MsgApp (at least one entry is always sent). */
  readonly messageBytesMax: number;
  /** Proposals are refused once uncommitted entry bytes pass this bound. */
  readonly uncommittedBytesMax: number;
  /** The index up to which entries were applied before this start (0 on a fresh node). */
  readonly applied: number;
  /** At most this many entry bytes in one Ready's `committedEntries` (at least one entry). Default 64 MiB. */
  readonly committedEntriesBytesMax?: number;
  /** Test-only: a deliberately broken variant. Never set in production. */
  readonly canary?: CanaryName;
}

/** Errors a Storage may throw; anything else is a programmer error. */
export class StorageCompactedError extends Error {
  override readonly name = 'StorageCompactedError';
  constructor(readonly index: number) {
    super(`raft storage: index ${index} is compacted`);
  }
}
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  constructor(readonly index: number) {
    super(`raft storage: index ${index} is not available`);
  }
}

/**
 * The durable log as the core reads it (etcd-io/raft's Storage). The runtime keeps it in step
 * with what it persisted; the core only reads. Entries in `[firstIndex(), lastIndex()]` are
 * available; `term(firstIndex() - 1)` is the snapshot's term.
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at most `bytesMax` of data (but at least one). Throws StorageCompactedError / StorageUnavailableError. */
  entries(lo: number, hi: number, bytesMax: number): Entry[];
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/** A follower's replication state as the leader sees it. */
export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly recentActive: boolean;
  readonly learner: boolean;
}

/** A point-in-time status of one core. */
export interface Status {
  readonly id: NodeId;
  readonly groupId: string;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly lastIndex: number;
  readonly confState: ConfState;
  /** Present on the leader only. */
  readonly progress: Readonly<Record<NodeId, ProgressStatus>> | null;
  readonly leadTransferee: NodeId | '';
  /** Messages `step` dropped since start: another group, another destination, malformed. */
  readonly messagesDropped: number;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/**
 * A message with zero values in every field `fields` does not set (term 0, no entries, no
 * snapshot, empty context).
 */
export function makeMessage(fields: Partial<Message> & Pick<Message, 'groupId' | 'type' | 'from' | 'to'>): Message {
  return {
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: null,
    context: EMPTY_BYTES,
    commitOnly: false,
    ...fields,
  };
}

export const EMPTY_CONF_STATE: ConfState = {
  voters: [],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
};
