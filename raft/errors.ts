/**
 * Typed errors of the Raft runtime, returned at its boundary (proposals, reads, admin calls).
 * `retryable` says whether the same call may succeed later as it is (possibly elsewhere).
 */
import type { NodeId } from './core/types.ts';

/** Base class: every runtime error has a `name`, a `retryable` flag and an optional `cause`. */
export class RaftError extends Error {
  override readonly name: string = 'RaftError';
  readonly retryable: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** This node is not the leader. `leaderId`/`leaderAddress` name the leader when known ('' otherwise). */
export class NotLeaderError extends RaftError {
  override readonly name = 'NotLeaderError';
  override readonly retryable = true;
  constructor(
    readonly leaderId: NodeId | '',
    readonly leaderAddress: string,
  ) {
    super(leaderId ? `not the leader; the leader is ${leaderId} at ${leaderAddress || '?'}` : 'not the leader; no leader known');
  }
}

/** The proposal was appended but lost to a leader change (another entry took its index). Retry it. */
export class ProposalDroppedError extends RaftError {
  override readonly name = 'ProposalDroppedError';
  override readonly retryable = true;
  constructor(
    readonly index: number,
    readonly term: number,
  ) {
    super(`proposal at index ${index} term ${term} was dropped by a leader change`);
  }
}

/** The leader refused the proposal for now: a transfer or a configuration change is in progress, or too much is uncommitted. */
export class ProposalRefusedError extends RaftError {
  override readonly name = 'ProposalRefusedError';
  override readonly retryable: boolean;
  constructor(readonly reason: string) {
    super(`proposal refused: ${reason}`);
    this.retryable = reason !== 'invalid';
  }
}

/** The node was stopped (or failed) before the call completed. */
export class NodeStoppedError extends RaftError {
  override readonly name = 'NodeStoppedError';
  constructor(cause?: unknown) {
    super('the raft node is stopped', cause === undefined ? undefined : { cause });
  }
}

/** A call did not complete within its deadline. */
export class RaftTimeoutError extends RaftError {
  override readonly name = 'RaftTimeoutError';
  override readonly retryable = true;
  constructor(what: string, timeoutMs: number) {
    super(`${what} did not complete within ${timeoutMs} ms`);
  }
}

/** A bad argument to an admin call (unknown peer, malformed address, ...). */
export class InvalidArgumentError extends RaftError {
  override readonly name = 'InvalidArgumentError';
}
