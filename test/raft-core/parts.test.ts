/** The core's small parts on their own: quorum, inflights, progress, log, storage, codec. */
import test from 'ava';
import {
  decodeConfChange,
  encodeConfChange,
  MemoryStorage,
  SnapshotOutOfDateError,
  StorageCompactedError,
  StorageUnavailableError,
  type Entry,
} from '../../raft/core/index.ts';
import { Inflights } from '../../raft/core/inflights.ts';
import { RaftLog } from '../../raft/core/log.ts';
import { Progress } from '../../raft/core/progress.ts';
import { jointCommittedIndex, jointVoteResult, majorityCommittedIndex, majorityVoteResult } from '../../raft/core/quorum.ts';
import { ReadOnly } from '../../raft/core/read-only.ts';
import { bytes, confStateOf } from './harness.ts';

const entry = (index: number, term: number, data = ''): Entry => ({ index, term, type: 'normal', data: bytes(data) });

test('raft-core - quorum: the committed index is the one a majority reached', (t) => {
  const match = (m: Record<string, number>) => (id: string) => m[id];
  t.is(majorityCommittedIndex(new Set(['a', 'b', 'c']), match({ a: 5, b: 3, c: 9 })), 5);
  t.is(majorityCommittedIndex(new Set(['a', 'b', 'c', 'd']), match({ a: 5, b: 3, c: 9, d: 1 })), 3);
  t.is(majorityCommittedIndex(new Set(['a', 'b']), match({ a: 5 })), 0);
  t.is(jointCommittedIndex(new Set(['a', 'b', 'c']), new Set(['c', 'd', 'e']), match({ a: 9, b: 9, c: 4, d: 2 })), 2);
  t.is(jointCommittedIndex(new Set(['a']), new Set(), match({ a: 7 })), 7);
});

test('raft-core - quorum: vote results, joint needs both halves', (t) => {
  const votes = (m: Record<string, boolean>) => (id: string) => m[id];
  t.is(majorityVoteResult(new Set(['a', 'b', 'c']), votes({ a: true, b: true })), 'won');
  t.is(majorityVoteResult(new Set(['a', 'b', 'c']), votes({ a: true, b: false })), 'pending');
  t.is(majorityVoteResult(new Set(['a', 'b', 'c']), votes({ a: false, b: false })), 'lost');
  t.is(jointVoteResult(new Set(['a', 'b', 'c']), new Set(['c', 'd', 'e']), votes({ a: true, b: true, d: false, e: false })), 'lost');
  t.is(jointVoteResult(new Set(['a', 'b', 'c']), new Set(['c', 'd', 'e']), votes({ a: true, b: true, c: true })), 'pending');
  t.is(jointVoteResult(new Set(['a', 'b', 'c']), new Set(['c', 'd', 'e']), votes({ a: true, c: true, d: true })), 'won');
});

test('raft-core - inflights: full by count or by bytes, freed by acknowledgement', (t) => {
  const byCount = new Inflights(2, 1000);
  byCount.add(3, 10);
  t.false(byCount.full());
  byCount.add(5, 10);
  t.true(byCount.full());
  t.throws(() => byCount.add(6, 1), { name: 'RaftInvariantError' });
  byCount.freeLE(4);
  t.is(byCount.count, 1);
  t.is(byCount.bytes, 10);
  const byBytes = new Inflights(100, 15);
  byBytes.add(1, 10);
  t.false(byBytes.full());
  byBytes.add(2, 10);
  t.true(byBytes.full());
  byBytes.freeLE(2);
  t.is(byBytes.count, 0);
  t.false(byBytes.full());
});

test('raft-core - progress: probe backtracking uses the hint, stale rejections are ignored', (t) => {
  const pr = new Progress({ next: 11, isLearner: false, recentActive: true, inflights: new Inflights(4, 1000) });
  t.false(pr.maybeDecrTo(5, 3), 'a rejection of a probe not sent is stale');
  t.true(pr.maybeDecrTo(10, 3));
  t.is(pr.next, 4);
  t.true(pr.maybeUpdate(3));
  t.is(pr.match, 3);
  pr.becomeReplicate();
  pr.updateOnEntriesSend(3, 30, pr.next);
  t.is(pr.next, 7);
  t.false(pr.maybeDecrTo(2, 0), 'below match: stale');
  t.true(pr.maybeDecrTo(6, 0));
  t.is(pr.next, 4);
  pr.becomeSnapshot(20);
  t.true(pr.isPaused());
  pr.becomeProbe();
  t.is(pr.next, 21, 'after a snapshot, probe after it');
});

test('raft-core - log: maybeAppend truncates a conflicting suffix and commits up to the last new entry', (t) => {
  const storage = MemoryStorage.bootstrap(confStateOf(['a']));
  storage.append([entry(2, 1), entry(3, 2), entry(4, 2)]);
  const log = new RaftLog(storage, 1 << 20);
  t.is(log.maybeAppend(2, 1, 10, [entry(3, 3), entry(4, 3)]), 4);
  t.deepEqual([log.term(3), log.term(4)], [3, 3]);
  t.is(log.committed, 4);
  t.is(log.unstable.offset, 3, 'entries from 3 are rewritten');
  t.is(log.maybeAppend(4, 2, 10, [entry(5, 3)]), null, 'term mismatch at 4');
  t.deepEqual(log.findConflictByTerm(4, 2), { index: 2, term: 1 });
  t.throws(() => log.maybeAppend(1, 1, 0, [entry(2, 5)]), { name: 'RaftInvariantError', message: /conflicts with committed/ });
});

