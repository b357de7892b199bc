/**
 * Snapshots as file sets, installed by atomic rename.
 *
 * Layout of the store directory:
 * - `snap-<term>-<index>/` (16 digits each, zero padded): a published snapshot, its files and
 *   `meta.json` ({@link SnapshotManifest}: meta plus name, size and crc32c of every file);
 * - `tmp-<term>-<index>-<n>/`: a snapshot being written locally (`begin`); removed at open;
 * - `recv-<term>-<index>/`: a snapshot being received in chunks (`beginReceive`) with its
 *   `manifest.json`; kept across restarts so the same snapshot resumes where it stopped.
 *
 * File names inside a snapshot are relative paths (`a/b.bin`), components `[A-Za-z0-9_.-]`,
 * never `.`/`..`; `meta.json` and `manifest.json` at the top are reserved.
 *
 * Durability: files are fsynced, `meta.json` is written and fsynced, every directory of the
 * snapshot is fsynced, then the directory is renamed to `snap-...` and the store directory is
 * fsynced. A crash leaves either no snapshot or a complete one.
 */
import { join, dirname } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import type { ConfState, SnapshotMeta } from '../core/types.ts';
import {
  FatalStorageError,
  SnapshotChecksumError,
  SnapshotInvalidError,
  SnapshotOffsetError,
} from './errors.ts';
import {
  ensureDirectory,
  isErrnoCode,
  nodeFileSystem,
  writeFileDurable,
  type FileHandle,
  type FileSystem,
} from './fs.ts';

/** One file of a snapshot. `bytes` is its size, `crc32c` the CRC-32C of its whole content. */
export interface SnapshotFileInfo {
  readonly name: string;
  readonly bytes: number;
  readonly crc32c: number;
}

/** A published snapshot: its metadata, where it is, and its files (sorted by name). */
export interface SnapshotInfo {
  readonly meta: SnapshotMeta;
  /** Absolute path of the `snap-<term>-<index>` directory. */
  readonly dir: string;
  readonly files: readonly SnapshotFileInfo[];
}

/** The content of `meta.json` (and of a receive's `manifest.json`). */
export interface SnapshotManifest {
  readonly meta: SnapshotMeta;
  readonly files: readonly SnapshotFileInfo[];
}

/**
 * A file of a snapshot that is the first `bytes` bytes of a file still growing: hard-linked into
 * the snapshot, appended to afterwards by its owner. The owner guarantees the prefix never
 * changes while the snapshot exists (the file is only appended to, never truncated or rewritten)
 * and knows its CRC-32C, so publishing reads nothing back. Bytes after the prefix are not part
 * of the snapshot: it is sent, checked and restored as `bytes` bytes.
 */
export interface SnapshotFilePrefix {
  readonly bytes: number;
  readonly crc32c: number;
}

/** Prefix files of a snapshot, by their relative path in it. */
export type SnapshotPrefixes = ReadonlyMap<string, SnapshotFilePrefix>;

/** A snapshot being written locally. Write the files into `dir`, then `publish` or `abort`. */
export interface SnapshotWriter {
  /** An empty directory, to be filled with the snapshot's files (subdirectories allowed). */
  readonly dir: string;
  readonly meta: SnapshotMeta;
  /**
   * Compute sizes and crc32c, fsync everything, write `meta.json`, rename to `snap-<term>-<index>`,
   * fsync the store directory, then delete snapshots beyond `retain`. If that snapshot already
   * exists (same term and index), the new copy is dropped and the existing one returned.
   * Files in `prefixes` are recorded with their declared size and CRC (see
   * {@link SnapshotFilePrefix}); a file shorter than its prefix is refused.
   */
  publish(prefixes?: SnapshotPrefixes): Promise<SnapshotInfo>;
  /** Remove the temporary directory. */
  abort(): Promise<void>;
}

/**
 * A snapshot being received in chunks (InstallSnapshot). Files may be received in any order,
 * each one sequentially; chunks of one file may be pipelined (offsets in order).
 */
