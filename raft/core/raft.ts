/**
 * The Raft protocol (etcd-io/raft's raft.go): roles, elections (with pre-vote and
 * check-quorum), replication with flow control, commitment, configuration changes, leader
 * transfer, ReadIndex and snapshots. Pure and single-threaded: input through `step`, `tick`
 * and the proposal methods; output queued in `messages`, `messagesAfterPersist`, `readStates`
 * and the log, collected by raw-node.ts into a Ready.
 *
 * Roles swap their step and tick functions (`become*`); illegal transitions throw.
 */
import { assert, RaftConfigError } from './assert.ts';
import { ConfChangeError, planConfChange, restoreConfig, type ConfigChangeResult } from './confchange.ts';
import { decodeConfChange, encodeConfChange } from './conf-change-codec.ts';
import { entriesBytes, RaftLog } from './log.ts';
import type { Progress } from './progress.ts';
import { READ_INDEX_PENDING_MAX, ReadOnly, type ReadRequest } from './read-only.ts';
import { ProgressTracker } from './tracker.ts';
import {
  EMPTY_BYTES,
  makeMessage,
  StorageCompactedError,
  StorageUnavailableError,
  type CanaryName,
  type ConfChange,
  type ConfState,
  type Entry,
  type EntryType,
  type HardState,
  type Message,
  type MessageType,
  type NodeId,
  type ProgressStatus,
  type ProposeRefusal,
  type ProposeResult,
  type RaftConfig,
  type RandomInt,
  type ReadState,
  type Role,
  type Snapshot,
  type SoftState,
  type Status,
  type Storage,
} from './types.ts';
import { isValidNodeId, messageProblem } from './validation.ts';

/**
 * The context a candidate puts in MsgVote when it campaigns on MsgTimeoutNow: voters that
 * heard a live leader still answer it (the leader asked for the election).
 */
export const TRANSFER_LEADER_CONTEXT: Uint8Array = new TextEncoder().encode('raft:transfer-leader');

/** Default bound of one Ready's committed entries, in bytes of entry data. */
export const COMMITTED_ENTRIES_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

type CampaignKind = 'preElection' | 'election' | 'transfer';

/** Messages that promise durable state (term, vote, log): sent only after the Ready is persisted. */
const AFTER_PERSIST_TYPES: ReadonlySet<MessageType> = new Set<MessageType>(['MsgAppResp', 'MsgVote', 'MsgVoteResp', 'MsgPreVoteResp']);

type OutgoingMessage = Partial<Message> & Pick<Message, 'type' | 'to'>;

interface EntryDraft {
  readonly type: EntryType;
  readonly data: Uint8Array;
}

function isTransferContext(context: Uint8Array): boolean {
  return context.length === TRANSFER_LEADER_CONTEXT.length && context.every((byte, i) => byte === TRANSFER_LEADER_CONTEXT[i]);
}

function validateConfig(config: RaftConfig): void {
  const positive = (name: string, value: number): void => {
    if (!Number.isSafeInteger(value) || value < 1) throw new RaftConfigError(`raft config: ${name} must be an integer >= 1, got ${value}`);
  };
  if (!isValidNodeId(config.id)) throw new RaftConfigError(`raft config: invalid id ${JSON.stringify(config.id)}`);
  if (typeof config.groupId !== 'string') throw new RaftConfigError('raft config: groupId must be a string');
  positive('heartbeatTicks', config.heartbeatTicks);
  positive('electionTicks', config.electionTicks);
  if (config.electionTicks <= config.heartbeatTicks) throw new RaftConfigError('raft config: electionTicks must exceed heartbeatTicks');
  positive('inflightMessagesMax', config.inflightMessagesMax);
  positive('inflightBytesMax', config.inflightBytesMax);
  positive('messageBytesMax', config.messageBytesMax);
  positive('uncommittedBytesMax', config.uncommittedBytesMax);
  if (config.committedEntriesBytesMax !== undefined) positive('committedEntriesBytesMax', config.committedEntriesBytesMax);
  if (!Number.isSafeInteger(config.applied) || config.applied < 0) throw new RaftConfigError('raft config: applied must be an integer >= 0');
  if (typeof config.random !== 'function') throw new RaftConfigError('raft config: random must be a function');
}

/**
 * One member's protocol state. Driven only through RawNode (single-threaded); the public
 * fields are read by RawNode to build a Ready and by tests.
 */
export class Raft {
  readonly id: NodeId;
  readonly groupId: string;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly messageBytesMax: number;
  readonly uncommittedBytesMax: number;
  /** Test-only broken behaviour (see CanaryName). */
  readonly canary: CanaryName | undefined;
  readonly #random: RandomInt;

  term = 0;
  vote: NodeId | '' = '';
  lead: NodeId | '' = '';
  role: Role = 'follower';
  readonly log: RaftLog;
  tracker: ProgressTracker;
  /** This node is a learner in the current configuration. */
  isLearner = false;

