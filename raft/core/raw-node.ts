/**
 * The single-threaded driver of the core (etcd-io/raft's rawnode.go): the caller feeds input
 * (tick, step, propose, ...) and collects duties as a {@link Ready}, one at a time:
 * `ready()`, do the duties in the order written on Ready, then `advance(ready)`.
 */
import type { RawNodeApi } from './api.ts';
import { assert } from './assert.ts';
import { entriesBytes } from './log.ts';
import { Raft } from './raft.ts';
import type {
  ConfChange,
  ConfState,
  HardState,
  Message,
  NodeId,
  ProposeResult,
  RaftConfig,
  Ready,
  SoftState,
  Status,
  Storage,
} from './types.ts';

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * The core's public driver (see RawNodeApi for each method). Usage per turn: feed input,
 * then `while (hasReady()) { const rd = ready(); ...duties in Ready order...; advance(rd); }`.
 */
export class RawNode implements RawNodeApi {
  readonly #raft: Raft;
  #previousSoftState: SoftState;
  #previousHardState: HardState;
  /** The Ready handed out and not yet advanced. */
  #outstanding: Ready | null = null;

  /**
   * Starts (or restarts) a node over `storage`: the hard state, configuration, snapshot and
   * entries it holds are taken as durable. Entries in (config.applied, commit] come out in the
   * first Ready's `committedEntries`. `storage.initialState().confState` must be the
   * configuration as of `config.applied` (at least the snapshot's index): configuration
   * entries after it are applied again through `applyConfChange`.
   */
  constructor(config: RaftConfig, storage: Storage) {
    this.#raft = new Raft(config, storage);
    this.#previousSoftState = this.#raft.softState();
    this.#previousHardState = this.#raft.hardState();
  }

  tick(): void {
    this.#raft.tick();
  }

  campaign(): void {
    this.#raft.campaign();
  }

  step(m: Message): void {
    this.#raft.step(m);
  }

  propose(data: Uint8Array): ProposeResult {
    return this.#raft.propose(data);
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.#raft.proposeConfChange(cc);
  }

  applyConfChange(cc: ConfChange): ConfState {
    return this.#raft.applyConfChange(cc);
  }

  transferLeader(to: NodeId): void {
    this.#raft.transferLeader(to);
  }

  readIndex(context: Uint8Array): void {
    this.#raft.readIndex(context);
  }

  hasReady(): boolean {
    const raft = this.#raft;
    return (
      !sameSoftState(raft.softState(), this.#previousSoftState) ||
      !sameHardState(raft.hardState(), this.#previousHardState) ||
      raft.log.unstable.nextSnapshot() !== null ||
      raft.messages.length > 0 ||
      raft.messagesAfterPersist.length > 0 ||
      raft.log.unstable.nextEntries().length > 0 ||
      raft.log.hasNextCommittedEntries() ||
      raft.readStates.length > 0
    );
  }

  ready(): Ready {
    assert(this.#outstanding === null, 'raw node: ready() while a Ready is outstanding: call advance() first');
    const raft = this.#raft;
    const softState = raft.softState();
    const hardState = raft.hardState();
    const softChanged = !sameSoftState(softState, this.#previousSoftState);
    const hardChanged = !sameHardState(hardState, this.#previousHardState);
    const entries = raft.log.unstable.nextEntries();
    const snapshot = raft.log.unstable.nextSnapshot();
    const committedEntries = raft.log.nextCommittedEntries();
    const rd: Ready = {
      softState: softChanged ? softState : null,
      hardState: hardChanged ? hardState : null,
      snapshot,
      entries,
      messages: raft.messages,
      messagesAfterPersist: raft.messagesAfterPersist,
      committedEntries,
      readStates: raft.readStates,
      // A commit-only change needs no fsync: a lost commit index is learned again.
      mustSync:
        entries.length > 0 ||
        snapshot !== null ||
        hardState.term !== this.#previousHardState.term ||
        hardState.vote !== this.#previousHardState.vote,
    };
    this.#previousSoftState = softState;
    this.#previousHardState = hardState;
    raft.messages = [];
    raft.messagesAfterPersist = [];
    raft.readStates = [];
    raft.log.unstable.acceptInProgress();
    if (committedEntries.length > 0) raft.log.acceptApplying(committedEntries.at(-1)!.index);
    this.#outstanding = rd;
    return rd;
  }

  advance(rd: Ready): void {
    assert(rd === this.#outstanding, 'raw node: advance() of a Ready that is not the outstanding one');
    this.#outstanding = null;
    const last = rd.entries.at(-1);
    this.#raft.onPersisted(rd.snapshot === null ? null : rd.snapshot.meta.index, last === undefined ? null : last);
    if (rd.snapshot !== null) this.#raft.onSnapshotApplied(rd.snapshot.meta.index);
    const lastCommitted = rd.committedEntries.at(-1);
    if (lastCommitted !== undefined) this.#raft.onApplied(lastCommitted.index, entriesBytes(rd.committedEntries));
  }

  reportUnreachable(id: NodeId): void {
    this.#raft.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.#raft.reportSnapshot(id, ok);
  }

  /** See Raft `retryAppends`: after the storage's entry reader got entries it lacked. */
  retryAppends(): void {
    this.#raft.retryAppends();
  }

  resetPeers(voters: readonly NodeId[]): void {
    this.#raft.resetPeers(voters);
  }

  status(): Status {
    return this.#raft.status();
  }

  /** The lowest match index among the other members while leader; Infinity otherwise (no allocation, unlike `status`). */
  lowestFollowerMatch(): number {
    return this.#raft.lowestFollowerMatch();
  }

  /** See Raft `appliedIndex`: what the runtime may evict from its storage, at most. */
  appliedIndex(): number {
    return this.#raft.appliedIndex();
  }
}
