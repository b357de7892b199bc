/**
 * Typed errors of the storage layer. Operating errors (a full disk, a corrupt file found at
 * open) are these classes; programmer errors (a non-contiguous append) are plain `Error`s
 * thrown as assertions.
 */

/**
 * A write or fsync failed. After an fsync error the page cache may have dropped dirty data
 * while reporting it clean (fsyncgate), so the only safe move is to stop: the component that
 * raised it refuses every later call, and the process is expected to exit and recover from
 * what is on disk. `cause` is the original error.
 */
export class FatalStorageError extends Error {
  override readonly name = 'FatalStorageError';
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/**
 * A WAL record before the tail (or in a segment other than the last) is damaged: the log
 * cannot be trusted beyond `offset` of `file`, and truncating there would lose acknowledged
 * entries. Needs an operator (or a snapshot from a peer).
 */
export class WalCorruptError extends Error {
  override readonly name = 'WalCorruptError';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`wal: corrupt record in ${file} at offset ${offset}: ${reason}`);
  }
}

/** The WAL was closed: no more appends. */
export class WalClosedError extends Error {
  override readonly name = 'WalClosedError';
  constructor() {
    super('wal: closed');
  }
}

/** A small metadata file (hard state, meta store) exists but does not hold what it should. */
export class MetaFileCorruptError extends Error {
  override readonly name = 'MetaFileCorruptError';
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause: unknown },
  ) {
    super(`meta file ${file} is corrupt: ${reason}`, options);
  }
}

/** A received (or stored) snapshot file does not have the size or crc32c its manifest promises. `file` is its name in the snapshot. */
export class SnapshotChecksumError extends Error {
  override readonly name = 'SnapshotChecksumError';
  constructor(
    readonly file: string,
    readonly expected: { bytes: number; crc32c: number },
    readonly actual: { bytes: number; crc32c: number },
  ) {
    super(
      `snapshot file ${file}: expected ${expected.bytes} bytes crc32c ${expected.crc32c}, ` +
        `found ${actual.bytes} bytes crc32c ${actual.crc32c}`,
    );
  }
}

/** A chunk of a snapshot file arrived at an offset other than the next expected one. */
export class SnapshotOffsetError extends Error {
  override readonly name = 'SnapshotOffsetError';
  constructor(
    readonly file: string,
    readonly expectedOffset: number,
    readonly offset: number,
  ) {
    super(`snapshot file ${file}: chunk at offset ${offset}, expected ${expectedOffset}`);
  }
}

/** A snapshot description from a peer or from disk is not acceptable (bad file name, sizes, meta). */
export class SnapshotInvalidError extends Error {
  override readonly name = 'SnapshotInvalidError';
  constructor(reason: string, options?: { cause: unknown }) {
    super(`snapshot: ${reason}`, options);
  }
}