  /** Outgoing messages safe to send before persisting (leader appends, heartbeats, ...). */
  messages: Message[] = [];
  /** Outgoing messages to send only once the Ready is persisted (votes, append responses). */
  messagesAfterPersist: Message[] = [];
  readStates: ReadState[] = [];

  /** Follower/candidate: ticks since the last valid leader message or election. Leader: ticks since the last check-quorum round. */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  leadTransferee: NodeId | '' = '';
  /** Leader: the index of the last configuration entry it may not have applied; a new change waits for it. */
  pendingConfIndex = 0;
  /** Leader: bytes of entry data appended but not yet committed and applied. */
  uncommittedBytes = 0;
  readOnly = new ReadOnly();
  /** Leader: ReadIndex requests waiting for the first commit of its term. Bounded by READ_INDEX_PENDING_MAX. */
  pendingReadRequests: ReadRequest[] = [];
  /** resetPeers forced the configuration: earlier configuration entries are ignored until the reset entry applies. */
  configForced = false;
  /** resetPeers' change, appended as an entry when this node next becomes leader. */
  forcedConfChange: ConfChange | null = null;
  messagesDropped = 0;

  #step!: (m: Message) => void;
  #tick!: () => void;

  constructor(config: RaftConfig, storage: Storage) {
    validateConfig(config);
    this.id = config.id;
    this.groupId = config.groupId;
    this.electionTicks = config.electionTicks;
    this.heartbeatTicks = config.heartbeatTicks;
    this.preVote = config.preVote;
    this.checkQuorum = config.checkQuorum;
    this.messageBytesMax = config.messageBytesMax;
    this.uncommittedBytesMax = config.uncommittedBytesMax;
    this.canary = config.canary;
    this.#random = config.random;
    this.log = new RaftLog(storage, config.committedEntriesBytesMax ?? COMMITTED_ENTRIES_BYTES_MAX_DEFAULT);
    this.tracker = new ProgressTracker(config.inflightMessagesMax, config.inflightBytesMax);

    const { hardState, confState } = storage.initialState();
    const restored = restoreConfig(this.tracker, this.log.lastIndex(), confState);
    this.tracker.config = restored.config;
    this.tracker.progress = restored.progress;
    if (hardState.term !== 0 || hardState.vote !== '' || hardState.commit !== 0) this.#loadState(hardState);
    if (config.applied > 0) {
      if (config.applied < this.log.applied) {
        throw new RaftConfigError(`raft config: applied ${config.applied} is below the snapshot index ${this.log.applied}: restore the state machine from the snapshot first`);
      }
      if (config.applied > this.log.committed) {
        throw new RaftConfigError(`raft config: applied ${config.applied} is beyond the commit index ${this.log.committed}`);
      }
      this.log.appliedTo(config.applied);
    }
    this.becomeFollower(this.term, '');
    this.isLearner = this.tracker.progress.get(this.id)?.isLearner ?? false;
  }

