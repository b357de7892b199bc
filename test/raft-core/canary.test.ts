/**
 * Each canary breaks exactly one rule, so the simulator can prove its checks fail. These tests
 * pin the broken behaviour next to the correct one. ('commit-previous-term' is shown on the
 * Figure 8 scenario in replication.test.ts.)
 */
import test from 'ava';
import { makeMessage, MemoryStorage, RawNode, type CanaryName, type Message } from '../../raft/core/index.ts';
import { bytes, confStateOf, describe, makeConfig } from './harness.ts';

const vote = (from: string, to: string, term: number): Message => makeMessage({ groupId: 'g1', type: 'MsgVote', from, to, term, logTerm: 1, index: 1 });

function voter(canary?: CanaryName): { node: RawNode; storage: MemoryStorage } {
  const storage = MemoryStorage.bootstrap(confStateOf(['a', 'b', 'c']));
  return { node: new RawNode(makeConfig('c', canary === undefined ? {} : { canary }), storage), storage };
}

function secondVoteRejected(node: RawNode): boolean {
  node.step(vote('a', 'c', 2));
  node.advance(node.ready());
  node.step(vote('b', 'c', 2));
  return node.ready().messagesAfterPersist[0]!.reject;
}

test('raft-core - canary double-vote: a second vote in the same term is granted', (t) => {
  t.true(secondVoteRejected(voter().node));
  t.false(secondVoteRejected(voter('double-vote').node));
});

test('raft-core - canary forget-vote: the stored vote is lost across a restart', (t) => {
  for (const canary of [undefined, 'forget-vote'] as const) {
    const { node, storage } = voter();
    node.step(vote('a', 'c', 2));
    const rd = node.ready();
    storage.setHardState(rd.hardState!);
    node.advance(rd);
    const restarted = new RawNode(makeConfig('c', canary === undefined ? {} : { canary }), storage);
    t.is(restarted.status().hardState.vote, canary === undefined ? 'a' : '');
  }
});

function singleLeader(canary?: CanaryName): RawNode {
  const storage = MemoryStorage.bootstrap(confStateOf(['a']));
  const node = new RawNode(makeConfig('a', canary === undefined ? {} : { canary }), storage);
  node.campaign();
  return node;
}

test('raft-core - canary ack-before-persist: the leader counts itself before persisting', (t) => {
  // Correct: nothing commits before advance (the write is not durable yet).
  t.is(singleLeader().status().hardState.commit, 1);
  // Canary: the new leader's empty entry commits at once.
  t.is(singleLeader('ack-before-persist').status().hardState.commit, 2);
});

test('raft-core - canary ack-before-persist: followers acknowledge appends before persisting', (t) => {
  for (const canary of [undefined, 'ack-before-persist'] as const) {
    const { node } = voter(canary);
    node.step({
      ...vote('a', 'c', 2), type: 'MsgApp', logTerm: 1, index: 1, commit: 1,
      entries: [{ index: 2, term: 2, type: 'normal', data: bytes('x') }],
    });
    const rd = node.ready();
    const early = rd.messages.map(describe);
    const late = rd.messagesAfterPersist.map(describe);
    if (canary === undefined) {
      t.deepEqual(early, []);
      t.deepEqual(late, ['c->a MsgAppResp t2 i2']);
    } else {
      t.deepEqual(early, ['c->a MsgAppResp t2 i2']);
      t.deepEqual(late, []);
    }
  }
});
