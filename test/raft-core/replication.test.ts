import test from 'ava';
import { makeMessage, MemoryStorage, RawNode, type Message } from '../../raft/core/index.ts';
import { bytes, Cluster, confStateOf, describe, makeConfig } from './harness.ts';

const commit = (c: Cluster, id: string): number => c.node(id).status().hardState.commit;

test('raft-core - §5.3 entries are replicated and applied in order on every node', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  for (const data of ['x', 'y', 'z']) c.propose('a', data);
  for (const id of ['a', 'b', 'c']) {
    t.deepEqual(c.appliedData(id), ['x', 'y', 'z']);
    t.deepEqual(c.get(id).applied.map((e) => e.index), [2, 3, 4, 5]);
  }
});

test('raft-core - §5.3 a follower whose log does not match rejects with its last index as hint', (t) => {
  // a leads term 3 with 4 entries; c is empty past the bootstrap entry.
  const c = new Cluster(['a', 'b', 'c'], { logs: { a: [2, 2, 2], b: [2, 2, 2] } });
  c.elect('a');
  const rejects = c.transcript.filter((line) => line.startsWith('c->a MsgAppResp') && line.includes('reject'));
  t.deepEqual(rejects, ['c->a MsgAppResp t3 i4 reject hint=1@1']);
  t.true(c.transcript.includes('a->c MsgApp t3 i1 lt1 c5 [2@2 3@2 4@2 5@3]'));
  t.is(c.get('c').storage.lastIndex(), 5);
});

test('raft-core - §5.3 fast backtracking skips a whole conflicting term in one round trip', (t) => {
  // c holds 20 stale entries of term 2 (from a leader that never committed them); a and b have
  // entries of term 3 from index 2. Without term hints the leader would probe 20 times.
  const stale = Array.from({ length: 20 }, () => 2);
  const c = new Cluster(['a', 'b', 'c'], { logs: { a: [3, 3], b: [3, 3], c: stale } });
  // c's longer log would win: keep it from campaigning by electing a first.
  c.elect('a');
  t.is(c.leaders()[0], 'a');
  const rejects = c.transcript.filter((line) => line.startsWith('c->a MsgAppResp') && line.includes('reject'));
  // First probe at index 3 (term 3): c's entry 3 has term 2 <= 3, hint 3@2. The leader finds
  // its last index with term <= 2 (index 1), then one more probe at 1 matches.
  t.deepEqual(rejects, ['c->a MsgAppResp t4 i3 reject hint=3@2']);
  t.true(c.transcript.includes('a->c MsgApp t4 i1 lt1 c4 [2@3 3@3 4@4]'));
  // The stale suffix is truncated: c's log is the leader's.
  t.is(c.get('c').storage.lastIndex(), 4);
  t.deepEqual([2, 3, 4].map((i) => c.get('c').storage.term(i)), [3, 3, 4]);
});

test('raft-core - §5.3 a follower truncates conflicting uncommitted entries and takes the leader\'s', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('a');
  // a appends entries nobody else gets.
  c.node('a').propose(bytes('lost1'));
  c.node('a').propose(bytes('lost2'));
  c.settle();
  c.elect('b');
  c.propose('b', 'kept');
  c.heal();
  c.tick('b');
  for (const id of ['a', 'b', 'c']) t.deepEqual(c.appliedData(id), ['kept']);
  t.is(c.get('a').storage.lastIndex(), c.get('b').storage.lastIndex());
});

/**
 * Figure 8 of the Raft paper. s1 leads term 4 and replicates its term-2 entry (index 2) to a
 * majority (s1, s3, s4), but its own term-4 entry does not get out. Counting replicas of a
 * previous-term entry would commit index 2, yet s5 (which holds 2@3) can still be elected by
 * s2, s3, s4 and overwrite it. So the leader must not commit it.
 */
function figure8(canary?: 'commit-previous-term'): { c: Cluster; s1CommitBeforeCrash: number } {
  const ids = ['s1', 's2', 's3', 's4', 's5'];
  const c = new Cluster(ids, {
    logs: { s1: [2], s2: [2], s5: [3] },
    terms: { s1: 3, s2: 3, s3: 3, s4: 3, s5: 4 },
    // Entry 2 has 2 bytes of data: a 1-byte limit sends it alone, without the term-4 entry.
    config: { messageBytesMax: 1, ...(canary === undefined ? {} : { canary }) },
  });
  // (c) s1 leads term 4 with votes from s3, s4; s2 and s5 are down.
  // The term-4 entry never reaches a follower that holds index 2 (the probe that s3 and s4
  // reject does get through, so they learn entry 2 alone).
  c.drop = (m) =>
    ['s2', 's5'].includes(m.to) || ['s2', 's5'].includes(m.from) ||
    (m.entries.some((e) => e.index === 3) && c.get(m.to).storage.lastIndex() >= 2);
  c.elect('s1');
  t_assert(c.leaders().includes('s1'));
  const s1CommitBeforeCrash = commit(c, 's1');
  // (d) s1 crashes; s5 (last term 3) is elected by s2, s3, s4 at term 5 and replicates its log.
  c.drop = (m) => m.to === 's1' || m.from === 's1';
  c.elect('s5');
  c.propose('s5', 'after');
  return { c, s1CommitBeforeCrash };
}