  #loadState(hardState: HardState): void {
    assert(
      hardState.commit >= this.log.committed && hardState.commit <= this.log.lastIndex(),
      () => `storage: hard state commit ${hardState.commit} outside [${this.log.committed}, ${this.log.lastIndex()}]`,
    );
    this.log.committed = hardState.commit;
    this.term = hardState.term;
    this.vote = hardState.vote;
    // Canary 'forget-vote': lose the vote across a restart (may vote twice in a term).
    if (this.canary === 'forget-vote') this.vote = '';
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { leader: this.lead, role: this.role };
  }

  // ---------------------------------------------------------------- sending

  #send(fields: OutgoingMessage): void {
    const m: Message = makeMessage({ groupId: this.groupId, from: this.id, term: this.term, ...fields });
    assert(m.to !== this.id, () => `raft: ${m.type} addressed to self`);
    let afterPersist = AFTER_PERSIST_TYPES.has(m.type);
    // Canary 'ack-before-persist': followers acknowledge appends before persisting them.
    if (this.canary === 'ack-before-persist' && m.type === 'MsgAppResp') afterPersist = false;
    if (afterPersist) this.messagesAfterPersist.push(m);
    else this.messages.push(m);
  }

  /** Sends entries (or a snapshot) to `to` if its progress allows. Returns true if a message went out. */
  #maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: number;
    let entries: Entry[] = [];
    try {
      prevTerm = this.log.term(prevIndex);
      // A full window sends no entries, only an empty MsgApp that gets acked or rejected.
      if (pr.state !== 'replicate' || !pr.inflights.full()) entries = this.log.entries(pr.next, this.messageBytesMax);
    } catch (error) {
      if (error instanceof StorageCompactedError) return this.#maybeSendSnapshot(to, pr);
      if (error instanceof StorageUnavailableError) return false;
      throw error;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    // The follower cannot commit past what this message makes it hold.
    const commit = Math.min(this.log.committed, prevIndex + entries.length);
    // The follower is known to hold prevIndex: its answer to an empty append would say only that.
    const commitOnly = entries.length === 0 && pr.state === 'replicate' && prevIndex === pr.match;
    this.#send({ type: 'MsgApp', to, index: prevIndex, logTerm: prevTerm, entries, commit, commitOnly });
    pr.sentCommit = Math.max(pr.sentCommit, commit);
    pr.updateOnEntriesSend(entries.length, entriesBytes(entries), pr.next);
    return true;
  }

  #maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    let snapshot;
    try {
      snapshot = this.log.snapshot();
    } catch (error) {
      if (error instanceof StorageUnavailableError) return false;
      throw error;
    }
    const firstIndex = this.log.firstIndex();
    assert(
      snapshot.meta.index > 0 && snapshot.meta.index >= firstIndex - 1,
      () => `raft: the log is compacted to ${firstIndex - 1} but the snapshot is at ${snapshot.meta.index}`,
    );
    this.#send({ type: 'MsgSnap', to, snapshot });
    pr.becomeSnapshot(snapshot.meta.index);
    return true;
  }

  #bcastAppend(): void {
    for (const id of this.tracker.ids()) if (id !== this.id) this.#maybeSendAppend(id, true);
  }

  #bcastHeartbeat(context: Uint8Array): void {
    for (const id of this.tracker.ids()) {
      if (id === this.id) continue;
      const pr = this.tracker.progress.get(id)!;
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(pr.match, this.log.committed);
      this.#send({ type: 'MsgHeartbeat', to: id, commit, context });
      pr.sentCommit = Math.max(pr.sentCommit, commit);
    }
  }

  #sendTimeoutNow(to: NodeId): void {
    this.#send({ type: 'MsgTimeoutNow', to });
    // A leader outside the voters is done once its successor holds its whole log and was told
    // to campaign (its log no longer grows, so it grants that successor its vote if asked).
    if (this.role === 'leader' && !this.tracker.isVoter(this.id)) this.becomeFollower(this.term, '');
  }

  // ---------------------------------------------------------------- roles

  #reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = '';
    }
    this.lead = '';
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTicks + this.#random(this.electionTicks);
    assert(
      this.randomizedElectionTimeout >= this.electionTicks && this.randomizedElectionTimeout < 2 * this.electionTicks,
      () => `raft: random(${this.electionTicks}) gave ${this.randomizedElectionTimeout - this.electionTicks}`,
    );
    this.leadTransferee = '';
    this.tracker.resetVotes();
    const lastIndex = this.log.lastIndex();
    for (const [id, pr] of this.tracker.progress) {
      const fresh = this.tracker.newProgress(lastIndex + 1, pr.isLearner);
      fresh.recentActive = false;
      if (id === this.id) {
        // The leader counts itself only for what is durable (see onPersisted).
        // Canary 'ack-before-persist': count the whole log, durable or not.
        fresh.match = this.canary === 'ack-before-persist' ? lastIndex : this.log.persistedIndex();
      }
      this.tracker.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadRequests = [];
  }

  becomeFollower(term: number, lead: NodeId | ''): void {
    this.#step = this.#stepFollower;
    this.#reset(term);
    this.#tick = this.#tickElection;
    this.lead = lead;
    this.role = 'follower';
  }

  becomePreCandidate(): void {
    assert(this.role !== 'leader', 'raft: invalid transition leader -> preCandidate');
    // A pre-candidate keeps its term and vote: it only asks whether it could win.
    this.#step = this.#stepCandidate;
    this.tracker.resetVotes();
    this.#tick = this.#tickElection;
    this.lead = '';
    this.role = 'preCandidate';
  }

  becomeCandidate(): void {
    assert(this.role !== 'leader', 'raft: invalid transition leader -> candidate');
    this.#step = this.#stepCandidate;
    this.#reset(this.term + 1);
    this.#tick = this.#tickElection;
    this.vote = this.id;
    this.role = 'candidate';
  }

  becomeLeader(): void {
    assert(this.role !== 'follower', 'raft: invalid transition follower -> leader');
    this.#step = this.#stepLeader;
    this.#reset(this.term);
    this.#tick = this.#tickHeartbeat;
    this.lead = this.id;
    this.role = 'leader';
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Configuration entries of earlier terms may be in the log: a new change waits until they apply.
    this.pendingConfIndex = this.log.lastIndex();
    const appended = this.#appendEntries([{ type: 'normal', data: EMPTY_BYTES }]);
    assert(appended !== null, 'raft: the empty entry of a new leader was refused');
    if (this.forcedConfChange !== null) {
      const index = this.#appendEntries([{ type: 'confChange', data: encodeConfChange(this.forcedConfChange) }]);
      if (index !== null) {
        this.pendingConfIndex = index;
        this.forcedConfChange = null;
      }
    }
    this.#bcastAppend();
  }

  // ---------------------------------------------------------------- ticks

  tick(): void {
    this.#tick();
  }

  #tickElection = (): void => {
    this.electionElapsed++;
    if (this.#promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.#hup(this.preVote ? 'preElection' : 'election');
    }
  };

  #tickHeartbeat = (): void => {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.#checkQuorum();
      // A transfer that did not finish within an election timeout is abandoned (a leader
      // outside the voters tries again, possibly with another voter).
      if (this.role === 'leader' && this.leadTransferee !== '') this.leadTransferee = '';
      if (this.role === 'leader' && !this.tracker.isVoter(this.id)) this.#handOver();
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.#bcastHeartbeat(this.readOnly.lastPendingContext());
    }
  };

  #checkQuorum(): void {
    if (!this.tracker.quorumActive()) {
      this.becomeFollower(this.term, '');
      return;
    }
    for (const [id, pr] of this.tracker.progress) if (id !== this.id) pr.recentActive = false;
  }

  // ---------------------------------------------------------------- elections

  /** Start an election now (API `campaign`). */
  campaign(): void {
    this.#hup(this.preVote ? 'preElection' : 'election');
  }

  #promotable(): boolean {
    const pr = this.tracker.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.log.hasPendingSnapshot();
  }

  #hasUnappliedConfChanges(): boolean {
    let lo = this.log.applied + 1;
    const hi = this.log.committed + 1;
    while (lo < hi) {
      const entries = this.log.slice(lo, hi, this.log.committedEntriesBytesMax);
      if (entries.some((entry) => entry.type === 'confChange')) return true;
      lo += entries.length;
    }
    return false;
  }

  #hup(kind: CampaignKind): void {
    if (this.role === 'leader' || !this.#promotable()) return;
    // Campaigning with a configuration about to change could count the wrong voters.
    if (this.#hasUnappliedConfChanges()) return;
    this.#campaign(kind);
  }

  #campaign(kind: CampaignKind): void {
    let voteType: MessageType;
    let term: number;
    if (kind === 'preElection') {
      this.becomePreCandidate();
      voteType = 'MsgPreVote';
      // A pre-vote asks for the term it would use, without taking it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = 'MsgVote';
      term = this.term;
    }
    // The own vote counts at once: MsgVote waits in messagesAfterPersist until the vote is durable.
    const result = this.#poll(this.id, true);
    if (result === 'won') {
      if (kind === 'preElection') this.#campaign('election');
      else this.becomeLeader();
      return;
    }
    const context = kind === 'transfer' ? TRANSFER_LEADER_CONTEXT : EMPTY_BYTES;
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.tracker.voterIds()) {
      if (id !== this.id) this.#send({ type: voteType, to: id, term, index: lastIndex, logTerm: lastTerm, context });
    }
  }

  #poll(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    this.tracker.recordVote(id, granted);
    return this.tracker.tallyVotes();
  }

  #handleVoteRequest(m: Message): void {
    const responseType: MessageType = m.type === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp';
    let canVote =
      this.vote === m.from ||
      (this.vote === '' && this.lead === '') ||
      (m.type === 'MsgPreVote' && m.term > this.term);
    // Canary 'double-vote': grant a vote even if already voted for another in this term.
    if (this.canary === 'double-vote' && m.type === 'MsgVote' && this.lead === '') canVote = true;
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // A granted pre-vote answers with the term asked for, so the pre-candidate counts it.
      this.#send({ type: responseType, to: m.from, term: m.term });
      if (m.type === 'MsgVote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.#rejectVote(m.from, responseType);
    }
  }

  /** A vote rejection carries our commit index and the term there (see #learnCommit). */
  #rejectVote(to: NodeId, type: MessageType): void {
    const commit = this.log.committed;
    this.#send({ type, to, term: this.term, reject: true, commit, logTerm: this.log.termOrZero(commit) });
  }

  /**
   * A voter that rejected us told its commit index and the term there. Commitment is a fact
   * about the log, whoever tells it: if we hold that entry, everything up to it is committed.
   * Without this, a node that still needs the vote of a removed member (configurations switch
   * when applied, not when committed) could wait forever: the removed member refuses every
   * candidate behind its log, and no leader is left to tell the others the change committed.
   */
  #learnCommit(index: number, term: number): void {
    if (this.role === 'leader' || term === 0 || index <= this.log.committed || index > this.log.lastIndex()) return;
    if (this.log.matchTerm(index, term)) this.log.commitTo(index);
  }

  // ---------------------------------------------------------------- step

  /** Feeds a message from a peer. Malformed, misaddressed or foreign-group messages are dropped and counted. */
  step(m: Message): void {
    if (messageProblem(m, this.id, this.groupId) !== null) {
      this.messagesDropped++;
      return;
    }
    // Forwarded requests carry no term obligations (etcd's local messages).
    if (m.type === 'MsgProp' || m.type === 'MsgReadIndex') {
      this.#step(m);
      return;
    }
    if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        const forced = isTransferContext(m.context);
        // While a live leader is heard from, a vote request is a disruption: ignore it (check
        // quorum), and never grant a pre-vote.
        const leaseApplies = this.checkQuorum || m.type === 'MsgPreVote';
        const inLease = leaseApplies && this.lead !== '' && this.electionElapsed < this.electionTicks;
        if (!forced && inLease) return;
      }
      if (m.type === 'MsgPreVote') {
        // Never change term in response to a pre-vote.
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // The term is taken only once a quorum granted the pre-vote.
      } else {
        const leader = m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap' ? m.from : '';
        this.becomeFollower(m.term, leader);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
        // A stale leader (partitioned while we moved on) learns the new term and steps down.
        this.#send({ type: 'MsgAppResp', to: m.from });
      } else if (m.type === 'MsgPreVote') {
        this.#rejectVote(m.from, 'MsgPreVoteResp');
      } else if (m.type === 'MsgVote') {
        // A candidate behind our term learns it (Raft §5.1) rather than asking in vain forever
        // while others (say a removed node unaware of its removal) keep raising the term. A
        // term carrier, not a vote answer: it cannot be counted in a later election.
        this.#send({ type: 'MsgAppResp', to: m.from });
      } else if (m.type === 'MsgVoteResp' || m.type === 'MsgPreVoteResp') {
        if (m.reject) this.#learnCommit(m.commit, m.logTerm);
      }
      return;
    }
    if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
      this.#handleVoteRequest(m);
      return;
    }
    if ((m.type === 'MsgVoteResp' || m.type === 'MsgPreVoteResp') && m.reject) this.#learnCommit(m.commit, m.logTerm);
    this.#step(m);
  }

  #stepFollower = (m: Message): void => {
    switch (m.type) {
      case 'MsgApp':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleSnapshot(m);
        return;
      case 'MsgTransferLeader':
        if (this.lead !== '') this.#send({ type: 'MsgTransferLeader', from: m.from, to: this.lead });
        return;
      case 'MsgTimeoutNow':
        // A transfer never uses pre-vote: the leader asked for this election.
        this.#hup('transfer');
        return;
      case 'MsgReadIndex':
        if (this.lead !== '') this.#send({ type: 'MsgReadIndex', from: m.from, to: this.lead, term: 0, context: m.context });
        return;
      case 'MsgReadIndexResp':
        this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return; // MsgProp: the runtime forwards proposals; others are stale answers.
    }
  };

  #stepCandidate = (m: Message): void => {
    const responseType: MessageType = this.role === 'preCandidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    switch (m.type) {
      case 'MsgApp':
        this.becomeFollower(m.term, m.from);
        this.#handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.becomeFollower(m.term, m.from);
        this.#handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.becomeFollower(m.term, m.from);
        this.#handleSnapshot(m);
        return;
      default:
        if (m.type !== responseType) return;
        switch (this.#poll(m.from, !m.reject)) {
          case 'won':
            if (this.role === 'preCandidate') this.#campaign('election');
            else this.becomeLeader();
            return;
          case 'lost':
            this.becomeFollower(this.term, '');
            return;
          case 'pending':
            return;
        }
    }
  };

  #stepLeader = (m: Message): void => {
    if (m.type === 'MsgProp') {
      this.#handleForwardedProposal(m);
      return;
    }
    if (m.type === 'MsgReadIndex') {
      this.#handleReadIndex({ from: m.from, context: m.context });
      return;
    }
    const pr = this.tracker.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case 'MsgAppResp':
        this.#handleAppendResponse(m, pr);
        return;
      case 'MsgHeartbeatResp':
        this.#handleHeartbeatResponse(m, pr);
        return;
      case 'MsgTransferLeader':
        this.#handleTransferLeader(m.from);
        return;
      default:
        return;
    }
  };

  // ---------------------------------------------------------------- follower handlers

  #handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      this.#send({ type: 'MsgAppResp', to: m.from, index: this.log.committed });
      return;
    }
    const lastNewIndex = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNewIndex !== null) {
      if (m.commitOnly) return;
      this.#send({ type: 'MsgAppResp', to: m.from, index: lastNewIndex });
      return;
    }
    // Fast backtracking: point the leader at the last index that may match, with its term,
    // so it skips every entry of a conflicting term at once.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.#send({ type: 'MsgAppResp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  #handleHeartbeat(m: Message): void {
    // The leader caps the commit at what it believes we hold; a node whose data was wiped
    // (rejoining to be rebuilt by a snapshot) holds less than that: never commit past our log.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.#send({ type: 'MsgHeartbeatResp', to: m.from, context: m.context });
  }

  #handleSnapshot(m: Message): void {
    const snapshot = m.snapshot!;
    const index = this.#restore(snapshot) ? this.log.lastIndex() : this.log.committed;
    this.#send({ type: 'MsgAppResp', to: m.from, index });
  }

  /** Installs `snapshot` if it is newer than our commit. Returns true if the log was replaced. */
  #restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.meta;
    if (index <= this.log.committed) return false;
    assert(this.role === 'follower', () => `raft: restoring a snapshot as ${this.role}`);
    const inSnapshot = [confState.voters, confState.learners, confState.votersOutgoing].some((ids) => ids.includes(this.id));
    // A member never installs a snapshot that leaves it out. A node outside its own
    // configuration (joining: none yet, or one from a snapshot taken before its addition, as
    // the leader's may be) takes the group's newer configuration from it.
    const member = this.tracker.progress.has(this.id);
    if (!inSnapshot && member) return false;
    if (this.log.matchTerm(index, term)) {
      // We already hold the snapshot's last entry: fast-forward the commit only.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    const restored = restoreConfig(this.tracker, this.log.lastIndex(), confState);
    this.#switchToConfig(restored);
    return true;
  }

  // ---------------------------------------------------------------- leader handlers

  #handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let nextProbeIndex = m.rejectHint;
      if (m.logTerm > 0) nextProbeIndex = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbeIndex)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.#maybeSendAppend(m.from, true);
      }
      return;
    }
    if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === 'probe')) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
      // Caught up from the log again, whatever snapshot it actually installed.
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
    if (this.#maybeCommit()) this.#bcastAppend();
    // The window may have room for several messages now.
    while (this.#maybeSendAppend(m.from, false)) {
      // keep sending
    }
    // The follower may lack the commit index (it acked after the commit moved): send it now
    // rather than at the next heartbeat.
    if (pr.sentCommit < Math.min(this.log.committed, pr.match)) this.#maybeSendAppend(m.from, true);
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.#sendTimeoutNow(m.from);
  }

  #handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    if (pr.match < this.log.lastIndex() || pr.state === 'probe') this.#maybeSendAppend(m.from, true);
    if (m.context.length === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === null || this.tracker.voteResultOf(acks) !== 'won') return;
    for (const status of this.readOnly.advance(m.context)) this.#respondToRead(status.request, status.index);
  }

  #handleTransferLeader(transferee: NodeId): void {
    const pr = this.tracker.progress.get(transferee);
    if (pr === undefined || pr.isLearner) return;
    if (this.leadTransferee !== '') {
      if (this.leadTransferee === transferee) return;
      this.leadTransferee = '';
    }
    if (transferee === this.id) return;
    // The transfer must finish within one election timeout.
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.log.lastIndex()) this.#sendTimeoutNow(transferee);
    else this.#maybeSendAppend(transferee, true);
  }

  /** Commits what a quorum stored, counting only entries of the current term (§5.4.2, Figure 8). */
  #maybeCommit(): boolean {
    const index = this.tracker.committed();
    if (index <= this.log.committed) return false;
    // Canary 'commit-previous-term': count entries of an earlier term toward commit (Figure 8).
    if (this.canary !== 'commit-previous-term' && this.log.termOrZero(index) !== this.term) return false;
    this.log.commitTo(index);
    this.#releasePendingReads();
    return true;
  }

  #committedEntryInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term;
  }

  // ---------------------------------------------------------------- proposals

  /** Appends entries of the current term; returns the first index, or null past uncommittedBytesMax. */
  #appendEntries(drafts: readonly EntryDraft[]): number | null {
    const firstIndex = this.log.lastIndex() + 1;
    const entries: Entry[] = drafts.map((draft, i) => ({ term: this.term, index: firstIndex + i, type: draft.type, data: draft.data }));
    const sizeBytes = entriesBytes(entries);
    // One oversized proposal is accepted when nothing is uncommitted, so progress is always possible.
    if (this.uncommittedBytes > 0 && sizeBytes > 0 && this.uncommittedBytes + sizeBytes > this.uncommittedBytesMax) return null;
    this.uncommittedBytes += sizeBytes;
    this.log.append(entries);
    // Canary 'ack-before-persist': the leader counts itself as soon as it appends.
    if (this.canary === 'ack-before-persist') {
      this.tracker.progress.get(this.id)?.maybeUpdate(this.log.lastIndex());
      this.#maybeCommit();
    }
    return firstIndex;
  }

  #refusal(reason: ProposeRefusal): ProposeResult {
    return { ok: false, reason, leader: this.lead };
  }

  #proposalRefusal(): ProposeResult | null {
    if (this.role !== 'leader') return this.#refusal('notLeader');
    // A leader removed or demoted is handing over.
    if (this.leadTransferee !== '' || !this.tracker.isVoter(this.id)) return this.#refusal('transferring');
    return null;
  }

  propose(data: Uint8Array): ProposeResult {
    const refusal = this.#proposalRefusal();
    if (refusal !== null) return refusal;
    const index = this.#appendEntries([{ type: 'normal', data }]);
    if (index === null) return this.#refusal('tooLarge');
    this.#bcastAppend();
    return { ok: true, index, term: this.term };
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    const refusal = this.#proposalRefusal();
    if (refusal !== null) return refusal;
    // One change at a time, and only once this leader committed an entry of its term (its
    // configuration is then known to be the group's).
    if (!this.#committedEntryInCurrentTerm() || this.pendingConfIndex > this.log.applied) return this.#refusal('confChangePending');
    if (cc.transition === 'reset') return this.#refusal('invalid');
    try {
      planConfChange(this.tracker, this.log.lastIndex(), cc);
    } catch (error) {
      if (error instanceof ConfChangeError) return this.#refusal('invalid');
      throw error;
    }
    const index = this.#appendEntries([{ type: 'confChange', data: encodeConfChange(cc) }]);
    if (index === null) return this.#refusal('tooLarge');
    this.pendingConfIndex = index;
    this.#bcastAppend();
    return { ok: true, index, term: this.term };
  }

  /** A MsgProp from a peer: handled like a local proposal, dropped when refused. */
  #handleForwardedProposal(m: Message): void {
    if (m.entries.length === 0) return;
    if (m.entries.every((entry) => entry.type === 'normal')) {
      if (this.#proposalRefusal() !== null) return;
      if (this.#appendEntries(m.entries.map((entry) => ({ type: 'normal', data: entry.data }))) !== null) this.#bcastAppend();
      return;
    }
    if (m.entries.length !== 1) return;
    let cc: ConfChange;
    try {
      cc = decodeConfChange(m.entries[0]!.data);
    } catch {
      return;
    }
    this.proposeConfChange(cc);
  }

  // ---------------------------------------------------------------- configuration

  /** Applies a committed configuration change (called by the runtime while applying the entry). */
  applyConfChange(cc: ConfChange): ConfState {
    // After resetPeers, earlier configuration entries must not undo the forced configuration.
    if (this.configForced && cc.transition !== 'reset') return this.tracker.confState();
    let result: ConfigChangeResult;
    try {
      result = planConfChange(this.tracker, this.log.lastIndex(), cc);
    } catch (error) {
      if (error instanceof ConfChangeError) assert(false, `raft: committed configuration change cannot apply: ${error.message}`);
      throw error;
    }
    if (cc.transition === 'reset') {
      // A reset entry applied (ours or another survivor's): the forcing is durable, and must
      // never be appended again (it would undo later changes).
      this.configForced = false;
      this.forcedConfChange = null;
    }
    return this.#switchToConfig(result);
  }

  #switchToConfig(result: ConfigChangeResult): ConfState {
    this.tracker.config = result.config;
    this.tracker.progress = result.progress;
    const confState = this.tracker.confState();
    const pr = this.tracker.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;
    if (this.role !== 'leader' || confState.voters.length === 0) return confState;
    if (this.#maybeCommit()) {
      this.#bcastAppend();
    } else {
      // Probe new members at once rather than at the next heartbeat.
      for (const id of this.tracker.ids()) if (id !== this.id) this.#maybeSendAppend(id, false);
    }
    if (this.leadTransferee !== '' && !this.tracker.isVoter(this.leadTransferee)) this.leadTransferee = '';
    // A leader removed (or demoted) by a configuration it applied does not step down at once:
    // the others switch configuration only when they apply the change, so they may still need
    // its vote, which it refuses to any candidate behind its log. It keeps replicating (they
    // learn the commit), takes no proposal, and hands over to the most caught-up voter.
    if (!this.tracker.isVoter(this.id)) this.#handOver();
    return confState;
  }

  /** A leader outside the voters transfers leadership to the voter that holds most of its log. */
  #handOver(): void {
    if (this.leadTransferee !== '') return;
    let best: NodeId | '' = '';
    let bestMatch = -1;
    for (const id of this.tracker.voterIds()) {
      const pr = this.tracker.progress.get(id);
      if (id === this.id || pr === undefined || pr.match <= bestMatch) continue;
      best = id;
      bestMatch = pr.match;
    }
    if (best !== '') this.#handleTransferLeader(best);
  }

  /** UNSAFE (see RawNodeApi.resetPeers): force the configuration to `voters`. */
  resetPeers(voters: readonly NodeId[]): void {
    assert(voters.length > 0 && new Set(voters).size === voters.length, 'resetPeers: voters must be non-empty and distinct');
    for (const id of voters) assert(isValidNodeId(id), () => `resetPeers: invalid node id ${JSON.stringify(id)}`);
    const learners = [...this.tracker.config.learners, ...this.tracker.config.learnersNext].filter((id) => !voters.includes(id)).sort();
    const cc: ConfChange = {
      transition: 'reset',
      changes: [
        ...voters.map((node) => ({ type: 'addVoter' as const, node })),
        ...learners.map((node) => ({ type: 'addLearner' as const, node })),
      ],
      context: EMPTY_BYTES,
    };
    this.configForced = true;
    this.forcedConfChange = cc;
    this.#switchToConfig(planConfChange(this.tracker, this.log.lastIndex(), cc));
    if (this.role === 'leader') {
      const index = this.#appendEntries([{ type: 'confChange', data: encodeConfChange(cc) }]);
      if (index !== null) {
        this.pendingConfIndex = index;
        this.forcedConfChange = null;
        this.#bcastAppend();
      }
    }
  }

  // ---------------------------------------------------------------- leader transfer

  transferLeader(to: NodeId): void {
    if (this.role === 'leader') this.#handleTransferLeader(to);
    else if (this.lead !== '' && this.lead !== to) this.#send({ type: 'MsgTransferLeader', from: to, to: this.lead });
  }

  // ---------------------------------------------------------------- read index

  readIndex(context: Uint8Array): void {
    if (this.role === 'leader') this.#handleReadIndex({ from: this.id, context });
    else if (this.role === 'follower' && this.lead !== '') this.#send({ type: 'MsgReadIndex', to: this.lead, term: 0, context });
  }

  #handleReadIndex(request: ReadRequest): void {
    // The commit index is only known to be the group's once an entry of this term committed.
    if (!this.#committedEntryInCurrentTerm()) {
      if (this.pendingReadRequests.length < READ_INDEX_PENDING_MAX) this.pendingReadRequests.push(request);
      return;
    }
    if (!this.readOnly.addRequest(this.log.committed, request)) return;
    const acks = this.readOnly.recvAck(this.id, request.context)!;
    if (this.tracker.voteResultOf(acks) === 'won') {
      for (const status of this.readOnly.advance(request.context)) this.#respondToRead(status.request, status.index);
      return;
    }
    this.#bcastHeartbeat(request.context);
  }

  #releasePendingReads(): void {
    if (this.pendingReadRequests.length === 0 || !this.#committedEntryInCurrentTerm()) return;
    const requests = this.pendingReadRequests;
    this.pendingReadRequests = [];
    for (const request of requests) this.#handleReadIndex(request);
  }

  #respondToRead(request: ReadRequest, index: number): void {
    if (request.from === this.id) this.readStates.push({ index, context: request.context });
    else this.#send({ type: 'MsgReadIndexResp', to: request.from, index, context: request.context });
  }

  // ---------------------------------------------------------------- reports from the runtime

  reportUnreachable(id: NodeId): void {
    if (this.role !== 'leader') return;
    const pr = this.tracker.progress.get(id);
    if (pr !== undefined && pr.state === 'replicate') pr.becomeProbe();
  }

  /**
   * The storage may now hold entries it reported unavailable (a read back it had started has
   * ended): a leader sends to each follower again what its progress allows, nothing else.
   */
  retryAppends(): void {
    if (this.role !== 'leader') return;
    for (const id of this.tracker.ids()) if (id !== this.id) this.#maybeSendAppend(id, false);
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    if (this.role !== 'leader') return;
    const pr = this.tracker.progress.get(id);
    if (pr === undefined || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for a heartbeat response before probing again.
    pr.msgAppFlowPaused = true;
  }

  /**
   * The runtime made durable the snapshot at `snapshotIndex` and the entries up to `last`.
   * The leader counts itself for what is now durable (this is what lets it write its own log
   * in parallel with replication).
   */
  onPersisted(snapshotIndex: number | null, last: { readonly index: number; readonly term: number } | null): void {
    if (snapshotIndex !== null) this.log.stableSnapTo(snapshotIndex);
    if (last !== null) this.log.stableTo(last.index, last.term);
    if (this.role !== 'leader') return;
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined && self.maybeUpdate(this.log.persistedIndex()) && this.#maybeCommit()) this.#bcastAppend();
  }

  /** The runtime restored its state machine from the snapshot at `index`. */
  onSnapshotApplied(index: number): void {
    this.log.appliedTo(index);
  }

  /** The runtime applied committed entries up to `index`, `sizeBytes` of data. */
  onApplied(index: number, sizeBytes: number): void {
    this.log.appliedTo(index);
    if (this.role !== 'leader') return;
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - sizeBytes);
    // A joint configuration with autoLeave is left by the leader itself once it applied.
    if (this.tracker.config.autoLeave && this.log.applied >= this.pendingConfIndex) {
      const leave: ConfChange = { changes: [], transition: 'auto', context: EMPTY_BYTES };
      const index = this.#appendEntries([{ type: 'confChange', data: encodeConfChange(leave) }]);
      if (index !== null) {
        this.pendingConfIndex = index;
        this.#bcastAppend();
      }
    }
  }

  // ---------------------------------------------------------------- status

  /**
   * The highest index the caller reported applied (through `advance`). The core reads entries
   * above it without expecting the storage to be unable to answer (the campaign's check for
   * unapplied configuration changes, the committed entries to hand out): a runtime that evicts
   * entries from its storage must evict none above it.
   */
  appliedIndex(): number {
    return this.log.applied;
  }

  /** The lowest match index among the other members (voters and learners) while leader; Infinity otherwise or when alone. */
  lowestFollowerMatch(): number {
    if (this.role !== 'leader') return Number.POSITIVE_INFINITY;
    let lowest = Number.POSITIVE_INFINITY;
    for (const [id, pr] of this.tracker.progress) if (id !== this.id && pr.match < lowest) lowest = pr.match;
    return lowest;
  }

  status(): Status {
    let progress: Record<NodeId, ProgressStatus> | null = null;
    if (this.role === 'leader') {
      progress = {};
      for (const id of this.tracker.ids()) progress[id] = this.tracker.progress.get(id)!.status();
    }
    return {
      id: this.id,
      groupId: this.groupId,
      hardState: this.hardState(),
      softState: this.softState(),
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      confState: this.tracker.confState(),
      progress,
      leadTransferee: this.leadTransferee,
      messagesDropped: this.messagesDropped,
    };
  }
}
