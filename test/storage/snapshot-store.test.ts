import test from 'ava';
import { crc32c } from '@node-rs/crc32';
import { copyFile, link, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { SnapshotMeta } from '../../raft/core/types.ts';
import {
  SnapshotChecksumError,
  SnapshotInvalidError,
  SnapshotOffsetError,
  ensureDirectory,
  nodeFileSystem,
  openSnapshotStore,
  type FileHandle,
  type FileSystem,
  type SnapshotFileInfo,
} from '../../raft/storage/index.ts';
import { faultyDir, tempDir } from './support.ts';

function meta(index: number, term = 2): SnapshotMeta {
  return { index, term, confState: { voters: ['a', 'b', 'c'], votersOutgoing: [], learners: ['d'], learnersNext: [], autoLeave: false } };
}

function content(name: string, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 13 + name.length * 7 + name.charCodeAt(0)) & 0xff;
  return b;
}

async function writeInto(fs: FileSystem, dir: string, name: string, data: Buffer): Promise<void> {
  const path = join(dir, name);
  await ensureDirectory(fs, join(path, '..'));
  const h = await fs.open(path, 'wx');
  await h.write(data, 0);
  await h.close();
}

const FILES: Record<string, number> = { 'state.json': 300, 'journals/j1/edits_1-10': 70_000, 'journals/j1/edits_inprogress_11': 0, 'blob.bin': 5000 };

function fileInfos(): SnapshotFileInfo[] {
  return Object.entries(FILES).map(([name, bytes]) => ({ name, bytes, crc32c: crc32c(content(name, bytes)) }));
}

/** The real file system, counting the bytes read from each file (by base name) through it. */
function countingFileSystem(): { fs: FileSystem; bytesRead: Map<string, number> } {
  const bytesRead = new Map<string, number>();
  const fs: FileSystem = {
    ...nodeFileSystem,
    async open(path, flags) {
      const handle = await nodeFileSystem.open(path, flags);
      const name = basename(path);
      return Object.assign(Object.create(handle) as FileHandle, {
        async read(buffer: Uint8Array, position: number) {
          const n = await handle.read(buffer, position);
          bytesRead.set(name, (bytesRead.get(name) ?? 0) + n);
          return n;
        },
      });
    },
  };
  return { fs, bytesRead };
}

test('snapshot store - publish, latest and retention of the newest two', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const store = await openSnapshotStore(dir, { fs });
  t.is(await store.latest(), null);
  for (const index of [10, 20, 30]) {
    const writer = await store.begin(meta(index));
    t.deepEqual(await readdir(writer.dir), []);
    for (const [name, bytes] of Object.entries(FILES)) await writeInto(fs, writer.dir, name, content(name, bytes));
    const info = await writer.publish();
    t.is(info.dir, join(dir, `snap-${'2'.padStart(16, '0')}-${String(index).padStart(16, '0')}`));
    t.deepEqual(info.files.map((f) => f.name), Object.keys(FILES).sort());
    t.deepEqual(info.files, [...fileInfos()].sort((a, b) => (a.name < b.name ? -1 : 1)));
  }
  const latest = await store.latest();
  t.is(latest?.meta.index, 30);
  t.deepEqual(latest?.meta, meta(30));
  t.deepEqual((await store.list()).map((i) => i.meta.index), [20, 30]);
  await store.verify(latest!);
  t.deepEqual(await readFile(store.pathOf(latest!, 'blob.bin')), content('blob.bin', 5000));
  const h = await store.openFile(latest!, 'state.json');
  const buf = Buffer.alloc(300);
  t.is(await h.read(buf, 0), 300);
  await h.close();
  // Published snapshots survive a crash; a writer not published leaves nothing.
  const unfinished = await store.begin(meta(40));
  await writeInto(fs, unfinished.dir, 'state.json', content('x', 10));
  await fs.crash();
  const reopened = await openSnapshotStore(dir, { fs });
  t.is((await reopened.latest())?.meta.index, 30);
  await reopened.verify((await reopened.latest())!);
  t.deepEqual((await readdir(dir)).sort(), ['snap-0000000000000002-0000000000000020', 'snap-0000000000000002-0000000000000030']);
});

test('snapshot store - abort removes the temporary directory; a damaged file fails verify', async (t) => {
  const dir = await tempDir(t);
  const store = await openSnapshotStore(dir, { retain: 1 });
  const w = await store.begin(meta(5));
  await writeInto((await import('../../raft/storage/index.ts')).nodeFileSystem, w.dir, 'f', content('f', 10));
  await w.abort();
  t.deepEqual(await readdir(dir), []);
  const w2 = await store.begin(meta(6));
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(w2.dir, 'f'), content('f', 100));
  const info = await w2.publish();
  await writeFile(join(info.dir, 'f'), content('g', 100));
  await t.throwsAsync(store.verify(info), { instanceOf: SnapshotChecksumError });
});

