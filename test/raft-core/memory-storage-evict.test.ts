import test from 'ava';
import { MemoryStorage, StorageUnavailableError, type Entry } from '../../raft/core/index.ts';

function entry(index: number, term: number, bytes: number, type: Entry['type'] = 'normal'): Entry {
  return { index, term, type, data: new Uint8Array(bytes).fill(index & 0xff) };
}

/** Entries 1..10 of term 1, entry i holding 10 * i bytes; entry 5 a configuration change. */
function stored(): { storage: MemoryStorage; written: Map<number, Entry>; reads: [number, number][] } {
  const written = new Map<number, Entry>();
  const reads: [number, number][] = [];
  const storage = new MemoryStorage();
  const list = Array.from({ length: 10 }, (_, k) => entry(k + 1, 1, 10 * (k + 1), k + 1 === 5 ? 'confChange' : 'normal'));
  for (const e of list) written.set(e.index, e);
  storage.append(list);
  storage.setEntryReader((lo, hi) => {
    reads.push([lo, hi]);
    return Array.from({ length: hi - lo }, (_, k) => written.get(lo + k)!);
  });
  return { storage, written, reads };
}

const total = (from: number, to: number): number => Array.from({ length: to - from + 1 }, (_, k) => 10 * (from + k)).reduce((a, b) => a + b, 0);

test('memory storage - evicted entries are read back through the reader, in runs, and keep their term and size', (t) => {
  const { storage, written, reads } = stored();
  t.is(storage.heldBytes, total(1, 10));
  storage.evict(7);
  // Entry 5 is a configuration change: it keeps its data.
  t.is(storage.heldBytes, total(1, 10) - total(1, 7) + 50);
  t.is(storage.entryBytes(3), 30);
  t.is(storage.term(3), 1);
  t.deepEqual(reads, []);
  const all = storage.entries(1, 11, Number.MAX_SAFE_INTEGER);
  t.deepEqual(all, [...written.values()]);
  t.deepEqual(reads, [[1, 5], [6, 8]]);
  // The byte limit counts evicted entries by their size: 10 + 20 + 30 fit in 60, 40 more does not.
  reads.length = 0;
  t.deepEqual(storage.entries(1, 11, 60).map((e) => e.index), [1, 2, 3]);
  t.deepEqual(reads, [[1, 4]]);
  // Above the evicted prefix nothing is read.
  reads.length = 0;
  t.deepEqual(storage.entries(8, 11, Number.MAX_SAFE_INTEGER), [8, 9, 10].map((i) => written.get(i)));
  t.deepEqual(reads, []);
});

test('memory storage - a truncating append and a compaction keep the held bytes right; evicted entries never come back from memory', (t) => {
  const { storage, written, reads } = stored();
  storage.evict(6);
  // A new leader's entries from 8 on (only unapplied entries are ever replaced).
  const replaced = [entry(8, 2, 3), entry(9, 2, 4)];
  storage.append(replaced);
  written.delete(10);
  for (const e of replaced) written.set(e.index, e); // as the WAL's later write wins
  t.is(storage.heldBytes, 50 + 70 + 3 + 4);
  t.deepEqual(storage.entries(8, 10, Number.MAX_SAFE_INTEGER), replaced);
  storage.evict(100); // capped at the last index
  t.is(storage.heldBytes, 50);
  t.deepEqual(storage.entries(7, 10, Number.MAX_SAFE_INTEGER), [written.get(7)!, ...replaced]);
  t.deepEqual(reads, [[7, 10]]);
  storage.compact(6); // entry 5 (held) goes with it
  t.is(storage.heldBytes, 0);
  t.is(storage.entryBytes(7), 70);
});

test('memory storage - a reader that returns other entries than those evicted fails loudly; evicting needs a reader', (t) => {
  const { storage } = stored();
  storage.setEntryReader((lo, hi) => Array.from({ length: hi - lo }, (_, k) => entry(lo + k, 9, 10 * (lo + k))));
  storage.evict(3);
  t.throws(() => storage.entries(1, 4, Number.MAX_SAFE_INTEGER), { message: /entry 1 read back as \(index 1, term 9/ });
  const bare = new MemoryStorage();
  bare.append([entry(1, 1, 4)]);
  t.throws(() => bare.evict(1), { message: /without an entry reader/ });
});

test('memory storage - a reader with part of a run at hand answers with fewer entries; with none, the held entries before it or StorageUnavailableError', (t) => {
  const { storage, written } = stored();
  storage.evict(7);
  // Entries 1..4 and 6..7 are evicted (5 is a configuration change, held). The reader has at most two at hand.
  let atHand = 2;
  storage.setEntryReader((lo, hi) => {
    if (atHand === 0) throw new StorageUnavailableError(lo);
    return Array.from({ length: Math.min(hi - lo, atHand) }, (_, k) => written.get(lo + k)!);
  });
  t.deepEqual(storage.entries(1, 11, Number.MAX_SAFE_INTEGER), [1, 2].map((i) => written.get(i)));
  // Held entry 5 first, then the run 6..7 of which two are at hand, then held entries.
  t.deepEqual(storage.entries(5, 11, Number.MAX_SAFE_INTEGER), [5, 6, 7, 8, 9, 10].map((i) => written.get(i)));
  atHand = 1;
  t.deepEqual(storage.entries(5, 11, Number.MAX_SAFE_INTEGER), [5, 6].map((i) => written.get(i)));
  atHand = 0;
  t.deepEqual(storage.entries(5, 11, Number.MAX_SAFE_INTEGER), [written.get(5)], 'the held entry before the run');
  t.throws(() => storage.entries(1, 11, Number.MAX_SAFE_INTEGER), { instanceOf: StorageUnavailableError });
  // A reader that answers with nothing at all breaks its contract.
  storage.setEntryReader(() => []);
  t.throws(() => storage.entries(1, 11, Number.MAX_SAFE_INTEGER), { message: /read back 0 entries/ });
});