function t_assert(condition: boolean): void {
  if (!condition) throw new Error('figure 8 setup failed');
}

test('raft-core - §5.4.2 Figure 8: a leader never commits a previous-term entry by counting replicas', (t) => {
  const { c, s1CommitBeforeCrash } = figure8();
  t.is(s1CommitBeforeCrash, 1);
  t.true(c.transcript.includes('s3->s1 MsgAppResp t4 i2'));
  t.true(c.transcript.includes('s4->s1 MsgAppResp t4 i2'));
  t.deepEqual(c.get('s1').applied.map((e) => `${e.index}@${e.term}`), []);
  // Index 2 is decided by s5's leadership: 2@3 everywhere it is applied. No divergence.
  for (const id of ['s2', 's3', 's4', 's5']) t.is(c.get(id).applied[0]?.term, 3, id);
});

test('raft-core - §5.4.2 Figure 8 with the commit-previous-term canary: two entries applied at one index', (t) => {
  const { c, s1CommitBeforeCrash } = figure8('commit-previous-term');
  t.is(s1CommitBeforeCrash, 2);
  t.is(c.get('s1').applied[0]?.term, 2); // s1 applied 2@2
  t.is(c.get('s3').applied[0]?.term, 3); // s3 applied 2@3: a safety violation
});

test('raft-core - a new leader commits its previous-term entries once its own entry commits', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { logs: { a: [2, 2], b: [2, 2] }, terms: { c: 2 } });
  c.elect('a');
  t.is(commit(c, 'a'), 4); // 2@2, 3@2 and the empty 4@3 together
  t.deepEqual(c.appliedData('c'), ['e2', 'e3']);
});

test('raft-core - heartbeats carry the commit index capped at the follower\'s match', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  // c misses two entries.
  c.drop = (m) => m.to === 'c' && m.type === 'MsgApp';
  c.propose('a', 'x');
  c.propose('a', 'y');
  c.transcript = [];
  c.drop = (m) => m.to === 'c' && m.type === 'MsgApp';
  c.tick('a');
  t.true(c.transcript.includes('a->b MsgHeartbeat t2 c4'));
  t.true(c.transcript.includes('a->c MsgHeartbeat t2 c2'));
});

test('raft-core - the leader counts itself only after advance (its own persistence)', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('c');
  const a = c.node('a');
  const proposal = a.propose(bytes('x'));
  t.true(proposal.ok);
  const rd = a.ready();
  t.deepEqual(rd.entries.map((e) => e.index), [3]);
  t.deepEqual(rd.messages.map(describe), ['a->b MsgApp t2 i2 lt2 c2 [3@2]', 'a->c MsgApp t2 i2 lt2 c2 [3@2]']);
  // b acknowledges while a has not yet persisted: 1 of 3 is no quorum.
  for (const m of rd.messages) c.deliver(m);
  while (c.processReady('b')) { /* persist b */ }
  for (const m of c.network.filter((m) => m.to === 'a')) a.step(m);
  c.network = [];
  t.is(a.status().hardState.commit, 2);
  // a's own write completes: now a quorum (a, b) holds index 3.
  c.get('a').storage.append(rd.entries);
  a.advance(rd);
  t.is(a.status().hardState.commit, 3);
  t.true(a.hasReady());
  t.deepEqual(a.ready().committedEntries.map((e) => e.index), [3]);
});

test('raft-core - a single-node cluster commits after advance', (t) => {
  const storage = MemoryStorage.bootstrap(confStateOf(['a']));
  const node = new RawNode(makeConfig('a'), storage);
  node.campaign();
  let rd = node.ready();
  t.is(rd.softState?.role, 'leader');
  t.deepEqual(rd.entries.map((e) => `${e.index}@${e.term}`), ['2@2']);
  t.deepEqual(rd.committedEntries, []);
  storage.append(rd.entries);
  if (rd.hardState) storage.setHardState(rd.hardState);
  node.advance(rd);
  const result = node.propose(bytes('x'));
  t.deepEqual(result, { ok: true, index: 3, term: 2 });
  rd = node.ready();
  t.deepEqual(rd.committedEntries.map((e) => e.index), [2]);
  t.deepEqual(rd.entries.map((e) => e.index), [3]);
  storage.append(rd.entries);
  node.advance(rd);
  rd = node.ready();
  t.deepEqual(rd.committedEntries.map((e) => e.index), [3]);
  t.is(rd.hardState?.commit, 3);
  t.false(rd.mustSync, 'a commit-only change needs no fsync');
  node.advance(rd);
  t.false(node.hasReady());
});

