/**
 * The small file-system interface every durable component of raft/storage goes through, so a
 * test can put {@link FaultyFileSystem} under it and lose exactly what a power cut would lose.
 *
 * Durability rules the callers follow (and the faulty file system enforces):
 * - file data is durable once `sync()`/`datasync()` on a handle of that file resolved;
 * - a directory entry (create, rename, unlink, link, mkdir) is durable once `fsyncDir` of the
 *   parent directory resolved (for a rename, of both parents);
 * - never two writes in flight on one handle (their order on disk would be undefined).
 */
import * as fsp from 'node:fs/promises';
import { constants as fsConstants, writevSync, type BigIntStats } from 'node:fs';
import { dirname, join, relative, resolve, sep, basename } from 'node:path';
import { dropCachedPages } from './page-cache.ts';

/**
 * How a file is opened: `r` read only; `r+` read/write an existing file; `w` create or
 * truncate; `wx` create, failing if it exists. Writable handles can also read.
 */
export type OpenFlags = 'r' | 'r+' | 'w' | 'wx';

/**
 * Writes up to this many bytes are made synchronously (a copy into the page cache, tens of
 * microseconds); larger ones go through the thread pool so the event loop keeps turning.
 */
export const SYNC_WRITE_BYTES_MAX = 256 * 1024;

/** An open file. Positions and lengths are in bytes. Writes are positional (no O_APPEND). */
export interface FileHandle {
  readonly path: string;
  /** Read up to `buffer.length` bytes at `position`; returns the count read (0 at end of file). */
  read(buffer: Uint8Array, position: number): Promise<number>;
  /** Write all of `data` at `position` (short writes are completed). */
  write(data: Uint8Array, position: number): Promise<void>;
  /** Write the buffers back to back from `position` in one system call where possible (completed if short). */
  writev(buffers: readonly Uint8Array[], position: number): Promise<void>;
  /** fsync: data and metadata durable. */
  sync(): Promise<void>;
  /** fdatasync: data (and the size) durable. */
  datasync(): Promise<void>;
  truncate(lengthBytes: number): Promise<void>;
  /** Current size in bytes (fstat). */
  size(): Promise<number>;
  /**
   * Advice: drop the cached pages of `offset .. offset + length`, a range already synced (see
   * page-cache.ts). Never changes content, never fails; runs in the background, and `close()`
   * waits for it.
   */
  dropCachedPages(offset: number, length: number): void;
  /** Close. Never fails for a handle the faulty file system already closed by a crash. */
  close(): Promise<void>;
}

export interface FileStats {
  readonly size: number;
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  /**
   * Device, inode, birth time, size and modification time (ns) of a file, when the file system knows them:
   * two equal identities are the same unchanged content (a cache key, e.g. for checksums of
   * hard-linked files).
   */
  readonly identity?: string | undefined;
}

/** Errors carry Node's `code` (`ENOENT`, `EEXIST`, `ENOSPC`, ...) as node:fs does. */
export interface FileSystem {
  open(path: string, flags: OpenFlags): Promise<FileHandle>;
  readFile(path: string): Promise<Buffer>;
  /** Throws an error with code `ENOENT` when missing. */
  stat(path: string): Promise<FileStats>;
  exists(path: string): Promise<boolean>;
  /** Entry names, sorted. */
  readdir(path: string): Promise<string[]>;
  /** Create a directory (and its missing parents with `recursive`). Existing is fine with `recursive`. */
  mkdir(path: string, options?: { recursive?: boolean | undefined }): Promise<void>;
  /** Atomic rename, replacing `to` if it is a file or an empty directory. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** `rm -rf`: no error when missing. */
  removeTree(path: string): Promise<void>;
  truncate(path: string, lengthBytes: number): Promise<void>;
  /** Hard link. */
  link(existing: string, newPath: string): Promise<void>;
  /** fsync a directory: its entries (creates, renames, unlinks) become durable. */
  fsyncDir(path: string): Promise<void>;
}