test('snapshot store - a snapshot received in chunks resumes after a restart from offsetOf', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const files = fileInfos();
  const chunkBytes = 4096;
  let store = await openSnapshotStore(dir, { fs });
  let receiver = await store.beginReceive(meta(50, 3), files);
  for (const f of files) t.is(receiver.offsetOf(f.name), 0);
  // Send state.json fully and part of the big file, then the receiver "crashes".
  await receiver.writeChunk('state.json', 0, content('state.json', 300));
  const big = content('journals/j1/edits_1-10', 70_000);
  await receiver.writeChunk('journals/j1/edits_1-10', 0, big.subarray(0, chunkBytes));
  await receiver.writeChunk('journals/j1/edits_1-10', chunkBytes, big.subarray(chunkBytes, 2 * chunkBytes));
  const unacknowledged = receiver.writeChunk('journals/j1/edits_1-10', 2 * chunkBytes, big.subarray(2 * chunkBytes, 3 * chunkBytes)).catch(() => {});
  await fs.crash();
  await unacknowledged;

  store = await openSnapshotStore(dir, { fs });
  receiver = await store.beginReceive(meta(50, 3), files);
  t.is(receiver.offsetOf('state.json'), 300);
  const resumeAt = receiver.offsetOf('journals/j1/edits_1-10');
  t.true(resumeAt === 2 * chunkBytes || resumeAt === 3 * chunkBytes, `resume at ${resumeAt}`);
  await t.throwsAsync(receiver.writeChunk('journals/j1/edits_1-10', 0, big.subarray(0, 10)), { instanceOf: SnapshotOffsetError });
  // Pipelined chunks, in order.
  const sends = [];
  for (let o = resumeAt; o < big.length; o += chunkBytes) sends.push(receiver.writeChunk('journals/j1/edits_1-10', o, big.subarray(o, Math.min(big.length, o + chunkBytes))));
  sends.push(receiver.writeChunk('blob.bin', 0, content('blob.bin', 5000)));
  await Promise.all(sends);
  await t.throwsAsync(receiver.writeChunk('blob.bin', 5000, Buffer.alloc(1)), { instanceOf: SnapshotInvalidError });
  const info = await receiver.finish();
  t.is(info.meta.index, 50);
  t.deepEqual(await store.latest(), info);
  await store.verify(info);
  t.deepEqual(await readFile(join(info.dir, 'journals/j1/edits_1-10')), big);
  t.is((await readFile(join(info.dir, 'journals/j1/edits_inprogress_11'))).length, 0);
  await fs.crash();
  const afterCrash = await openSnapshotStore(dir, { fs });
  t.deepEqual(await afterCrash.latest(), info);
  t.false((await readdir(dir)).some((n) => n.startsWith('recv-')));
  // Receiving a snapshot we already have completes at once.
  const again = await afterCrash.beginReceive(meta(50, 3), files);
  t.is(again.offsetOf('blob.bin'), 5000);
  t.deepEqual(await again.finish(), info);
});

test('snapshot store - a checksum mismatch is rejected and the partial receive discarded', async (t) => {
  const dir = await tempDir(t);
  const store = await openSnapshotStore(dir);
  const files: SnapshotFileInfo[] = [{ name: 'a', bytes: 100, crc32c: crc32c(content('a', 100)) }];
  const receiver = await store.beginReceive(meta(9), files);
  const wrong = content('a', 100);
  wrong[50] = wrong[50]! ^ 1;
  await receiver.writeChunk('a', 0, wrong);
  const error = await t.throwsAsync(receiver.finish(), { instanceOf: SnapshotChecksumError });
  t.is(error.file, 'a');
  t.is(await store.latest(), null);
  t.deepEqual(await readdir(dir), []);
  // An incomplete file is refused too (and the receive stays resumable).
  const r2 = await store.beginReceive(meta(9), files);
  await r2.writeChunk('a', 0, content('a', 100).subarray(0, 60));
  await t.throwsAsync(r2.finish(), { instanceOf: SnapshotInvalidError, message: /incomplete/ });
  await r2.writeChunk('a', 60, content('a', 100).subarray(60));
  t.is((await r2.finish()).meta.index, 9);
});