export interface SnapshotReceiver {
  readonly meta: SnapshotMeta;
  readonly files: readonly SnapshotFileInfo[];
  /** Bytes of `name` already durable: where a (restarted) sender resumes. */
  offsetOf(name: string): number;
  /**
   * Write `data` at `offset` of `name` and fsync; resolves once durable. `offset` must be the
   * end of the previous accepted chunk of that file (else SnapshotOffsetError) and the chunk
   * must not pass the file's announced size (else SnapshotInvalidError).
   */
  writeChunk(name: string, offset: number, data: Uint8Array): Promise<void>;
  /**
   * Check every file's size and crc32c (a mismatch throws SnapshotChecksumError and discards
   * the partial receive, so a retry starts over), then publish as `SnapshotWriter.publish`.
   */
  finish(): Promise<SnapshotInfo>;
  /** Give up and delete the partial receive (a later `beginReceive` starts from zero). */
  abort(): Promise<void>;
}

export interface SnapshotStoreOptions {
  fs?: FileSystem | undefined;
  /** Published snapshots kept (the newest ones). Default 2, at least 1. */
  retain?: number | undefined;
  /** Buffer used to read files for checksums. Default 1 MiB. */
  readChunkBytes?: number | undefined;
}

export interface SnapshotStore {
  readonly dir: string;
  /** The newest published snapshot (highest index, then term), or null. */
  latest(): Promise<SnapshotInfo | null>;
  /** Every published snapshot, oldest first. */
  list(): Promise<SnapshotInfo[]>;
  begin(meta: SnapshotMeta): Promise<SnapshotWriter>;
  /**
   * Start or resume receiving the snapshot `meta` made of `files`. A partial receive of the
   * same snapshot (same meta and file list) resumes; any other partial receive is discarded.
   * When that snapshot is already published, the receiver is complete at once.
   */
  beginReceive(meta: SnapshotMeta, files: readonly SnapshotFileInfo[]): Promise<SnapshotReceiver>;
  /** Open a file of a published snapshot for reading (the sender side). */
  openFile(info: SnapshotInfo, name: string): Promise<FileHandle>;
  /** Path of a file of a published snapshot. */
  pathOf(info: SnapshotInfo, name: string): string;
  /** Recompute every file's size and crc32c; throws SnapshotChecksumError on a mismatch. */
  verify(info: SnapshotInfo): Promise<void>;
}

const META_FILE = 'meta.json';
const MANIFEST_FILE = 'manifest.json';
const PUBLISHED = /^snap-(\d{16})-(\d{16})$/;
const TEMPORARY = /^tmp-/;
const RECEIVING = /^recv-(\d{16})-(\d{16})$/;
const NAME_COMPONENT = /^[A-Za-z0-9_.-]{1,200}$/;
const NODE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const FILES_MAX = 100_000;

function pad(n: number): string {
  return String(n).padStart(16, '0');
}

/** Directory name of the published snapshot `meta`. */
export function snapshotDirName(meta: Pick<SnapshotMeta, 'term' | 'index'>): string {
  return `snap-${pad(meta.term)}-${pad(meta.index)}`;
}

function checkFileName(name: unknown): string {
  if (typeof name !== 'string') throw new SnapshotInvalidError('file name is not a string');
  const parts = name.split('/');
  for (const p of parts) {
    if (!NAME_COMPONENT.test(p) || p === '.' || p === '..') throw new SnapshotInvalidError(`bad file name '${name}'`);
  }
  if (parts.length === 1 && (name === META_FILE || name === MANIFEST_FILE)) throw new SnapshotInvalidError(`reserved file name '${name}'`);
  return name;
}

function isSafeCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkNodeIds(v: unknown, what: string): readonly string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && NODE_ID.test(x))) throw new SnapshotInvalidError(`bad ${what}`);
  return v as string[];
}

function checkMeta(v: unknown): SnapshotMeta {
  if (typeof v !== 'object' || v === null) throw new SnapshotInvalidError('meta is not an object');
  const { index, term, confState } = v as Record<string, unknown>;
  if (!isSafeCount(index) || !isSafeCount(term)) throw new SnapshotInvalidError('bad meta index or term');
  if (typeof confState !== 'object' || confState === null) throw new SnapshotInvalidError('bad confState');
  const c = confState as Record<string, unknown>;
  if (typeof c.autoLeave !== 'boolean') throw new SnapshotInvalidError('bad confState.autoLeave');
  const cs: ConfState = {
    voters: checkNodeIds(c.voters, 'confState.voters'),
    votersOutgoing: checkNodeIds(c.votersOutgoing, 'confState.votersOutgoing'),
    learners: checkNodeIds(c.learners, 'confState.learners'),
    learnersNext: checkNodeIds(c.learnersNext, 'confState.learnersNext'),
    autoLeave: c.autoLeave,
  };
  return { index, term, confState: cs };
}

