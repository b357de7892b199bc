/** Entries read back off the event loop for followers further behind (raft/read-ahead.ts). */
import test from 'ava';
import { StorageUnavailableError, type Entry } from '../../raft/core/index.ts';
import { EntryReadAhead, READ_AHEAD_READS_MAX, type ReadAheadSource } from '../../raft/read-ahead.ts';

function entry(index: number, term = 1, bytes = 10): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(bytes).fill(index & 0xff) };
}

interface PendingRead {
  readonly lo: number;
  readonly hi: number;
  readonly bytesMax: number;
  resolve(entries: Entry[]): void;
  reject(error: Error): void;
}

/** A WAL of entries 1..`last` (10 bytes each) whose reads wait until the test ends them. */
function fixture(last = 100, options: { windowBytes?: number; cacheBytesMax?: number } = {}) {
  const reads: PendingRead[] = [];
  const terms = new Map<number, number>();
  for (let i = 1; i <= last; i++) terms.set(i, 1);
  let holdsFrom = 1;
  const events = { readable: 0, failures: [] as unknown[] };
  const source: ReadAheadSource = {
    readEntries: (lo, hi, bytesMax) =>
      new Promise<Entry[]>((resolve, reject) => {
        reads.push({ lo, hi, bytesMax, resolve, reject });
      }),
    holds: (index) => index >= holdsFrom && index <= last,
  };
  const readAhead = new EntryReadAhead({
    source,
    termOf: (index) => terms.get(index),
    readableThrough: () => last,
    onReadable: () => (events.readable += 1),
    onFailure: (error) => events.failures.push(error),
    windowBytes: options.windowBytes ?? 100,
    cacheBytesMax: options.cacheBytesMax ?? 300,
  });
  /** End read `k` as the WAL would: the window from its `lo`, `bytesMax` of 10-byte entries. */
  const finish = async (k: number, term = 1): Promise<void> => {
    const r = reads[k]!;
    const count = Math.min(r.hi - r.lo, Math.max(1, Math.floor(r.bytesMax / 10)));
    r.resolve(Array.from({ length: count }, (_, j) => entry(r.lo + j, term)));
    await Promise.resolve();
    await Promise.resolve();
  };
  return { readAhead, reads, terms, events, finish, compactTo: (index: number) => (holdsFrom = index + 1) };
}

test('read-ahead - nothing at hand: StorageUnavailableError and a read started; once it ends, the core is told and served', async (t) => {
  const { readAhead, reads, events, finish } = fixture();
  t.throws(() => readAhead.read(1, 50), { instanceOf: StorageUnavailableError });
  t.is(reads.length, 1);
  t.like(reads[0], { lo: 1, hi: 101, bytesMax: 100 });
  // Asking again while it runs starts nothing more.
  t.throws(() => readAhead.read(1, 50), { instanceOf: StorageUnavailableError });
  t.is(reads.length, 1);
  t.is(readAhead.misses, 2);
  await finish(0);
  t.is(events.readable, 1);
  t.is(readAhead.heldBytes, 100);
  // Entries 1..10 are at hand: a prefix of what is asked.
  t.deepEqual(readAhead.read(1, 50).map((e) => e.index), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  t.deepEqual(readAhead.read(3, 5).map((e) => e.index), [3, 4]);
  t.deepEqual(events.failures, []);
});

test('read-ahead - half a window handed out, the next is read meanwhile; windows beyond the cache limit go, oldest first', async (t) => {
  const { readAhead, reads, finish } = fixture();
  t.throws(() => readAhead.read(1, 101));
  await finish(0); // 1..10
  t.is(reads.length, 1);
  readAhead.read(1, 3); // 8 of 10 left: no read ahead yet
  t.is(reads.length, 1);
  readAhead.read(3, 8); // 3 left: the next window from 11
  t.is(reads.length, 2);
  t.like(reads[1], { lo: 11 });
  await finish(1); // 11..20
  t.deepEqual(readAhead.read(11, 101).map((e) => e.index), Array.from({ length: 10 }, (_, j) => 11 + j));
  t.like(reads[2], { lo: 21 });
  await finish(2); // 21..30: 300 bytes held, the limit
  t.is(readAhead.heldBytes, 300);
  readAhead.read(21, 101);
  await finish(3); // 31..40: the window 1..10 goes
  t.is(readAhead.heldBytes, 300);
  t.throws(() => readAhead.read(1, 5), { instanceOf: StorageUnavailableError });
  t.deepEqual(readAhead.read(35, 37).map((e) => e.index), [35, 36]);
});

test('read-ahead - reads in flight are bounded', (t) => {
  const { readAhead, reads } = fixture();
  for (const lo of [1, 21, 41, 61, 81]) t.throws(() => readAhead.read(lo, lo + 5), { instanceOf: StorageUnavailableError });
  t.is(reads.length, READ_AHEAD_READS_MAX);
  t.is(readAhead.readsInFlight, READ_AHEAD_READS_MAX);
});

test('read-ahead - an entry whose term is not the log\'s now is never handed out (a window read before a truncation)', async (t) => {
  const { readAhead, reads, terms, finish } = fixture();
  t.throws(() => readAhead.read(1, 20));
  await finish(0);
  // Entries 6..10 were replaced by another leader's, of term 2.
  for (let i = 6; i <= 10; i++) terms.set(i, 2);
  t.deepEqual(readAhead.read(1, 5).map((e) => e.index), [1, 2, 3, 4], 'entries before the change still match');
  t.throws(() => readAhead.read(1, 20), { instanceOf: StorageUnavailableError }, 'the window no longer matches: dropped');
  t.is(readAhead.heldBytes, 0);
  t.like(reads[1], { lo: 1 });
  await finish(1, 2); // a window read now has the new terms for 6..10, the old for 1..5
  t.throws(() => readAhead.read(1, 20), { instanceOf: StorageUnavailableError });
  t.is(readAhead.heldBytes, 0);
});

test('read-ahead - a failed read is a storage failure, unless its entries were compacted meanwhile; after clear, reads in flight are dropped', async (t) => {
  const { readAhead, reads, events, compactTo, finish } = fixture();
  t.throws(() => readAhead.read(1, 20));
  t.throws(() => readAhead.read(50, 60));
  compactTo(10);
  reads[0]!.reject(new Error('ENOENT: the segment was compacted'));
  reads[1]!.reject(new Error('entry 50 read back: crc32c mismatch'));
  await Promise.resolve();
  await Promise.resolve();
  t.is(events.failures.length, 1);
  t.regex((events.failures[0] as Error).message, /crc32c mismatch/);
  // A node that stops leading drops what it holds and what it is reading.
  t.throws(() => readAhead.read(60, 70));
  readAhead.clear();
  await finish(2);
  t.is(readAhead.heldBytes, 0);
  t.is(events.readable, 0);
  t.throws(() => readAhead.read(60, 70), { instanceOf: StorageUnavailableError });
});
