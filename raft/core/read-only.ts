/**
 * Pending ReadIndex requests on the leader (etcd-io/raft's read_only.go, safe mode): each
 * request remembers the commit index at arrival and is answered once a quorum acknowledged a
 * heartbeat carrying its context, which proves this node was still the leader after it arrived.
 * Contexts must be unique among pending requests (callers use request ids).
 */
import type { NodeId } from './types.ts';

/** At most this many ReadIndex requests wait on the leader; further ones are dropped (callers time out and retry). */
export const READ_INDEX_PENDING_MAX = 4096;

/** One ReadIndex request: `from` is the asking node (the leader itself for local reads). */
export interface ReadRequest {
  readonly from: NodeId;
  readonly context: Uint8Array;
}

/** A pending ReadIndex request with the heartbeat acknowledgements gathered so far. */
export interface ReadIndexStatus {
  readonly request: ReadRequest;
  /** The commit index when the request arrived: the read index once confirmed. */
  readonly index: number;
  readonly acks: Set<NodeId>;
}

function keyOf(context: Uint8Array): string {
  let key = '';
  for (const byte of context) key += byte.toString(16).padStart(2, '0');
  return key;
}

/** The leader's queue of pending ReadIndex requests, in arrival order (bounded by READ_INDEX_PENDING_MAX). */
export class ReadOnly {
  #pending = new Map<string, ReadIndexStatus>();
  /** Keys in arrival order. */
  #queue: string[] = [];

  get size(): number {
    return this.#queue.length;
  }

  /** Registers a request at read index `index`. A duplicate context or a full queue is ignored (false). */
  addRequest(index: number, request: ReadRequest): boolean {
    const key = keyOf(request.context);
    if (this.#pending.has(key) || this.#queue.length >= READ_INDEX_PENDING_MAX) return false;
    this.#pending.set(key, { request, index, acks: new Set() });
    this.#queue.push(key);
    return true;
  }

  /** Records `id`'s heartbeat acknowledgement of `context`; returns the acks so far, or null if unknown. */
  recvAck(id: NodeId, context: Uint8Array): ReadonlySet<NodeId> | null {
    const status = this.#pending.get(keyOf(context));
    if (status === undefined) return null;
    status.acks.add(id);
    return status.acks;
  }

  /** Removes and returns every request up to and including the one with `context` (earlier ones are confirmed too). */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const position = this.#queue.indexOf(keyOf(context));
    if (position < 0) return [];
    const done = this.#queue.splice(0, position + 1);
    return done.map((key) => {
      const status = this.#pending.get(key)!;
      this.#pending.delete(key);
      return status;
    });
  }

  /** The context of the newest pending request (carried by heartbeats), empty when none. */
  lastPendingContext(): Uint8Array {
    const key = this.#queue.at(-1);
    return key === undefined ? new Uint8Array(0) : this.#pending.get(key)!.request.context;
  }
}
