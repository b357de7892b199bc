/**
 * Small durable JSON files through lowdb: the Raft hard state (term, vote, commit) and any
 * small metadata (`openMetaStore`). lowdb's stock file adapter does not fsync; ours writes a
 * temp file, fsyncs it, renames it over the target and fsyncs the directory, so a crash leaves
 * the old or the new content, never a mix.
 */
import { join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import type { HardState } from '../core/types.ts';
import { FatalStorageError, MetaFileCorruptError } from './errors.ts';
import { ensureDirectory, isErrnoCode, nodeFileSystem, writeFileDurable, type FileSystem } from './fs.ts';

/** Checks a parsed value and returns it typed, or throws (the message becomes part of MetaFileCorruptError). */
export type Validator<T> = (value: unknown) => T;

/**
 * A lowdb adapter that writes durably (temp, fsync, rename, fsync directory) and reads
 * tolerating a missing file (null). Writes are serialized (the temp name is fixed).
 * A file that is not valid JSON, or that `validate` refuses, throws MetaFileCorruptError.
 */
export class DurableJsonFileAdapter<T> implements Adapter<T> {
  private readonly fs: FileSystem;
  private readonly validate: Validator<T> | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    options: { fs?: FileSystem | undefined; validate?: Validator<T> | undefined } = {},
  ) {
    this.fs = options.fs ?? nodeFileSystem;
    this.validate = options.validate;
  }

  async read(): Promise<T | null> {
    let raw: Buffer;
    try {
      raw = await this.fs.readFile(this.file);
    } catch (e) {
      if (isErrnoCode(e, 'ENOENT')) return null;
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch (cause) {
      throw new MetaFileCorruptError(this.file, 'not valid JSON', { cause });
    }
    if (this.validate === undefined) return parsed as T;
    try {
      return this.validate(parsed);
    } catch (cause) {
      throw new MetaFileCorruptError(this.file, cause instanceof Error ? cause.message : String(cause), { cause });
    }
  }

  write(data: T): Promise<void> {
    const bytes = Buffer.from(JSON.stringify(data, null, 1) + '\n', 'utf8');
    const done = this.tail.then(() => writeFileDurable(this.fs, this.file, bytes));
    this.tail = done.catch(() => {});
    return done;
  }
}

/** A small durable value kept in one JSON file. */
export interface MetaStore<T> {
  /** The latest value given to `save` (durable or not yet), or the one read at open, or the defaults. */
  get(): T;
  /**
   * Make `value` durable; resolves once it (or a later value) is on disk. Concurrent saves are
   * serialized and coalesced: while one write runs, only the newest waiting value is written
   * next. A write error is fatal: this and every later save reject with FatalStorageError.
   */
  save(value: T): Promise<void>;
}

class LowMetaStore<T> implements MetaStore<T> {
  private latest: T;
  private writing = false;
  private waiting: { value: T; waiters: { resolve: () => void; reject: (e: unknown) => void }[] } | null = null;
  private failure: FatalStorageError | null = null;

  constructor(
    private readonly db: Low<T>,
    private readonly file: string,
  ) {
    this.latest = db.data;
  }

  get(): T {
    return this.latest;
  }

  save(value: T): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    this.latest = value;
    return new Promise<void>((resolve, reject) => {
      if (this.waiting === null) this.waiting = { value, waiters: [] };
      this.waiting.value = value;
      this.waiting.waiters.push({ resolve, reject });
      if (!this.writing) void this.writeLoop();
    });
  }

  /** The waiters queued meanwhile (a save may arrive during the write). */
  private takeWaiters(): { resolve: () => void; reject: (e: unknown) => void }[] {
    const w = this.waiting?.waiters ?? [];
    this.waiting = null;
    return w;
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    while (this.waiting !== null) {
      const { value, waiters } = this.waiting;
      this.waiting = null;
      this.db.data = value;
      try {
        await this.db.write();
      } catch (cause) {
        this.failure = new FatalStorageError(`meta store ${this.file}: write failed: ${String(cause)}`, { cause });
        const rejected = waiters.concat(this.takeWaiters());
        for (const w of rejected) w.reject(this.failure);
        break;
      }
      for (const w of waiters) w.resolve();
    }
    this.writing = false;
  }
}

/**
 * Open the JSON file `file` (created on the first save) holding a `T`; `defaults` when absent.
 * The parent directory must exist.
 */
export async function openMetaStore<T>(file: string, defaults: T, options: { fs?: FileSystem | undefined; validate?: Validator<T> | undefined } = {}): Promise<MetaStore<T>> {
  const adapter = new DurableJsonFileAdapter<T>(file, options);
  const db = new Low<T>(adapter, defaults);
  await db.read();
  return new LowMetaStore(db, file);
}

/** The Raft hard state, durable. */
export interface HardStateStore {
  /** The hard state as of the latest `save` call (or as read at open; term 0, vote '', commit 0 when new). */
  load(): HardState;
  /**
   * Make `hardState` durable; resolves once it is on disk (send a vote only after that).
   * Serialized and coalesced like MetaStore.save. Asserts that the term never decreases and
   * that a vote is never changed within a term (programmer errors).
   */
  save(hardState: HardState): Promise<void>;
}

/** Name of the hard state file in its directory. */
export const HARD_STATE_FILE = 'hardstate.json';

const NODE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

function validateHardState(value: unknown): HardState {
  if (typeof value !== 'object' || value === null) throw new Error('not an object');
  const { term, vote, commit } = value as Record<string, unknown>;
  if (typeof term !== 'number' || !Number.isSafeInteger(term) || term < 0) throw new Error(`bad term ${String(term)}`);
  if (typeof commit !== 'number' || !Number.isSafeInteger(commit) || commit < 0) throw new Error(`bad commit ${String(commit)}`);
  if (typeof vote !== 'string' || (vote !== '' && !NODE_ID.test(vote))) throw new Error(`bad vote ${String(vote)}`);
  return { term, vote, commit };
}

/** Open the hard state kept in `dir/hardstate.json` (the directory is created if missing). */
export async function openHardStateStore(dir: string, options: { fs?: FileSystem | undefined } = {}): Promise<HardStateStore> {
  const fs = options.fs ?? nodeFileSystem;
  await ensureDirectory(fs, dir);
  const store = await openMetaStore<HardState>(join(dir, HARD_STATE_FILE), { term: 0, vote: '', commit: 0 }, { fs, validate: validateHardState });
  return {
    load: () => store.get(),
    save: (hs) => {
      const previous = store.get();
      if (hs.term < previous.term) throw new Error(`hard state: term goes back from ${previous.term} to ${hs.term}`);
      if (hs.term === previous.term && previous.vote !== '' && hs.vote !== previous.vote) {
        throw new Error(`hard state: vote in term ${hs.term} changes from ${previous.vote} to '${hs.vote}'`);
      }
      validateHardState(hs);
      return store.save({ term: hs.term, vote: hs.vote, commit: hs.commit });
    },
  };
}
