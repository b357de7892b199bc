/** Helpers for the storage tests: temporary directories and entries. */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { Entry } from '../../raft/core/types.ts';
import { FaultyFileSystem } from '../../raft/storage/index.ts';

/** A fresh directory `<tmp>/qj-storage-XXXX/data`, removed after the test. */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), 'qj-storage-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  const dir = join(base, 'data');
  await mkdir(dir);
  return dir;
}

/** A temp directory with a FaultyFileSystem over it. */
export async function faultyDir(t: ExecutionContext): Promise<{ dir: string; fs: FaultyFileSystem }> {
  const dir = await tempDir(t);
  return { dir, fs: new FaultyFileSystem(dir) };
}

/** An entry whose data is derived from (index, term) so content checks are meaningful. */
export function entry(index: number, term: number, bytes = 16, type: Entry['type'] = 'normal'): Entry {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (index * 31 + term * 7 + i) & 0xff;
  return { index, term, type, data };
}

/** Entries [from, to] of one term. */
export function entries(from: number, to: number, term: number, bytes = 16): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, bytes));
  return out;
}

/** Comparable form of entries (index, term, type, data as hex). */
export function plain(list: readonly Entry[]): { index: number; term: number; type: string; data: string }[] {
  return list.map((e) => ({ index: e.index, term: e.term, type: e.type, data: Buffer.from(e.data).toString('hex') }));
}
