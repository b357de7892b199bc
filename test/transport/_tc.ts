import type { SnapshotStore } from '../../raft/storage/snapshot-store.ts';
import type { SnapshotSinkLike } from '../../raft/transport/index.ts';
export function f(s: SnapshotStore): SnapshotSinkLike { return s; }
