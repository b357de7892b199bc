/**
 * Election hooks (design section 6): how master processes obtain leadership, and the fencing
 * token that becomes the writer's epoch. Implementations: `EtcdElection` (etcd3) and
 * `JournalElection` (a lease in the JournalNode group, the embedded default).
 */
import { ElectionError } from './errors.ts';

/**
 * One leadership. `token` is a safe integer that strictly increases from one leadership to the
 * next (of any candidate): use it as the journal epoch so the JournalNodes fence older leaders.
 */
export interface Leadership {
  /** The fencing token (a safe integer >= 1). */
  readonly token: number;
  /**
   * Resolves when the leadership is lost (lease expired or revoked, key deleted, resigned) or
   * may have been: the holder must stop acting as leader at once. Never rejects.
   */
  readonly lost: Promise<void>;
  /** Give the leadership up (idempotent); `lost` resolves. */
  resign(): Promise<void>;
}

/** A way to elect one leader among candidates. */
export interface ElectionHook {
  /**
   * Campaign as `candidate` (a unique, printable identity such as host:port) until elected; then
   * resolve with the leadership. Rejects (AbortedError) when `signal` aborts first.
   */
  campaign(candidate: string, signal?: AbortSignal): Promise<Leadership>;
  /** The current leader's candidate identity, if any (may lag). */
  leader(): Promise<string | undefined>;
}

/** Check that a fencing token is a safe integer >= 1 (etcd revisions arrive as strings). */
export function checkToken(value: string | number, what: string): number {
  const token = typeof value === 'string' ? Number(value) : value;
  if (!Number.isSafeInteger(token) || token < 1 || (typeof value === 'string' && String(token) !== value)) {
    throw new ElectionError(`${what}: fencing token ${String(value)} is not a safe integer >= 1`, false);
  }
  return token;
}
