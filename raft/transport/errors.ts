/**
 * Typed errors of the peer transport. Operating errors (a peer down, a bad peer) become these
 * at the boundary; programmer errors are plain assertion failures.
 */

/** Data from the wire that breaks the contract of raft.proto (unsafe integer, unknown enum, bad id). */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
  /** @param field the dotted path of the offending field, e.g. `entries[3].term`. */
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`raft transport: invalid wire field ${field}: ${reason}`);
  }
}

/** A snapshot file-set transfer to or from `peer` failed; `cause` holds the underlying error. */
export class SnapshotTransferError extends Error {
  override readonly name = 'SnapshotTransferError';
  constructor(
    readonly peer: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`raft transport: snapshot transfer with ${peer} failed: ${reason}`, options);
  }
}