function checkFiles(v: unknown): SnapshotFileInfo[] {
  if (!Array.isArray(v) || v.length > FILES_MAX) throw new SnapshotInvalidError('bad file list');
  const seen = new Set<string>();
  const files: SnapshotFileInfo[] = [];
  for (const f of v as unknown[]) {
    if (typeof f !== 'object' || f === null) throw new SnapshotInvalidError('bad file entry');
    const { name, bytes, crc32c: crc } = f as Record<string, unknown>;
    const n = checkFileName(name);
    if (!isSafeCount(bytes)) throw new SnapshotInvalidError(`bad size for '${n}'`);
    if (typeof crc !== 'number' || !Number.isInteger(crc) || crc < 0 || crc > 0xffff_ffff) throw new SnapshotInvalidError(`bad crc32c for '${n}'`);
    if (seen.has(n)) throw new SnapshotInvalidError(`duplicate file '${n}'`);
    seen.add(n);
    files.push({ name: n, bytes, crc32c: crc });
  }
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // A name can't be both a file and a directory.
  for (const f of files) {
    const parts = f.name.split('/');
    for (let i = 1; i < parts.length; i++) if (seen.has(parts.slice(0, i).join('/'))) throw new SnapshotInvalidError(`'${f.name}' is under a file`);
  }
  return files;
}

function parseManifest(raw: Buffer, file: string): SnapshotManifest {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch (cause) {
    throw new SnapshotInvalidError(`${file} is not valid JSON`, { cause });
  }
  if (typeof v !== 'object' || v === null) throw new SnapshotInvalidError(`${file} is not an object`);
  const o = v as Record<string, unknown>;
  return { meta: checkMeta(o.meta), files: checkFiles(o.files) };
}

function encodeManifest(m: SnapshotManifest): Buffer {
  return Buffer.from(JSON.stringify({ meta: m.meta, files: m.files }, null, 1) + '\n', 'utf8');
}

function sameManifest(a: SnapshotManifest, b: SnapshotManifest): boolean {
  return encodeManifest(a).equals(encodeManifest(b));
}

/** Open the snapshot store in `dir` (created if missing); leftovers of local writers are removed. */
export async function openSnapshotStore(dir: string, options: SnapshotStoreOptions = {}): Promise<SnapshotStore> {
  const fs = options.fs ?? nodeFileSystem;
  const retain = Math.max(1, options.retain ?? 2);
  const readChunkBytes = options.readChunkBytes ?? 1024 * 1024;
  await ensureDirectory(fs, dir);
  let removed = false;
  for (const name of await fs.readdir(dir)) {
    if (TEMPORARY.test(name)) {
      await fs.removeTree(join(dir, name));
      removed = true;
    }
  }
  if (removed) await fs.fsyncDir(dir);
  return new FileSnapshotStore(fs, dir, retain, readChunkBytes);
}

/** Most file identities whose checksum a snapshot store remembers. */
export const CHECKSUM_CACHE_ENTRIES_MAX = 4096;

