/**
 * The public surface of the pure Raft core. Everything a runtime or the simulator needs:
 * the RawNode driver, MemoryStorage, the conf change codec, the vocabulary types.
 *
 * Bootstrapping a group: every initial member starts from the same snapshot at index 1,
 * term 1, carrying the initial ConfState (`bootstrapSnapshot`, `MemoryStorage.bootstrap`);
 * a member added later starts empty and receives a snapshot from the leader.
 */
export * from './types.ts';
export type { RawNodeApi } from './api.ts';
export { RawNode } from './raw-node.ts';
export { MemoryStorage, SnapshotOutOfDateError, bootstrapSnapshot } from './memory-storage.ts';
export type { EntryReader } from './memory-storage.ts';
export { encodeConfChange, decodeConfChange, ConfChangeDecodeError } from './conf-change-codec.ts';
export { RaftInvariantError, RaftConfigError } from './assert.ts';
export { ConfChangeError } from './confchange.ts';
export { TRANSFER_LEADER_CONTEXT, COMMITTED_ENTRIES_BYTES_MAX_DEFAULT } from './raft.ts';
export { READ_INDEX_PENDING_MAX } from './read-only.ts';
export { entriesBytes } from './log.ts';
export { isValidNodeId } from './validation.ts';
