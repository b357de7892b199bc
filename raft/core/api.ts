/**
 * The public surface of the pure Raft core (etcd-io/raft's RawNode), implemented by
 * `raw-node.ts`. Single-threaded: the caller drives it and owns all I/O.
 */
import type {
  ConfChange,
  ConfState,
  Message,
  NodeId,
  ProposeResult,
  Ready,
  Status,
} from './types.ts';

export interface RawNodeApi {
  /** Advance logical time by one tick (election and heartbeat timers, check-quorum). */
  tick(): void;
  /** Start an election now (pre-vote first when enabled). */
  campaign(): void;
  /** Feed a message from a peer. Messages of another group or malformed ones are dropped (counted in status). */
  step(m: Message): void;
  /**
   * Propose application data. On the leader, the entry is appended at once and its place
   * returned; elsewhere refused with 'notLeader' and the leader hint (the runtime forwards).
   */
  propose(data: Uint8Array): ProposeResult;
  /** Propose a configuration change (see ConfChange). Refused while another one is pending. */
  proposeConfChange(cc: ConfChange): ProposeResult;
  /** Apply a committed confChange entry's change; call it when applying that entry. Returns the new configuration. */
  applyConfChange(cc: ConfChange): ConfState;
  /**
   * Ask the leader to hand leadership to `to` (TimeoutNow once `to` has caught up). On a
   * follower, forwarded to the known leader; dropped when no leader is known. Abandoned after
   * an election timeout.
   */
  transferLeader(to: NodeId): void;
  /**
   * Request a linearizable read index; answered in `Ready.readStates` with the same context
   * (on a follower, through the leader). Contexts must be unique among pending requests.
   * Dropped without an answer when no leader is known or leadership is lost: retry on timeout.
   */
  readIndex(context: Uint8Array): void;
  hasReady(): boolean;
  /** The next batch of duties. Exactly one Ready may be outstanding. */
  ready(): Ready;
  /** Acknowledge that the duties of `rd` are done (persisted, sent, applied). */
  advance(rd: Ready): void;
  /** The transport could not reach `id`: the leader goes back to probing it. */
  reportUnreachable(id: NodeId): void;
  /** The runtime finished (ok) or failed to send a snapshot to `id`. */
  reportSnapshot(id: NodeId, ok: boolean): void;
  /**
   * UNSAFE operator recovery when a quorum is permanently lost: force this node's
   * configuration to `voters`, whatever the log says. Can lose committed entries and split
   * the group if the old quorum comes back. The forced configuration is made durable by the
   * leader appending it as a configuration entry once elected.
   */
  resetPeers(voters: readonly NodeId[]): void;
  status(): Status;
}
