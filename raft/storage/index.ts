/**
 * Durable storage of the Raft runtime: the segmented WAL, the hard state (and small metadata)
 * through lowdb with a durable adapter, the snapshot store, and the file-system layer they all
 * use (real, or fault-injecting for tests).
 */
export * from './errors.ts';
export * from './fs.ts';
export * from './wal-record.ts';
export * from './wal.ts';
export * from './hard-state.ts';
export * from './snapshot-store.ts';
