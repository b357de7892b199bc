/**
 * Assertions for the pure core. A failed assertion is a programmer error or corrupt durable
 * state (storage returned something Raft never wrote): the caller must stop, never retry.
 */

/** A broken invariant inside the core or in data it read from storage. */
export class RaftInvariantError extends Error {
  override readonly name = 'RaftInvariantError';
}

/** Throws {@link RaftInvariantError} with `message` when `condition` is false. */
export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new RaftInvariantError(typeof message === 'string' ? message : message());
}

/** A configuration given to the core is unusable (bad id, bad limits). */
export class RaftConfigError extends Error {
  override readonly name = 'RaftConfigError';
}
