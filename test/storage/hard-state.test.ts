import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DurableJsonFileAdapter,
  FatalStorageError,
  HARD_STATE_FILE,
  MetaFileCorruptError,
  openHardStateStore,
  openMetaStore,
} from '../../raft/storage/index.ts';
import { faultyDir, tempDir } from './support.ts';

test('hard state - a new store starts at term 0 with no vote', async (t) => {
  const dir = await tempDir(t);
  const store = await openHardStateStore(join(dir, 'raft'));
  t.deepEqual(store.load(), { term: 0, vote: '', commit: 0 });
});

test('hard state - a saved vote survives a crash', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const store = await openHardStateStore(dir, { fs });
  await store.save({ term: 3, vote: 'n2', commit: 7 });
  t.deepEqual(store.load(), { term: 3, vote: 'n2', commit: 7 });
  await fs.crash();
  const reopened = await openHardStateStore(dir, { fs });
  t.deepEqual(reopened.load(), { term: 3, vote: 'n2', commit: 7 });
});

test('hard state - an unacknowledged save may be lost but never leaves a corrupt file', async (t) => {
  for (let tear = 0; tear < 40; tear += 7) {
    const { dir, fs } = await faultyDir(t);
    const store = await openHardStateStore(dir, { fs });
    await store.save({ term: 1, vote: 'a', commit: 1 });
    fs.tearNextWrite(tear);
    const pending = store.save({ term: 2, vote: 'b', commit: 2 });
    await t.throwsAsync(pending, { instanceOf: FatalStorageError });
    await fs.crash();
    const reopened = await openHardStateStore(dir, { fs });
    t.deepEqual(reopened.load(), { term: 1, vote: 'a', commit: 1 }, `tear at ${tear}`);
  }
  // A crash while a save is in flight (no tear): the old or the new state, both valid.
  const { dir, fs } = await faultyDir(t);
  const store = await openHardStateStore(dir, { fs });
  await store.save({ term: 1, vote: 'a', commit: 1 });
  const pending = store.save({ term: 2, vote: 'b', commit: 2 }).then(
    () => true,
    () => false,
  );
  await fs.crash();
  const acknowledged = await pending;
  const loaded = (await openHardStateStore(dir, { fs })).load();
  if (acknowledged) t.deepEqual(loaded, { term: 2, vote: 'b', commit: 2 });
  else t.true(loaded.term === 1 || loaded.term === 2);
});

test('hard state - concurrent saves are serialized, coalesced, and the last one wins', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const store = await openHardStateStore(dir, { fs });
  const saves = [];
  for (let commit = 1; commit <= 20; commit++) saves.push(store.save({ term: 5, vote: 'n1', commit }));
  await Promise.all(saves);
  t.true(fs.stats.fsyncs < 20 * 2, `${fs.stats.fsyncs} file fsyncs for 20 saves`);
  await fs.crash();
  t.deepEqual((await openHardStateStore(dir, { fs })).load(), { term: 5, vote: 'n1', commit: 20 });
});

test('hard state - a term going back or a second vote in a term is refused', async (t) => {
  const dir = await tempDir(t);
  const store = await openHardStateStore(dir);
  await store.save({ term: 4, vote: 'x', commit: 0 });
  t.throws(() => store.save({ term: 3, vote: '', commit: 0 }), { message: /term goes back/ });
  t.throws(() => store.save({ term: 4, vote: 'y', commit: 0 }), { message: /vote/ });
  await store.save({ term: 4, vote: 'x', commit: 2 });
  await store.save({ term: 5, vote: '', commit: 2 });
  t.deepEqual(store.load(), { term: 5, vote: '', commit: 2 });
});

test('hard state - a failed fsync is fatal for this and every later save', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const store = await openHardStateStore(dir, { fs });
  await store.save({ term: 1, vote: '', commit: 0 });
  fs.failNextFsync();
  const error = await t.throwsAsync(store.save({ term: 2, vote: 'a', commit: 0 }), { instanceOf: FatalStorageError });
  await t.throwsAsync(store.save({ term: 3, vote: 'a', commit: 0 }), { is: error });
});

test('hard state - a damaged file is reported, not replaced by defaults', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, HARD_STATE_FILE), '{"term": 1, "vote": "a", "comm');
  const e1 = await t.throwsAsync(openHardStateStore(dir), { instanceOf: MetaFileCorruptError });
  t.regex(e1.message, /not valid JSON/);
  await writeFile(join(dir, HARD_STATE_FILE), '{"term": -1, "vote": "a", "commit": 0}');
  await t.throwsAsync(openHardStateStore(dir), { instanceOf: MetaFileCorruptError, message: /bad term/ });
});

test('meta store - small metadata round trips through the durable lowdb adapter', async (t) => {
  const { dir, fs } = await faultyDir(t);
  const file = join(dir, 'journal-meta.json');
  const store = await openMetaStore(file, { epoch: 0, ids: [] as string[] }, { fs });
  t.deepEqual(store.get(), { epoch: 0, ids: [] });
  await store.save({ epoch: 3, ids: ['a', 'b'] });
  await fs.crash();
  const reopened = await openMetaStore(file, { epoch: 0, ids: [] as string[] }, { fs });
  t.deepEqual(reopened.get(), { epoch: 3, ids: ['a', 'b'] });
  t.deepEqual(JSON.parse(await readFile(file, 'utf8')), { epoch: 3, ids: ['a', 'b'] });
  const adapter = new DurableJsonFileAdapter<{ x: number }>(join(dir, 'missing.json'), { fs });
  t.is(await adapter.read(), null);
});