class FileSnapshotStore implements SnapshotStore {
  /** Checksums by file identity (insertion order: the oldest is dropped first). */
  private readonly checksums = new Map<string, { bytes: number; crc32c: number }>();
  private temporaryCounter = 0;
  /** The receive in progress: a new `beginReceive` supersedes it (closing its files). */
  private receiving: ChunkReceiver | null = null;
  /** Serializes publications and retention (they rename and delete in the store directory). */
  private publishing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    private readonly retain: number,
    private readonly readChunkBytes: number,
  ) {}

  private async publishedNames(): Promise<{ name: string; term: number; index: number }[]> {
    const out: { name: string; term: number; index: number }[] = [];
    for (const name of await this.fs.readdir(this.dir)) {
      const m = PUBLISHED.exec(name);
      if (m !== null) out.push({ name, term: Number(m[1]), index: Number(m[2]) });
    }
    return out.sort((a, b) => a.index - b.index || a.term - b.term);
  }

  private async readInfo(name: string): Promise<SnapshotInfo> {
    const dir = join(this.dir, name);
    const manifest = parseManifest(await this.fs.readFile(join(dir, META_FILE)), join(dir, META_FILE));
    return { meta: manifest.meta, dir, files: manifest.files };
  }

  async latest(): Promise<SnapshotInfo | null> {
    const names = await this.publishedNames();
    const newest = names[names.length - 1];
    return newest === undefined ? null : this.readInfo(newest.name);
  }

  async list(): Promise<SnapshotInfo[]> {
    const out: SnapshotInfo[] = [];
    for (const n of await this.publishedNames()) out.push(await this.readInfo(n.name));
    return out;
  }

  pathOf(info: SnapshotInfo, name: string): string {
    if (!info.files.some((f) => f.name === name)) throw new SnapshotInvalidError(`no file '${name}' in ${info.dir}`);
    return join(info.dir, name);
  }

  openFile(info: SnapshotInfo, name: string): Promise<FileHandle> {
    return this.fs.open(this.pathOf(info, name), 'r');
  }

  /**
   * {@link checksum}, remembered by file identity (device, inode, size, mtime): a file hard-linked
   * into snapshot after snapshot (a JournalNode's finalized segments) is read once, not at
   * every snapshot. At most {@link CHECKSUM_CACHE_ENTRIES_MAX} identities are kept.
   */
  private async cachedChecksum(h: FileHandle, identity: string | undefined): Promise<{ bytes: number; crc32c: number }> {
    const cached = identity === undefined ? undefined : this.checksums.get(identity);
    if (cached !== undefined) return cached;
    const computed = await this.checksumOf(h);
    // Keep the answer only if the file did not change while it was read.
    if (identity !== undefined && (await this.fs.stat(h.path)).identity === identity) {
      if (this.checksums.size >= CHECKSUM_CACHE_ENTRIES_MAX) this.checksums.delete(this.checksums.keys().next().value!);
      this.checksums.set(identity, computed);
    }
    return computed;
  }

  /** Size and crc32c of a file, read in bounded chunks. */
  async checksum(path: string): Promise<{ bytes: number; crc32c: number }> {
    const h = await this.fs.open(path, 'r');
    try {
      return await this.checksumOf(h);
    } finally {
      await h.close();
    }
  }

  /** Size and crc32c of an open file from its start, up to `limit` bytes. */
  private async checksumOf(h: FileHandle, limit = Number.MAX_SAFE_INTEGER): Promise<{ bytes: number; crc32c: number }> {
    const buf = Buffer.allocUnsafe(this.readChunkBytes);
    let bytes = 0;
    let crc = 0;
    while (bytes < limit) {
      const n = await h.read(limit - bytes < buf.byteLength ? buf.subarray(0, limit - bytes) : buf, bytes);
      if (n === 0) break;
      crc = crc32c(buf.subarray(0, n), crc);
      bytes += n;
    }
    return { bytes, crc32c: crc };
  }

  /**
   * Check every file against the manifest: its first `bytes` bytes have the recorded CRC. A
   * file may be longer than that (a prefix file, see {@link SnapshotFilePrefix}), never shorter.
   */
  async verify(info: SnapshotInfo): Promise<void> {
    for (const f of info.files) {
      const h = await this.fs.open(join(info.dir, f.name), 'r');
      let actual: { bytes: number; crc32c: number };
      try {
        actual = await this.checksumOf(h, f.bytes);
      } finally {
        await h.close();
      }
      if (actual.bytes !== f.bytes || actual.crc32c !== f.crc32c) throw new SnapshotChecksumError(f.name, f, actual);
    }
  }

  /** Relative paths of the regular files under `root`, and its subdirectories (deepest first). */
  private async walk(
    root: string,
    prefix = '',
    out = { files: [] as string[], dirs: [] as string[], identities: new Map<string, string | undefined>() },
  ): Promise<{ files: string[]; dirs: string[]; identities: Map<string, string | undefined> }> {
    for (const name of await this.fs.readdir(join(root, prefix))) {
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      const st = await this.fs.stat(join(root, rel));
      if (st.isDirectory) {
        await this.walk(root, rel, out);
        out.dirs.push(rel);
      } else {
        out.files.push(rel);
        out.identities.set(rel, st.identity);
      }
    }
    return out;
  }

  /** fsync every subdirectory (deepest first) and `dir` itself. */
  private async fsyncTree(dir: string, subdirs: readonly string[]): Promise<void> {
    for (const d of subdirs) await this.fs.fsyncDir(join(dir, d));
    await this.fs.fsyncDir(dir);
  }

  /** Rename a complete snapshot directory (holding meta.json) into place, then apply retention. Serialized. */
  private install(from: string, info: Omit<SnapshotInfo, 'dir'>): Promise<SnapshotInfo> {
    const run = async (): Promise<SnapshotInfo> => {
      const name = snapshotDirName(info.meta);
      const target = join(this.dir, name);
      if (await this.fs.exists(target)) {
        await this.fs.removeTree(from);
        await this.fs.fsyncDir(this.dir);
        return this.readInfo(name);
      }
      await this.fs.rename(from, target);
      await this.fs.fsyncDir(this.dir);
      await this.applyRetention(name);
      return { meta: info.meta, files: info.files, dir: target };
    };
    const result = this.publishing.then(run, run);
    this.publishing = result.catch(() => {});
    return result;
  }

  private async applyRetention(keep: string): Promise<void> {
    const names = await this.publishedNames();
    const doomed = names.slice(0, Math.max(0, names.length - this.retain)).filter((n) => n.name !== keep);
    for (const n of doomed) await this.fs.removeTree(join(this.dir, n.name));
    if (doomed.length > 0) await this.fs.fsyncDir(this.dir);
  }

  async begin(meta: SnapshotMeta): Promise<SnapshotWriter> {
    checkMeta(meta);
    const dir = join(this.dir, `tmp-${pad(meta.term)}-${pad(meta.index)}-${process.pid}-${this.temporaryCounter++}`);
    await this.fs.mkdir(dir);
    return new LocalSnapshotWriter(this, dir, meta);
  }

  /** Checksum and fsync the files a writer left in `dir`, write meta.json, install. */
  async publishLocal(dir: string, meta: SnapshotMeta, prefixes: SnapshotPrefixes = new Map()): Promise<SnapshotInfo> {
    try {
      const { files: names, dirs, identities } = await this.walk(dir);
      for (const rel of prefixes.keys()) {
        if (!names.includes(rel)) throw new SnapshotInvalidError(`prefix file '${rel}' is not in the snapshot`);
      }
      const files: SnapshotFileInfo[] = [];
      for (const rel of names) {
        checkFileName(rel);
        const prefix = prefixes.get(rel);
        const h = await this.fs.open(join(dir, rel), 'r');
        try {
          await h.sync();
          if (prefix === undefined) {
            files.push({ name: rel, ...(await this.cachedChecksum(h, identities.get(rel))) });
          } else {
            const size = await h.size();
            if (!(Number.isSafeInteger(prefix.bytes) && prefix.bytes >= 0 && prefix.bytes <= size)) {
              throw new SnapshotInvalidError(`prefix of ${prefix.bytes} bytes of '${rel}', which has ${size}`);
            }
            files.push({ name: rel, bytes: prefix.bytes, crc32c: prefix.crc32c >>> 0 });
          }
        } finally {
          await h.close();
        }
      }
      files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const manifest: SnapshotManifest = { meta, files };
      const h = await this.fs.open(join(dir, META_FILE), 'wx');
      try {
        await h.write(encodeManifest(manifest), 0);
        await h.sync();
      } finally {
        await h.close();
      }
      await this.fsyncTree(dir, dirs);
      return await this.install(dir, manifest);
    } catch (e) {
      await this.fs.removeTree(dir).catch(() => {});
      throw e;
    }
  }

  async beginReceive(meta: SnapshotMeta, files: readonly SnapshotFileInfo[]): Promise<SnapshotReceiver> {
    const manifest: SnapshotManifest = { meta: checkMeta(meta), files: checkFiles(files) };
    const published = join(this.dir, snapshotDirName(meta));
    if (await this.fs.exists(published)) {
      const info = await this.readInfo(snapshotDirName(meta));
      if (sameManifest(info, manifest)) return completeReceiver(info);
    }
    if (this.receiving !== null) {
      await this.receiving.detach();
      this.receiving = null;
    }
    const name = `recv-${pad(meta.term)}-${pad(meta.index)}`;
    const dir = join(this.dir, name);
    let resumed: SnapshotManifest | null = null;
    let removed = false;
    for (const other of await this.fs.readdir(this.dir)) {
      if (!RECEIVING.test(other)) continue;
      if (other === name) {
        try {
          const existing = parseManifest(await this.fs.readFile(join(dir, MANIFEST_FILE)), join(dir, MANIFEST_FILE));
          if (sameManifest(existing, manifest)) {
            resumed = existing;
            continue;
          }
        } catch (e) {
          if (!(e instanceof SnapshotInvalidError) && !isErrnoCode(e, 'ENOENT')) throw e;
        }
      }
      await this.fs.removeTree(join(this.dir, other));
      removed = true;
    }
    if (removed) await this.fs.fsyncDir(this.dir);
    const durable = new Map<string, number>();
    if (resumed === null) {
      await this.fs.mkdir(dir);
      await this.fs.fsyncDir(this.dir);
      await writeFileDurable(this.fs, join(dir, MANIFEST_FILE), encodeManifest(manifest));
      for (const f of manifest.files) durable.set(f.name, 0);
    } else {
      for (const f of manifest.files) {
        const path = join(dir, f.name);
        let size = 0;
        try {
          size = (await this.fs.stat(path)).size;
        } catch (e) {
          if (!isErrnoCode(e, 'ENOENT')) throw e;
        }
        if (size > f.bytes) {
          await this.fs.truncate(path, 0);
          size = 0;
        }
        durable.set(f.name, size);
      }
    }
    const receiver = new ChunkReceiver(this, this.fs, dir, manifest, durable);
    this.receiving = receiver;
    return receiver;
  }

  /** Called by a receiver once every file is complete and checked. */
  installReceived(dir: string, manifest: SnapshotManifest, subdirs: readonly string[]): Promise<SnapshotInfo> {
    return (async () => {
      await this.fs.rename(join(dir, MANIFEST_FILE), join(dir, META_FILE));
      await this.fsyncTree(dir, subdirs);
      return this.install(dir, manifest);
    })();
  }

  async discard(dir: string): Promise<void> {
    await this.fs.removeTree(dir);
    await this.fs.fsyncDir(this.dir);
  }
}

