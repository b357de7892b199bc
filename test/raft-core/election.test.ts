import test from 'ava';
import { makeMessage, TRANSFER_LEADER_CONTEXT, type Message } from '../../raft/core/index.ts';
import { Cluster, GROUP } from './harness.ts';

const role = (c: Cluster, id: string): string => c.node(id).status().softState.role;
const term = (c: Cluster, id: string): number => c.node(id).status().hardState.term;

test('raft-core - §5.2 a follower campaigns after a randomized timeout in [electionTicks, 2*electionTicks)', (t) => {
  // random(n) = n - 1: the longest timeout, 2 * 10 - 1 = 19 ticks.
  const slow = new Cluster(['a', 'b', 'c'], { config: { random: (n) => n - 1 } });
  slow.tick('a', 18);
  t.is(role(slow, 'a'), 'follower');
  slow.tick('a', 1);
  t.is(role(slow, 'a'), 'leader');
  // random(n) = 0: the shortest, exactly electionTicks.
  const fast = new Cluster(['a', 'b', 'c'], { config: { random: () => 0 } });
  fast.tick('a', 9);
  t.is(role(fast, 'a'), 'follower');
  fast.tick('a', 1);
  t.is(role(fast, 'a'), 'leader');
});

test('raft-core - a random source outside [0, n) is an invariant error', (t) => {
  t.throws(() => new Cluster(['a'], { config: { random: (n) => n } }), { name: 'RaftInvariantError' });
});

test('raft-core - §5.2 a candidate with a majority becomes leader and appends an empty entry of its term', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  t.deepEqual(c.transcript.slice(0, 6), [
    'a->b MsgVote t2 i1 lt1',
    'a->c MsgVote t2 i1 lt1',
    'b->a MsgVoteResp t2',
    'c->a MsgVoteResp t2',
    'a->b MsgApp t2 i1 lt1 c1 [2@2]',
    'a->c MsgApp t2 i1 lt1 c1 [2@2]',
  ]);
  t.deepEqual(c.leaders(), ['a']);
  for (const id of ['a', 'b', 'c']) {
    t.is(c.get(id).applied.at(-1)?.index, 2);
    t.is(c.get(id).applied.at(-1)?.term, 2);
    t.is(c.get(id).applied.at(-1)?.data.length, 0);
    t.is(c.node(id).status().softState.leader, 'a');
  }
});

test('raft-core - §5.2 a node grants at most one vote per term', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  // a's vote request reaches only c; the answer is lost.
  c.drop = (m) => (m.from === 'a' && m.to === 'b') || m.type === 'MsgVoteResp';
  c.node('a').campaign();
  c.settle();
  t.is(c.node('c').status().hardState.vote, 'a');
  // b asks c in the same term 2: refused.
  c.drop = (m) => m.to === 'a' || m.from === 'a';
  c.transcript = [];
  c.node('b').campaign();
  c.settle();
  t.deepEqual(c.transcript, ['b->c MsgVote t2 i1 lt1', 'c->b MsgVoteResp t2 reject c1@1']);
  t.is(role(c, 'b'), 'candidate');
});

test('raft-core - §5.4.1 a vote is refused to a candidate whose log is less up to date', (t) => {
  // b holds an entry of term 2 that a lacks.
  const c = new Cluster(['a', 'b', 'c'], { logs: { b: [2] }, terms: { a: 2, c: 2 } });
  c.node('a').campaign();
  c.settle();
  t.true(c.transcript.includes('b->a MsgVoteResp t3 reject c1@1'));
  t.true(c.transcript.includes('c->a MsgVoteResp t3'));
  t.is(role(c, 'a'), 'leader'); // c's vote is enough
  // a's leadership brings b's log in line: the stale term-2 entry is overwritten.
  t.is(c.get('b').storage.term(2), 3);
});

test('raft-core - §5.2 a candidate that loses the vote becomes follower', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { logs: { b: [2], c: [2] }, terms: { a: 2 } });
  c.elect('a');
  t.is(role(c, 'a'), 'follower');
  t.is(term(c, 'a'), 3);
});

test('raft-core - §5.1 a message of a higher term turns a leader into a follower of that term', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('a');
  c.elect('b');
  t.is(term(c, 'b'), 3);
  t.is(role(c, 'a'), 'leader');
  c.heal();
  c.tick('b'); // b's heartbeat carries term 3
  t.is(role(c, 'a'), 'follower');
  t.is(term(c, 'a'), 3);
  t.is(c.node('a').status().softState.leader, 'b');
});

test('raft-core - a stale leader learns the new term from the answer to its MsgApp (check-quorum)', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { checkQuorum: true } });
  c.elect('a');
  c.isolate('a');
  c.elect('b');
  c.heal();
  c.transcript = [];
  c.node('a').propose(new Uint8Array([1]));
  c.settle();
  t.true(c.transcript.includes('b->a MsgAppResp t3 i0'));
  t.is(role(c, 'a'), 'follower');
  t.is(term(c, 'a'), 3);
});

test('raft-core - pre-vote: a pre-candidate does not bump its term', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { preVote: true } });
  c.drop = (m) => m.type === 'MsgPreVoteResp';
  c.node('a').campaign();
  c.settle();
  t.is(role(c, 'a'), 'preCandidate');
  t.is(term(c, 'a'), 1);
  t.deepEqual(c.transcript, ['a->b MsgPreVote t2 i1 lt1', 'a->c MsgPreVote t2 i1 lt1']);
  t.is(term(c, 'b'), 1); // nor does a voter answering a pre-vote
});