test('snapshot store - a different snapshot discards a partial receive; bad names are refused', async (t) => {
  const dir = await tempDir(t);
  const store = await openSnapshotStore(dir);
  const files: SnapshotFileInfo[] = [{ name: 'a', bytes: 10, crc32c: crc32c(content('a', 10)) }];
  const r1 = await store.beginReceive(meta(9), files);
  await r1.writeChunk('a', 0, content('a', 10).subarray(0, 5));
  const r2 = await store.beginReceive(meta(12), files);
  t.is(r2.offsetOf('a'), 0);
  t.deepEqual((await readdir(dir)).filter((n) => n.startsWith('recv-')), ['recv-0000000000000002-0000000000000012']);
  // Same term and index but another file list: starts over.
  const r3 = await store.beginReceive(meta(12), [{ name: 'a', bytes: 11, crc32c: 1 }]);
  t.is(r3.offsetOf('a'), 0);
  for (const name of ['../x', 'meta.json', 'a//b', '.', 'a/../../b', '']) {
    await t.throwsAsync(store.beginReceive(meta(13), [{ name, bytes: 1, crc32c: 0 }]), { instanceOf: SnapshotInvalidError }, name);
  }
  await t.throwsAsync(store.beginReceive(meta(13), [{ name: 'x', bytes: 1, crc32c: 0 }, { name: 'x/y', bytes: 1, crc32c: 0 }]), { instanceOf: SnapshotInvalidError });
  await t.throwsAsync(r3.writeChunk('nope', 0, Buffer.alloc(1)), { instanceOf: SnapshotInvalidError });
  await r3.abort();
  t.false((await readdir(dir)).some((n) => n.startsWith('recv-')));
});

test('snapshot store - a file hard-linked into snapshot after snapshot is checksummed once; a changed file is read again', async (t) => {
  const dir = await tempDir(t);
  const { fs: counting, bytesRead } = countingFileSystem();
  const store = await openSnapshotStore(join(dir, 'snap'), { fs: counting });
  const live = join(dir, 'segment-immutable');
  const changing = join(dir, 'segment-changing');
  await writeFile(live, content('immutable', 300_000));
  await writeFile(changing, content('changing', 1000));
  for (const [i, index] of [10, 20, 30].entries()) {
    const writer = await store.begin(meta(index));
    await link(live, join(writer.dir, 'segment-immutable'));
    if (i === 2) await writeFile(changing, content('changed!', 1000));
    await copyFile(changing, join(writer.dir, 'segment-changing'));
    const info = await writer.publish();
    t.deepEqual(info.files.find((f) => f.name === 'segment-immutable'), { name: 'segment-immutable', bytes: 300_000, crc32c: crc32c(content('immutable', 300_000)) });
    const copied = i === 2 ? content('changed!', 1000) : content('changing', 1000);
    t.deepEqual(info.files.find((f) => f.name === 'segment-changing'), { name: 'segment-changing', bytes: 1000, crc32c: crc32c(copied) });
  }
  // The linked file is read for its checksum once, not at every publish.
  t.is(bytesRead.get('segment-immutable'), 300_000);
  // Every copy is a new file: checksummed each time.
  t.is(bytesRead.get('segment-changing'), 3 * 1000);
});

test('snapshot store - a prefix file: recorded with its declared size and CRC, never read; it may grow after publish; a short one is refused', async (t) => {
  const dir = await tempDir(t);
  const { fs: counting, bytesRead } = countingFileSystem();
  const store = await openSnapshotStore(join(dir, 'snap'), { fs: counting });
  const growing = join(dir, 'growing');
  const all = content('growing', 50_000);
  await writeFile(growing, all.subarray(0, 20_000));
  const writer = await store.begin(meta(10));
  await link(growing, join(writer.dir, 'segment'));
  await writeInto(nodeFileSystem, writer.dir, 'state.json', content('state.json', 300));
  const prefix = { bytes: 12_000, crc32c: crc32c(all.subarray(0, 12_000)) };
  const info = await writer.publish(new Map([['segment', prefix]]));
  t.deepEqual(info.files.find((f) => f.name === 'segment'), { name: 'segment', ...prefix });
  t.is(bytesRead.get('growing') ?? bytesRead.get('segment') ?? 0, 0, 'a prefix file is not read back');
  // The owner keeps appending: the snapshot is still its first 12,000 bytes.
  await writeFile(growing, all);
  await store.verify(info);
  // A prefix whose bytes changed fails verify.
  await writeFile(growing, content('other', 50_000));
  await t.throwsAsync(store.verify(info), { instanceOf: SnapshotChecksumError });
  // A declared prefix longer than the file, or of a file not in the snapshot, is refused (and nothing is published).
  for (const prefixes of [new Map([['segment', { bytes: 60_000, crc32c: 0 }]]), new Map([['missing', { bytes: 1, crc32c: 0 }]])]) {
    const w = await store.begin(meta(20));
    await link(growing, join(w.dir, 'segment'));
    await t.throwsAsync(w.publish(prefixes), { instanceOf: SnapshotInvalidError });
  }
  t.deepEqual((await store.list()).map((i) => i.meta.index), [10]);
});