class LocalSnapshotWriter implements SnapshotWriter {
  private done = false;

  constructor(
    private readonly store: FileSnapshotStore,
    readonly dir: string,
    readonly meta: SnapshotMeta,
  ) {}

  publish(prefixes?: SnapshotPrefixes): Promise<SnapshotInfo> {
    if (this.done) return Promise.reject(new Error('snapshot writer: already published or aborted'));
    this.done = true;
    return this.store.publishLocal(this.dir, this.meta, prefixes);
  }

  async abort(): Promise<void> {
    this.done = true;
    await this.store.discard(this.dir);
  }
}

function completeReceiver(info: SnapshotInfo): SnapshotReceiver {
  return {
    meta: info.meta,
    files: info.files,
    offsetOf: (name) => {
      const f = info.files.find((x) => x.name === name);
      if (f === undefined) throw new SnapshotInvalidError(`no file '${name}' in this snapshot`);
      return f.bytes;
    },
    writeChunk: async (name) => {
      throw new SnapshotInvalidError(`snapshot ${info.dir} is already complete (chunk for '${name}')`);
    },
    finish: async () => info,
    abort: async () => {},
  };
}

class ChunkReceiver implements SnapshotReceiver {
  readonly meta: SnapshotMeta;
  readonly files: readonly SnapshotFileInfo[];
  /** End of the last accepted chunk per file (>= durable). */
  private readonly accepted: Map<string, number>;
  /** Per file: the chain of its chunk writes (one write in flight per file). */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly handles = new Map<string, FileHandle>();
  private failure: unknown = null;
  private state: 'open' | 'finishing' | 'done' = 'open';