test('raft-core - Ready duties: leader appends go out at once, votes and append responses after persistence', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  const seen: Array<{ id: string; messages: string[]; afterPersist: string[]; mustSync: boolean }> = [];
  c.onReady = (id, rd) => seen.push({ id, messages: rd.messages.map(describe), afterPersist: rd.messagesAfterPersist.map(describe), mustSync: rd.mustSync });
  c.elect('a');
  c.propose('a', 'x');
  const all = seen.flatMap((s) => s.messages);
  const after = seen.flatMap((s) => s.afterPersist);
  t.true(all.every((line) => /MsgApp |MsgHeartbeat /.test(line)), all.join('\n'));
  t.true(after.every((line) => /MsgVote |MsgVoteResp|MsgAppResp/.test(line)), after.join('\n'));
  t.true(after.some((line) => line.startsWith('a->b MsgVote')));
  t.true(after.some((line) => line.startsWith('b->a MsgAppResp')));
  // Every Ready with a vote or term change is synced.
  for (const s of seen) if (s.afterPersist.some((line) => line.includes('MsgVote'))) t.true(s.mustSync);
});

test('raft-core - committed but unapplied entries come out once, in bounded batches', (t) => {
  const c = new Cluster(['a'], { config: { committedEntriesBytesMax: 4 } });
  c.elect('a');
  const sizes: number[] = [];
  c.onReady = (_id, rd) => {
    if (rd.committedEntries.length > 0) sizes.push(rd.committedEntries.length);
  };
  const a = c.node('a');
  for (const data of ['aa', 'bb', 'cc', 'dd', 'ee']) a.propose(bytes(data));
  c.settle();
  t.deepEqual(c.appliedData('a'), ['aa', 'bb', 'cc', 'dd', 'ee']);
  t.true(sizes.every((n) => n <= 2), sizes.join(','));
});

test('raft-core - a MsgApp with non-contiguous entries is dropped and counted', (t) => {
  const c = new Cluster(['a', 'b']);
  c.elect('a');
  const bad: Message = makeMessage({
    groupId: 'g1', type: 'MsgApp', from: 'a', to: 'b', term: 2, logTerm: 2, index: 2, commit: 2,
    entries: [{ index: 4, term: 2, type: 'normal', data: bytes('x') }],
  });
  c.node('b').step(bad);
  t.is(c.node('b').status().messagesDropped, 1);
  t.is(c.node('b').status().lastIndex, 2);
});

test('raft-core - commit-only appends to a replicating follower are not answered; the follower still commits', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  for (const data of ['x', 'y', 'z']) c.propose('a', data);
  const toB = c.transcript.filter((line) => line.startsWith('a->b MsgApp '));
  const commitOnly = toB.filter((line) => line.endsWith(' commit-only'));
  t.true(commitOnly.length >= 3, toB.join('\n'));
  t.true(commitOnly.every((line) => !line.includes('[')), 'a commit-only append carries no entries');
  // Every other append is answered, the commit-only ones are not.
  t.is(c.transcript.filter((line) => line.startsWith('b->a MsgAppResp')).length, toB.length - commitOnly.length);
  t.is(commit(c, 'b'), commit(c, 'a'));
  t.deepEqual(c.appliedData('b'), ['x', 'y', 'z']);
});

test('raft-core - a commit-only append the follower cannot match is answered with a rejection', (t) => {
  const c = new Cluster(['a', 'b']);
  c.elect('a');
  const b = c.node('b');
  const last = b.status().lastIndex;
  const base = { groupId: 'g1', type: 'MsgApp', from: 'a', to: 'b', term: 2, commitOnly: true } as const;
  b.step(makeMessage({ ...base, index: last, logTerm: 2, commit: last }));
  t.is(b.status().messagesDropped, 0);
  if (b.hasReady()) {
    const rd = b.ready();
    t.deepEqual([...rd.messages, ...rd.messagesAfterPersist].filter((m) => m.type === 'MsgAppResp'), [], 'an accepted commit-only append is not answered');
    b.advance(rd);
  }
  // An index b does not hold: b must say so, or the leader would never learn it.
  b.step(makeMessage({ ...base, index: last + 5, logTerm: 2, commit: last }));
  const answers = b.ready().messagesAfterPersist.filter((m) => m.type === 'MsgAppResp');
  t.is(answers.length, 1);
  t.true(answers[0]!.reject);
  t.is(answers[0]!.rejectHint, last);
});