function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** True when `e` is a node:fs error with this `code`. */
export function isErrnoCode(e: unknown, code: string): boolean {
  return errorCode(e) === code;
}

/** An error shaped like node:fs errors (`code`, `syscall`, `path`). */
export function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: simulated failure, ${syscall} '${path}'`);
  e.code = code;
  e.syscall = syscall;
  e.path = path;
  return e;
}

// ---------------------------------------------------------------------------------------------
// The real file system.

class NodeFileHandle implements FileHandle {
  /** The page-cache drop in flight, if any (the descriptor stays open until it ends). */
  private dropping: Promise<unknown> | undefined;

  constructor(
    readonly path: string,
    private readonly handle: fsp.FileHandle,
  ) {}

  async read(buffer: Uint8Array, position: number): Promise<number> {
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, position);
    return bytesRead;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  }

  async writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    let total = 0;
    for (const b of buffers) total += b.length;
    // A small write into the page cache costs less than the round trip to the thread pool and
    // back (which a latency-bound caller pays before its fsync can even start).
    const bytesWritten =
      total <= SYNC_WRITE_BYTES_MAX ? writevSync(this.handle.fd, buffers as Uint8Array[], position) : (await this.handle.writev(buffers as Uint8Array[], position)).bytesWritten;
    if (bytesWritten === total) return;
    // Short writev (rare on regular files): finish buffer by buffer.
    let skip = bytesWritten;
    let at = position + bytesWritten;
    for (const b of buffers) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      const rest = b.subarray(skip);
      skip = 0;
      await this.write(rest, at);
      at += rest.length;
    }
  }

  sync(): Promise<void> {
    return this.handle.sync();
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  truncate(lengthBytes: number): Promise<void> {
    return this.handle.truncate(lengthBytes);
  }

  async size(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  dropCachedPages(offset: number, length: number): void {
    const previous = this.dropping;
    const drop = (previous ?? Promise.resolve()).then(() => dropCachedPages(this.handle.fd, offset, length));
    this.dropping = drop;
    void drop.then(() => {
      if (this.dropping === drop) this.dropping = undefined;
    });
  }

  async close(): Promise<void> {
    await this.dropping;
    return this.handle.close();
  }
}

/** The real file system (node:fs/promises). */
export const nodeFileSystem: FileSystem = {
  async open(path, flags) {
    return new NodeFileHandle(path, await fsp.open(path, flags === 'w' ? 'w+' : flags === 'wx' ? 'wx+' : flags));
  },
  readFile(path) {
    return fsp.readFile(path);
  },
  async stat(path) {
    const s = await fsp.stat(path, { bigint: true });
    return { size: Number(s.size), isFile: s.isFile(), isDirectory: s.isDirectory(), identity: `${s.dev}:${s.ino}:${s.birthtimeNs}:${s.size}:${s.mtimeNs}` };
  },
  async exists(path) {
    try {
      await fsp.lstat(path);
      return true;
    } catch (e) {
      if (isErrnoCode(e, 'ENOENT')) return false;
      throw e;
    }
  },
  async readdir(path) {
    return (await fsp.readdir(path)).sort();
  },
  async mkdir(path, options) {
    await fsp.mkdir(path, { recursive: options?.recursive ?? false });
  },
  rename(from, to) {
    return fsp.rename(from, to);
  },
  unlink(path) {
    return fsp.unlink(path);
  },
  removeTree(path) {
    return fsp.rm(path, { recursive: true, force: true });
  },
  truncate(path, lengthBytes) {
    return fsp.truncate(path, lengthBytes);
  },
  link(existing, newPath) {
    return fsp.link(existing, newPath);
  },
  async fsyncDir(path) {
    const h = await fsp.open(path, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  },
};

/**
 * Replace `path` by `data` durably: write `path.tmp`, fsync it, rename it over `path`, fsync
 * the directory. Readers see the old or the new content, never a mix. Callers serialize
 * writes to one path (the temp name is fixed).
 */
export async function writeFileDurable(fs: FileSystem, path: string, data: Uint8Array): Promise<void> {
  const temp = `${path}.tmp`;
  const h = await fs.open(temp, 'w');
  try {
    await h.write(data, 0);
    await h.sync();
  } finally {
    await h.close();
  }
  await fs.rename(temp, path);
  await fs.fsyncDir(dirname(path));
}

/**
 * Create `path` and its missing parents durably (each new directory's parent is fsynced after
 * the mkdir). Returns true when something was created.
 */
export async function ensureDirectory(fs: FileSystem, path: string): Promise<boolean> {
  const missing: string[] = [];
  for (let d = resolve(path); !(await fs.exists(d)); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      await fs.mkdir(d);
    } catch (e) {
      if (!isErrnoCode(e, 'EEXIST')) throw e;
    }
    await fs.fsyncDir(dirname(d));
  }
  return missing.length > 0;
}

// ---------------------------------------------------------------------------------------------
// The fault-injecting file system.

/** Thrown by every operation of a {@link FaultyFileSystem} that crashed (until `crash()` "reboots" it). */
export class SimulatedCrashError extends Error {
  override readonly name = 'SimulatedCrashError';
  constructor(what: string) {
    super(`simulated crash: ${what}`);
  }
}

/** Durability bookkeeping of one inode. Invariant: `undo` only covers bytes below `syncedLength`. */
interface InodeState {
  size: number;
  /** Bytes [0, syncedLength) are durable (as modified by the `undo` entries, newest last). */
  syncedLength: number;
  /** Old content of durable bytes overwritten or truncated since the last fsync, oldest first. */
  undo: { position: number; bytes: Buffer }[];
}

/** A directory operation not yet durable: undone by a crash unless every dir in `pendingDirs` was fsynced after it. */
interface DirectoryOperation {
  readonly sequence: number;
  readonly what: string;
  readonly pendingDirs: Set<string>;
  readonly undo: () => Promise<void>;
  /** Once durable: drop what the undo needed (the stashed old file). */
  readonly commit: () => Promise<void>;
}

/** What a crash keeps of unsynced appended bytes (the default keeps none: the worst case). */
export interface CrashOptions {
  /** For each file with `unsyncedBytes` past its durable length, how many of them survive (clamped). */
  keepUnsyncedBytes?: ((path: string, unsyncedBytes: number) => number) | undefined;
}

/** Counters of a {@link FaultyFileSystem}, for tests. */
export interface FaultyFileSystemStats {
  fsyncs: number;
  fsyncDirs: number;
  writes: number;
  crashes: number;
}

function inodeKey(s: BigIntStats): string {
  return `${s.dev}:${s.ino}`;
}

/**
 * A real directory tree under `root` with the durability of a power cut simulated on top.
 *
 * It tracks, per inode, the bytes written since the last fsync and, per directory, the entries
 * changed since the last fsync of that directory. `crash()` then drops every write that was
 * not fsynced: files go back to their durable length (overwritten durable bytes are restored),
 * unsynced creates, links and mkdirs are removed, unsynced renames and unlinks are reverted
 * (the old files are kept aside in a stash until their removal is durable). Reads see
 * everything written, like the page cache.
 *
 * Model limits (kept simple on purpose): data durability ignores whether the directory entry
 * of a file was synced unless the entry itself is undone; ordering between directories is not
 * modelled (each operation is undone on its own); a crash keeps no partial unsynced data
 * except through `keepUnsyncedBytes` (appended tails) and `tearNextWrite`.
 *
 * Faults: `tearNextWrite`, `failNextFsync`, `failFsyncsFrom`, `failWritesWithEnospc`. After a
 * crash (simulated or torn write) every operation and every handle opened before fails with
 * {@link SimulatedCrashError} until `crash()` completes; afterwards new operations work (a
 * "reboot"), and faults are cleared.
 */
export class FaultyFileSystem implements FileSystem {
  readonly root: string;
  readonly stats: FaultyFileSystemStats = { fsyncs: 0, fsyncDirs: 0, writes: 0, crashes: 0 };
  private readonly stashDir: string;
  private stashCounter = 0;
  /** Bumped at every crash: operations started in an older generation fail. */
  private generation = 0;
  /** True from a torn write or the start of `crash()` until `crash()` completes. */
  private down = false;
  private operationSequence = 0;
  private readonly inodes = new Map<string, InodeState>();
  private directoryOperations: DirectoryOperation[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly openHandles = new Set<FaultyFileHandle>();
  private tearBytes: number | null = null;
  private failNextFsyncError: Error | null = null;
  private readonly failFsyncPrefixes: string[] = [];
  private enospc = false;

  /** `root` must exist. The stash lives next to it (`.<name>.faulty-stash`), outside the tree. */
  constructor(root: string) {
    this.root = resolve(root);
    this.stashDir = join(dirname(this.root), `.${basename(this.root)}.faulty-stash`);
  }

  // --- faults -------------------------------------------------------------------------------

  /** The next write (or writev) on any file lands only its first `bytes` bytes, durably, then the file system is down. */
  tearNextWrite(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`tearNextWrite: bad byte count ${bytes}`);
    this.tearBytes = bytes;
  }

  /** The next fsync (file or directory) fails with `error` (default EIO) and makes nothing durable. */
  failNextFsync(error?: Error): void {
    this.failNextFsyncError = error ?? errnoError('EIO', 'fsync', '');
  }

  /** Every fsync of `path` or of anything under it fails with EIO from now on (until `crash()`). */
  failFsyncsFrom(path: string): void {
    this.failFsyncPrefixes.push(resolve(path));
  }

  /** While on, writes fail with ENOSPC and write nothing. */
  failWritesWithEnospc(on: boolean): void {
    this.enospc = on;
  }

  /** Clear every pending fault. */
  clearFaults(): void {
    this.tearBytes = null;
    this.failNextFsyncError = null;
    this.failFsyncPrefixes.length = 0;
    this.enospc = false;
  }

  /** True between a torn write and the next `crash()`. */
  get isDown(): boolean {
    return this.down;
  }

  // --- crash --------------------------------------------------------------------------------

  /**
   * Power cut and reboot: wait for the operations in flight, invalidate every open handle,
   * drop what was not durable, clear faults. Resolves when the tree holds only durable state.
   */
  async crash(options: CrashOptions = {}): Promise<void> {
    this.down = true;
    this.generation++;
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
    for (const h of this.openHandles) await h.closeReal();
    this.openHandles.clear();
    for (const op of this.directoryOperations.reverse()) {
      try {
        await op.undo();
      } catch {
        // Best effort: a later durable operation may have moved the entry away.
      }
    }
    this.directoryOperations = [];
    const paths = await this.walk(this.root);
    for (const [key, state] of this.inodes) {
      const path = paths.get(key);
      if (path === undefined) continue;
      const h = await fsp.open(path, 'r+');
      try {
        for (const u of state.undo.reverse()) await h.write(u.bytes, 0, u.bytes.length, u.position);
        const size = (await h.stat()).size;
        if (size > state.syncedLength) {
          const unsynced = size - state.syncedLength;
          const chosen = options.keepUnsyncedBytes?.(path, unsynced) ?? 0;
          const keep = Math.max(0, Math.min(unsynced, Math.floor(chosen)));
          await h.truncate(state.syncedLength + keep);
        }
      } finally {
        await h.close();
      }
    }
    this.inodes.clear();
    await fsp.rm(this.stashDir, { recursive: true, force: true });
    this.clearFaults();
    this.stats.crashes++;
    this.down = false;
  }

  private async walk(dir: string, out = new Map<string, string>()): Promise<Map<string, string>> {
    for (const name of await fsp.readdir(dir)) {
      const p = join(dir, name);
      const s = await fsp.lstat(p, { bigint: true });
      if (s.isDirectory()) await this.walk(p, out);
      else if (s.isFile() && !out.has(inodeKey(s))) out.set(inodeKey(s), p);
    }
    return out;
  }

  // --- plumbing -----------------------------------------------------------------------------

  private checkPath(path: string): string {
    const p = resolve(path);
    const rel = relative(this.root, p);
    if (rel.startsWith('..') || rel.startsWith(sep)) throw new Error(`FaultyFileSystem: ${path} is outside ${this.root}`);
    return p;
  }

  /** @internal Start an operation: fails when down; returns the generation to check at the end. */
  enter(what: string): number {
    if (this.down) throw new SimulatedCrashError(what);
    return this.generation;
  }

  /** @internal Run the real operation, tracked so `crash()` waits for it; fails if a crash happened meanwhile. */
  async run<T>(generation: number, what: string, real: () => Promise<T>): Promise<T> {
    const promise = real();
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    let result: T;
    try {
      result = await promise;
    } catch (e) {
      if (generation !== this.generation) throw new SimulatedCrashError(what);
      throw e;
    }
    if (generation !== this.generation) throw new SimulatedCrashError(what);
    return result;
  }

  private checkFsyncFault(path: string): void {
    const e = this.failNextFsyncError;
    if (e !== null) {
      this.failNextFsyncError = null;
      throw e;
    }
    for (const prefix of this.failFsyncPrefixes) {
      if (path === prefix || path.startsWith(prefix + sep)) throw errnoError('EIO', 'fsync', path);
    }
  }

  /** @internal Called by a handle before a write: fault checks, tear. Returns the bytes to really write, or all. */
  writeFault(path: string): number | null {
    if (this.enospc) throw errnoError('ENOSPC', 'write', path);
    const tear = this.tearBytes;
    this.tearBytes = null;
    return tear;
  }

  /** @internal A torn write landed: the file system is down until `crash()`. */
  haltAfterTear(): void {
    this.down = true;
    this.generation++;
  }

  /** @internal The durability bookkeeping of an inode (created on first use). */
  state(key: string, sizeIfNew: number, syncedIfNew: number): InodeState {
    let s = this.inodes.get(key);
    if (s === undefined) {
      s = { size: sizeIfNew, syncedLength: syncedIfNew, undo: [] };
      this.inodes.set(key, s);
    }
    return s;
  }

  private addDirectoryOperation(what: string, dirs: string[], undo: () => Promise<void>, commit: () => Promise<void> = async () => {}): DirectoryOperation {
    const op: DirectoryOperation = { sequence: this.operationSequence++, what, pendingDirs: new Set(dirs), undo, commit };
    this.directoryOperations.push(op);
    return op;
  }

  /**
   * Run a real directory change under an undo registered beforehand; the undo runs only if the
   * change really happened (a crash waits for operations in flight, so the flag is settled).
   */
  private async changeDirectory<T>(generation: number, what: string, dirs: string[], undo: () => Promise<void>, real: () => Promise<T>): Promise<T> {
    const done = { happened: false };
    const op = this.addDirectoryOperation(what, dirs, async () => {
      if (done.happened) await undo();
    });
    try {
      return await this.run(generation, what, async () => {
        const result = await real();
        done.happened = true;
        return result;
      });
    } catch (e) {
      if (!this.isCrash(e)) this.removeDirectoryOperation(op);
      throw e;
    }
  }

  private removeDirectoryOperation(op: DirectoryOperation): void {
    this.directoryOperations = this.directoryOperations.filter((o) => o !== op);
  }

  /** A fresh path in the stash (outside the tree) to keep a removed or replaced entry for undo. */
  private async stashPath(): Promise<string> {
    await fsp.mkdir(this.stashDir, { recursive: true });
    return join(this.stashDir, String(this.stashCounter++));
  }

  private isCrash(e: unknown): boolean {
    return e instanceof SimulatedCrashError;
  }

  /** @internal A handle was closed by its owner. */
  forgetHandle(h: FaultyFileHandle): void {
    this.openHandles.delete(h);
  }

  /** @internal fsync of a file handle: faults, then the synced length advances to the size at the call. */
  async fileSync(path: string, key: string, generation: number, dataOnly: boolean, real: () => Promise<void>): Promise<void> {
    this.checkFsyncFault(path);
    const state = this.inodes.get(key);
    const sizeAtStart = state?.size ?? 0;
    const undoAtStart = state?.undo.length ?? 0;
    await this.run(generation, dataOnly ? 'fdatasync' : 'fsync', real);
    this.stats.fsyncs++;
    if (state !== undefined) {
      state.syncedLength = sizeAtStart;
      state.undo.splice(0, undoAtStart);
    }
  }

  // --- FileSystem ---------------------------------------------------------------------------

  async open(path: string, flags: OpenFlags): Promise<FileHandle> {
    const p = this.checkPath(path);
    const generation = this.enter('open');
    const existing = await this.run(generation, 'open', () => fsp.stat(p, { bigint: true }).catch((e: unknown) => {
      if (isErrnoCode(e, 'ENOENT')) return null;
      throw e;
    }));
    if (existing !== null && flags === 'w') {
      // Truncation on open: the durable content must come back after a crash.
      const s = this.state(inodeKey(existing), Number(existing.size), Number(existing.size));
      if (s.syncedLength > 0) {
        const old = await this.run(generation, 'open', () => fsp.readFile(p));
        s.undo.push({ position: 0, bytes: old.subarray(0, s.syncedLength) });
      }
      s.size = 0;
    }
    // Writable handles are opened readable too, to capture overwritten bytes.
    const realFlags = flags === 'w' ? 'w+' : flags === 'wx' ? 'wx+' : flags;
    // A descriptor opened while a crash started is closed at once (nobody will get it).
    const openReal = async (): Promise<fsp.FileHandle> => {
      const h = await fsp.open(p, realFlags);
      if (generation !== this.generation) await h.close();
      return h;
    };
    const handle =
      existing === null && (flags === 'w' || flags === 'wx')
        ? await this.changeDirectory(generation, `create ${p}`, [dirname(p)], () => fsp.unlink(p), openReal)
        : await this.run(generation, 'open', openReal);
    const st = await handle.stat({ bigint: true });
    if (generation !== this.generation) {
      await handle.close();
      throw new SimulatedCrashError('open');
    }
    const key = inodeKey(st);
    if (flags !== 'r') this.state(key, Number(st.size), existing === null ? 0 : Number(st.size));
    const h = new FaultyFileHandle(this, p, handle, key, generation, flags !== 'r');
    this.openHandles.add(h);
    return h;
  }

  async readFile(path: string): Promise<Buffer> {
    const p = this.checkPath(path);
    return this.run(this.enter('readFile'), 'readFile', () => fsp.readFile(p));
  }

  async stat(path: string): Promise<FileStats> {
    const p = this.checkPath(path);
    return this.run(this.enter('stat'), 'stat', () => nodeFileSystem.stat(p));
  }

  async exists(path: string): Promise<boolean> {
    const p = this.checkPath(path);
    const generation = this.enter('exists');
    return this.run(generation, 'exists', () => nodeFileSystem.exists(p));
  }

  async readdir(path: string): Promise<string[]> {
    const p = this.checkPath(path);
    return this.run(this.enter('readdir'), 'readdir', () => nodeFileSystem.readdir(p));
  }

  async mkdir(path: string, options?: { recursive?: boolean | undefined }): Promise<void> {
    const p = this.checkPath(path);
    const generation = this.enter('mkdir');
    const missing: string[] = [];
    if (options?.recursive === true) {
      for (let d = p; d !== this.root && d !== dirname(d); d = dirname(d)) {
        if (await nodeFileSystem.exists(d)) break;
        missing.unshift(d);
      }
    } else {
      missing.push(p);
    }
    for (const d of missing) {
      await this.changeDirectory(generation, `mkdir ${d}`, [dirname(d)], () => fsp.rm(d, { recursive: true, force: true }), () => fsp.mkdir(d));
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const f = this.checkPath(from);
    const t = this.checkPath(to);
    const generation = this.enter('rename');
    const target = await this.run(generation, 'rename', () => fsp.lstat(t).catch(() => null));
    const targetIsDirectory = target?.isDirectory() === true;
    if (targetIsDirectory && (await fsp.readdir(t)).length > 0) throw errnoError('ENOTEMPTY', 'rename', t);
    const stash = target === null ? null : await this.stashPath();
    // The undo is registered before any real change; flags set by the real operations tell it
    // what actually happened (a crash waits for operations in flight before undoing).
    const done = { stashed: false, renamed: false };
    const op = this.addDirectoryOperation(
      `rename ${f} -> ${t}`,
      [dirname(f), dirname(t)],
      async () => {
        if (done.renamed) await fsp.rename(t, f);
        if (stash !== null && done.stashed && (done.renamed || targetIsDirectory)) await fsp.rename(stash, t);
      },
      async () => {
        if (stash !== null) await fsp.rm(stash, { recursive: true, force: true });
      },
    );
    try {
      if (stash !== null) {
        // A file target is kept by a hard link (the rename below replaces it atomically); an
        // empty directory target is moved aside.
        await this.run(generation, 'rename', async () => {
          if (targetIsDirectory) await fsp.rename(t, stash);
          else await fsp.link(t, stash);
          done.stashed = true;
        });
      }
      await this.run(generation, 'rename', async () => {
        await fsp.rename(f, t);
        done.renamed = true;
      });
    } catch (e) {
      if (this.isCrash(e)) throw e;
      this.removeDirectoryOperation(op);
      if (stash !== null && done.stashed && targetIsDirectory) await fsp.rename(stash, t).catch(() => {});
      throw e;
    }
  }

  private async removeEntry(p: string, what: string): Promise<void> {
    const generation = this.enter(what);
    const stash = await this.stashPath();
    const done = { stashed: false };
    const op = this.addDirectoryOperation(
      `${what} ${p}`,
      [dirname(p)],
      async () => {
        if (done.stashed) await fsp.rename(stash, p);
      },
      () => fsp.rm(stash, { recursive: true, force: true }),
    );
    try {
      await this.run(generation, what, async () => {
        await fsp.rename(p, stash);
        done.stashed = true;
      });
    } catch (e) {
      if (this.isCrash(e)) throw e;
      this.removeDirectoryOperation(op);
      throw e;
    }
  }

  async unlink(path: string): Promise<void> {
    const p = this.checkPath(path);
    const s = await this.run(this.enter('unlink'), 'unlink', () => fsp.lstat(p));
    if (s.isDirectory()) throw errnoError('EISDIR', 'unlink', p);
    await this.removeEntry(p, 'unlink');
  }

  async removeTree(path: string): Promise<void> {
    const p = this.checkPath(path);
    if (!(await this.exists(p))) return;
    await this.removeEntry(p, 'removeTree');
  }

  async truncate(path: string, lengthBytes: number): Promise<void> {
    const h = await this.open(path, 'r+');
    try {
      await h.truncate(lengthBytes);
    } finally {
      await h.close();
    }
  }

  async link(existing: string, newPath: string): Promise<void> {
    const e = this.checkPath(existing);
    const n = this.checkPath(newPath);
    const generation = this.enter('link');
    await this.changeDirectory(generation, `link ${e} -> ${n}`, [dirname(n)], () => fsp.unlink(n), () => fsp.link(e, n));
  }

  async fsyncDir(path: string): Promise<void> {
    const p = this.checkPath(path);
    const generation = this.enter('fsyncDir');
    this.checkFsyncFault(p);
    const sequenceAtStart = this.operationSequence;
    await this.run(generation, 'fsyncDir', () => nodeFileSystem.fsyncDir(p));
    this.stats.fsyncDirs++;
    const durable: DirectoryOperation[] = [];
    for (const op of this.directoryOperations) {
      if (op.sequence >= sequenceAtStart) continue;
      op.pendingDirs.delete(p);
      if (op.pendingDirs.size === 0) durable.push(op);
    }
    if (durable.length === 0) return;
    this.directoryOperations = this.directoryOperations.filter((op) => !durable.includes(op));
    for (const op of durable) await op.commit();
  }
}

class FaultyFileHandle implements FileHandle {
  private closed = false;

  constructor(
    private readonly fs: FaultyFileSystem,
    readonly path: string,
    private readonly handle: fsp.FileHandle,
    private readonly key: string,
    private readonly generation: number,
    private readonly writable: boolean,
  ) {}

  private enter(what: string): number {
    const g = this.fs.enter(what);
    if (g !== this.generation || this.closed) throw new SimulatedCrashError(`${what} on a handle from before a crash`);
    return g;
  }

  async read(buffer: Uint8Array, position: number): Promise<number> {
    const g = this.enter('read');
    return this.fs.run(g, 'read', async () => (await this.handle.read(buffer, 0, buffer.length, position)).bytesRead);
  }

  write(data: Uint8Array, position: number): Promise<void> {
    return this.writev([data], position);
  }

  async writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    const g = this.enter('write');
    if (!this.writable) throw errnoError('EBADF', 'write', this.path);
    const tear = this.fs.writeFault(this.path);
    let total = 0;
    for (const b of buffers) total += b.length;
    const state = this.fs.state(this.key, 0, 0);
    let data = Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)), total);
    if (tear !== null) data = data.subarray(0, Math.min(tear, total));
    if (position < state.syncedLength && data.length > 0) {
      const end = Math.min(position + data.length, state.syncedLength);
      const old = Buffer.alloc(end - position);
      const n = await this.fs.run(g, 'write', async () => (await this.handle.read(old, 0, old.length, position)).bytesRead);
      state.undo.push({ position, bytes: old.subarray(0, n) });
    }
    await this.fs.run(g, 'write', async () => {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await this.handle.write(data, done, data.length - done, position + done);
        done += bytesWritten;
      }
    });
    this.fs.stats.writes++;
    state.size = Math.max(state.size, position + data.length);
    if (tear !== null) {
      // What landed is on disk: the file's current content counts as durable.
      state.syncedLength = state.size;
      state.undo.length = 0;
      this.fs.haltAfterTear();
      throw new SimulatedCrashError(`torn write of ${data.length} of ${total} bytes to ${this.path}`);
    }
  }

  async sync(): Promise<void> {
    const g = this.enter('fsync');
    return this.fs.fileSync(this.path, this.key, g, false, () => this.handle.sync());
  }

  async datasync(): Promise<void> {
    const g = this.enter('fdatasync');
    return this.fs.fileSync(this.path, this.key, g, true, () => this.handle.datasync());
  }

  async truncate(lengthBytes: number): Promise<void> {
    const g = this.enter('truncate');
    const state = this.fs.state(this.key, 0, 0);
    if (lengthBytes < state.syncedLength) {
      const old = Buffer.alloc(state.syncedLength - lengthBytes);
      const n = await this.fs.run(g, 'truncate', async () => (await this.handle.read(old, 0, old.length, lengthBytes)).bytesRead);
      state.undo.push({ position: lengthBytes, bytes: old.subarray(0, n) });
    }
    await this.fs.run(g, 'truncate', () => this.handle.truncate(lengthBytes));
    state.size = lengthBytes;
  }

  async size(): Promise<number> {
    const g = this.enter('fstat');
    return this.fs.run(g, 'fstat', async () => (await this.handle.stat()).size);
  }

  /** Advice only, and a simulated crash closes the descriptor at any moment: nothing is done. */
  dropCachedPages(): void {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.fs.forgetHandle(this);
    await this.closeReal();
  }

  /** Close the real descriptor, ignoring errors (used by crash). */
  async closeReal(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close().catch(() => {});
  }
}