  constructor(
    private readonly store: FileSnapshotStore,
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly manifest: SnapshotManifest,
    private readonly durable: Map<string, number>,
  ) {
    this.meta = manifest.meta;
    this.files = manifest.files;
    this.accepted = new Map(durable);
  }

  private fileInfo(name: string): SnapshotFileInfo {
    const f = this.manifest.files.find((x) => x.name === name);
    if (f === undefined) throw new SnapshotInvalidError(`no file '${name}' in this snapshot`);
    return f;
  }

  offsetOf(name: string): number {
    this.fileInfo(name);
    return this.durable.get(name) ?? 0;
  }

  writeChunk(name: string, offset: number, data: Uint8Array): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error('snapshot receiver: finished or aborted'));
    if (this.failure !== null) return Promise.reject(this.failure);
    let f: SnapshotFileInfo;
    try {
      f = this.fileInfo(name);
    } catch (e) {
      return Promise.reject(e);
    }
    const expected = this.accepted.get(name) ?? 0;
    if (offset !== expected) return Promise.reject(new SnapshotOffsetError(name, expected, offset));
    if (offset + data.length > f.bytes) return Promise.reject(new SnapshotInvalidError(`chunk of '${name}' ends at ${offset + data.length}, past its size ${f.bytes}`));
    this.accepted.set(name, offset + data.length);
    const previous = this.chains.get(name) ?? Promise.resolve();
    const next = previous.then(() => this.writeDurably(name, offset, data));
    this.chains.set(name, next.catch(() => {}));
    return next;
  }

  private async writeDurably(name: string, offset: number, data: Uint8Array): Promise<void> {
    if (this.failure !== null) throw this.failure;
    try {
      const h = await this.handleFor(name);
      await h.write(data, offset);
      try {
        await h.datasync();
      } catch (cause) {
        throw new FatalStorageError(`snapshot receive: fsync of ${h.path} failed`, { cause });
      }
      this.durable.set(name, offset + data.length);
    } catch (e) {
      this.failure = e;
      throw e;
    }
  }

  /** Open (creating durably if needed) the file `name` for writing. */
  private async handleFor(name: string): Promise<FileHandle> {
    const existing = this.handles.get(name);
    if (existing !== undefined) return existing;
    const path = join(this.dir, name);
    await ensureDirectory(this.fs, dirname(path));
    let h: FileHandle;
    if (await this.fs.exists(path)) {
      h = await this.fs.open(path, 'r+');
    } else {
      h = await this.fs.open(path, 'wx');
      await this.fs.fsyncDir(dirname(path));
    }
    this.handles.set(name, h);
    return h;
  }

  private async closeHandles(): Promise<void> {
    for (const h of this.handles.values()) await h.close().catch(() => {});
    this.handles.clear();
  }

  async finish(): Promise<SnapshotInfo> {
    if (this.state !== 'open') throw new Error('snapshot receiver: finished or aborted');
    this.state = 'finishing';
    await Promise.all([...this.chains.values()]);
    if (this.failure !== null) throw this.failure;
    for (const f of this.manifest.files) {
      if (f.bytes === 0 && !this.handles.has(f.name)) await this.handleFor(f.name);
    }
    await this.closeHandles();
    const subdirs = new Set<string>();
    try {
      for (const f of this.manifest.files) {
        const got = this.durable.get(f.name) ?? 0;
        if (got !== f.bytes) throw new SnapshotInvalidError(`file '${f.name}' incomplete: ${got} of ${f.bytes} bytes`);
        const actual = await this.store.checksum(join(this.dir, f.name));
        if (actual.bytes !== f.bytes || actual.crc32c !== f.crc32c) throw new SnapshotChecksumError(f.name, f, actual);
        const parts = f.name.split('/');
        for (let i = parts.length - 1; i >= 1; i--) subdirs.add(parts.slice(0, i).join('/'));
      }
    } catch (e) {
      if (e instanceof SnapshotChecksumError) {
        this.state = 'done';
        await this.store.discard(this.dir);
      } else {
        this.state = 'open';
      }
      throw e;
    }
    this.state = 'done';
    const deepestFirst = [...subdirs].sort((a, b) => b.split('/').length - a.split('/').length);
    return this.store.installReceived(this.dir, this.manifest, deepestFirst);
  }

  async abort(): Promise<void> {
    if (this.state === 'done') return;
    await this.detach();
    await this.store.discard(this.dir);
  }

  /** Stop: later calls fail; wait for the writes in flight and close the files (they stay on disk). */
  async detach(): Promise<void> {
    this.state = 'done';
    await Promise.all([...this.chains.values()]);
    await this.closeHandles();
  }
}