test('raft-core - pre-vote: a partitioned node rejoining does not disrupt the leader', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { preVote: true } });
  c.elect('a');
  c.isolate('c');
  for (let i = 0; i < 100; i++) c.tick('c');
  t.is(term(c, 'c'), 2);
  t.is(role(c, 'c'), 'preCandidate');
  c.heal();
  c.tick('c', 30); // c keeps pre-campaigning; a's heartbeats (ticked below) bring it back
  c.tick('a');
  t.deepEqual(c.leaders(), ['a']);
  t.is(term(c, 'a'), 2);
  t.is(role(c, 'c'), 'follower');
});

test('raft-core - pre-vote: refused while the voter heard from a leader within the election timeout', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { preVote: true } });
  c.elect('a');
  c.transcript = [];
  c.node('c').campaign();
  c.settle();
  // b and a heard a leader (a is the leader): the pre-vote is ignored, c stays a pre-candidate.
  t.deepEqual(c.transcript, ['c->a MsgPreVote t3 i2 lt2', 'c->b MsgPreVote t3 i2 lt2']);
  t.is(role(c, 'c'), 'preCandidate');
  t.deepEqual(c.leaders(), ['a']);
});

test('raft-core - pre-vote: granted once the voters stopped hearing the leader', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { preVote: true } });
  c.elect('a');
  c.isolate('a');
  c.tick('b', 10); // b's lease expired (electionTicks = 10)
  c.transcript = [];
  c.elect('c');
  t.true(c.transcript.includes('b->c MsgPreVoteResp t3'));
  t.true(c.transcript.includes('c->b MsgVote t3 i2 lt2'));
  t.is(role(c, 'c'), 'leader');
  t.is(term(c, 'c'), 3);
});

test('raft-core - check-quorum: a leader that hears no quorum within an election timeout steps down', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { checkQuorum: true } });
  c.elect('a');
  c.tick('a', 10);
  t.is(role(c, 'a'), 'leader'); // heartbeats answered
  c.isolate('a');
  c.tick('a', 10);
  t.is(role(c, 'a'), 'leader'); // the round after the last answers
  c.tick('a', 10);
  t.is(role(c, 'a'), 'follower');
  t.is(term(c, 'a'), 2);
});

test('raft-core - check-quorum: a follower that heard a live leader ignores MsgVote', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { checkQuorum: true } });
  c.elect('a');
  c.drop = (m) => m.from === 'c' && m.to === 'a';
  c.transcript = [];
  c.elect('c');
  t.deepEqual(c.transcript, ['c->b MsgVote t3 i2 lt2']);
  t.is(term(c, 'b'), 2);
  t.is(c.node('b').status().softState.leader, 'a');
});

test('raft-core - check-quorum: a vote carrying the transfer marker is granted despite the lease', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { config: { checkQuorum: true } });
  c.elect('a');
  const vote: Message = makeMessage({ groupId: GROUP, type: 'MsgVote', from: 'c', to: 'b', term: 3, logTerm: 2, index: 2, context: TRANSFER_LEADER_CONTEXT });
  c.node('b').step(vote);
  t.is(c.node('b').status().hardState.vote, 'c');
  t.is(term(c, 'b'), 3);
  c.node('b').step({ ...vote, from: 'a', term: 4, context: new Uint8Array(0) });
  t.is(term(c, 'b'), 4, 'without a lease (no leader heard at term 3) a plain vote request is handled');
});

test('raft-core - a node outside the configuration and a learner never campaign', (t) => {
  const c = new Cluster(['a', 'b', 'l', 'x'], { voters: ['a', 'b'], learners: ['l'], empty: ['x'] });
  c.tick('l', 100);
  c.tick('x', 100);
  c.node('l').campaign();
  c.node('x').campaign();
  c.settle();
  t.is(role(c, 'l'), 'follower');
  t.is(role(c, 'x'), 'follower');
  t.is(term(c, 'l'), 1);
  t.is(term(c, 'x'), 0);
  t.deepEqual(c.transcript, []);
});

test('raft-core - a single voter elects itself', (t) => {
  const c = new Cluster(['a'], { config: { preVote: true } });
  c.tick('a', 20);
  t.deepEqual(c.leaders(), ['a']);
  t.is(term(c, 'a'), 2);
});

test('raft-core - leaders are unique per term over many seeded random elections', (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    let state = seed;
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    const c = new Cluster(['a', 'b', 'c', 'd', 'e'], { config: { random, preVote: seed % 2 === 0, checkQuorum: seed % 3 === 0 } });
    const leadersByTerm = new Map<number, Set<string>>();
    for (let tick = 0; tick < 200; tick++) {
      c.drop = (m) => (m.from.charCodeAt(0) + m.to.charCodeAt(0) + tick + seed) % 5 === 0;
      c.tickAll();
      for (const id of c.leaders()) {
        const leaders = leadersByTerm.get(term(c, id)) ?? new Set<string>();
        leaders.add(id);
        leadersByTerm.set(term(c, id), leaders);
      }
    }
    for (const [leaderTerm, leaders] of leadersByTerm) t.is(leaders.size, 1, `seed ${seed} term ${leaderTerm}: ${[...leaders].join(',')}`);
    t.true(leadersByTerm.size > 0, `seed ${seed}: a leader was elected`);
  }
});