test('raft-core - log: terms must not decrease and entries must be contiguous', (t) => {
  const log = new RaftLog(MemoryStorage.bootstrap(confStateOf(['a'])), 1 << 20);
  log.append([entry(2, 3)]);
  t.throws(() => log.append([entry(3, 2)]), { name: 'RaftInvariantError' });
  t.throws(() => log.append([entry(3, 3), entry(5, 3)]), { name: 'RaftInvariantError' });
  t.throws(() => log.append([entry(9, 3)]), { name: 'RaftInvariantError', message: /gap/ });
});

test('raft-core - log: stableTo ignores entries replaced since they were handed out', (t) => {
  const storage = MemoryStorage.bootstrap(confStateOf(['a']));
  const log = new RaftLog(storage, 1 << 20);
  log.append([entry(2, 2), entry(3, 2)]);
  const handedOut = log.unstable.nextEntries();
  log.unstable.acceptInProgress();
  log.append([entry(3, 3)]);
  storage.append(handedOut); // the runtime persists what it was handed
  t.false(log.stableTo(3, 2));
  t.is(log.persistedIndex(), 1);
  t.deepEqual(log.unstable.nextEntries().map((e) => e.index), [3]);
  storage.append(log.unstable.nextEntries());
  t.true(log.stableTo(3, 3));
  t.is(log.persistedIndex(), 3);
});

test('raft-core - log: commit and applied indexes only move forward', (t) => {
  const log = new RaftLog(MemoryStorage.bootstrap(confStateOf(['a'])), 1 << 20);
  log.append([entry(2, 2), entry(3, 2)]);
  log.commitTo(3);
  log.commitTo(2);
  t.is(log.committed, 3);
  log.appliedTo(2);
  t.throws(() => log.appliedTo(1), { name: 'RaftInvariantError' });
  t.throws(() => log.appliedTo(4), { name: 'RaftInvariantError' });
});

test('raft-core - MemoryStorage: append truncates a conflicting suffix; byte limits keep one entry', (t) => {
  const storage = MemoryStorage.bootstrap(confStateOf(['a']));
  storage.append([entry(2, 1, 'aa'), entry(3, 1, 'bb'), entry(4, 1, 'cc')]);
  storage.append([entry(3, 2, 'xx')]);
  t.is(storage.lastIndex(), 3);
  t.is(storage.term(3), 2);
  t.deepEqual(storage.entries(2, 4, 1).map((e) => e.index), [2]);
  t.deepEqual(storage.entries(2, 4, 4).map((e) => e.index), [2, 3]);
  t.throws(() => storage.append([entry(9, 2)]), { name: 'RaftInvariantError' });
  t.throws(() => storage.entries(2, 9, 100), { instanceOf: StorageUnavailableError });
});

test('raft-core - MemoryStorage: snapshots and compaction', (t) => {
  const storage = MemoryStorage.bootstrap(confStateOf(['a']));
  storage.append([entry(2, 1), entry(3, 2), entry(4, 2)]);
  const snapshot = storage.createSnapshot(3, confStateOf(['a', 'b']), bytes('s'));
  t.deepEqual(snapshot.meta, { index: 3, term: 2, confState: confStateOf(['a', 'b']) });
  storage.compact(3);
  t.is(storage.firstIndex(), 4);
  t.is(storage.term(3), 2);
  t.throws(() => storage.term(2), { instanceOf: StorageCompactedError });
  t.throws(() => storage.entries(3, 4, 100), { instanceOf: StorageCompactedError });
  t.throws(() => storage.createSnapshot(2, confStateOf(['a']), bytes('')), { instanceOf: SnapshotOutOfDateError });
  t.throws(() => storage.applySnapshot(snapshot), { instanceOf: SnapshotOutOfDateError });
  storage.applySnapshot({ meta: { index: 10, term: 3, confState: confStateOf(['b']) }, data: bytes('t') });
  t.is(storage.firstIndex(), 11);
  t.is(storage.lastIndex(), 10);
  t.deepEqual(storage.initialState().confState, confStateOf(['b']));
  storage.append([entry(9, 3), entry(10, 3), entry(11, 3)]); // the covered part is skipped
  t.is(storage.lastIndex(), 11);
});

test('raft-core - conf change codec: round trip, malformed bytes refused', (t) => {
  const cc = { transition: 'joint' as const, changes: [{ type: 'addVoter' as const, node: 'n1' }, { type: 'removeVoter' as const, node: 'n2' }], context: new Uint8Array([0, 255, 7]) };
  t.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
  t.throws(() => decodeConfChange(bytes('{')), { name: 'ConfChangeDecodeError' });
  t.throws(() => decodeConfChange(bytes('{"transition":"auto","changes":[{"type":"x","node":"a"}],"context":""}')), { name: 'ConfChangeDecodeError' });
  t.throws(() => decodeConfChange(bytes('{"transition":"auto","changes":[],"context":"%%"}')), { name: 'ConfChangeDecodeError' });
});

test('raft-core - read-only queue: an acknowledgement confirms every earlier request', (t) => {
  const readOnly = new ReadOnly();
  t.true(readOnly.addRequest(5, { from: 'a', context: bytes('r1') }));
  t.true(readOnly.addRequest(6, { from: 'b', context: bytes('r2') }));
  t.false(readOnly.addRequest(6, { from: 'b', context: bytes('r2') }), 'duplicate context');
  t.deepEqual(readOnly.lastPendingContext(), bytes('r2'));
  t.deepEqual([...readOnly.recvAck('b', bytes('r2'))!], ['b']);
  t.deepEqual(readOnly.advance(bytes('r2')).map((s) => s.index), [5, 6]);
  t.is(readOnly.size, 0);
  t.is(readOnly.recvAck('b', bytes('r1')), null);
});
