import test from 'ava';
import {
  afterLeaderSuccess,
  afterNotLeader,
  afterUnreachable,
  backoffDelayMs,
  classifyFailure,
  initialRouteState,
  pickHedgeTarget,
  pickTarget,
  RouteTable,
} from '../../libqjm/route-table.ts';
import { AbortedError, NotLeaderError, UnavailableError, EpochFencedError, RpcError, NoQuorumError } from '../../libqjm/errors.ts';
import type { RouteState } from '../../libqjm/route-table.ts';

const nodes = ['a:1', 'b:2', 'c:3'];

function targets(state: RouteState, count: number): { addresses: string[]; state: RouteState } {
  const addresses: string[] = [];
  let current = state;
  for (let i = 0; i < count; i += 1) {
    const picked = pickTarget(current);
    addresses.push(picked.address);
    current = picked.state;
  }
  return { addresses, state: current };
}

test('route table - without a leader the nodes are asked round robin', (t) => {
  t.deepEqual(targets(initialRouteState(nodes), 4).addresses, ['a:1', 'b:2', 'c:3', 'a:1']);
});

test('route table - a known leader is asked every time', (t) => {
  const state = afterLeaderSuccess(initialRouteState(nodes), 'b:2');
  t.deepEqual(targets(state, 3).addresses, ['b:2', 'b:2', 'b:2']);
});

test('route table - a NOT_LEADER hint becomes the leader, even outside the configured nodes', (t) => {
  let state = afterNotLeader(initialRouteState(nodes), 'a:1', 'c:3');
  t.is(state.leader, 'c:3');
  state = afterNotLeader(state, 'c:3', 'd:4');
  t.is(state.leader, 'd:4');
});

test('route table - a hint naming the answering node itself is ignored', (t) => {
  const state = afterNotLeader(afterLeaderSuccess(initialRouteState(nodes), 'a:1'), 'a:1', 'a:1');
  t.is(state.leader, undefined);
  t.is(pickTarget(state).address, 'b:2');
});

test('route table - NOT_LEADER without a hint forgets the leader and moves the probe past it', (t) => {
  const start = targets(initialRouteState(nodes), 1); // asked a:1, probe now at b:2
  const state = afterNotLeader(afterLeaderSuccess(start.state, 'b:2'), 'b:2', '');
  t.is(state.leader, undefined);
  t.is(pickTarget(state).address, 'c:3');
});

test('route table - an unreachable leader is forgotten; others are kept', (t) => {
  const withLeader = afterLeaderSuccess(initialRouteState(nodes), 'c:3');
  t.is(afterUnreachable(withLeader, 'c:3').leader, undefined);
  t.is(afterUnreachable(withLeader, 'a:1').leader, 'c:3');
});

test('route table - classification: hint followed, retryable backs off, the rest fails', (t) => {
  const state = initialRouteState(nodes);
  t.is(classifyFailure(state, 'a:1', new NotLeaderError({ leaderHint: 'b:2' })).outcome.kind, 'follow-hint');
  t.is(classifyFailure(state, 'a:1', new NotLeaderError({ leaderHint: '' })).outcome.kind, 'backoff');
  t.is(classifyFailure(state, 'a:1', new UnavailableError()).outcome.kind, 'backoff');
  t.is(classifyFailure(state, 'a:1', new RpcError({ address: 'a:1', grpcCode: 14, retryable: true }, 'down')).outcome.kind, 'backoff');
  t.is(classifyFailure(state, 'a:1', new RpcError({ address: 'a:1', grpcCode: 8, retryable: false }, 'too big')).outcome.kind, 'fail');
  t.is(classifyFailure(state, 'a:1', new EpochFencedError({ promisedEpoch: 3 })).outcome.kind, 'fail');
  // Following the same hint again is not progress: back off.
  const led = afterLeaderSuccess(state, 'b:2');
  t.is(classifyFailure(led, 'a:1', new NotLeaderError({ leaderHint: 'b:2' })).outcome.kind, 'backoff');
});

test('route table - backoff grows exponentially, is capped, and jitter only shortens it', (t) => {
  const policy = { initialDelayMs: 10, maxDelayMs: 100, multiplier: 2, jitter: 0.5 };
  t.is(backoffDelayMs(0, policy, 0), 0);
  t.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, policy, 0)), [10, 20, 40, 80, 100, 100]);
  t.is(backoffDelayMs(3, policy, 0.999), 20);
  for (let i = 0; i < 50; i += 1) {
    const delay = backoffDelayMs(4, policy, Math.random());
    t.true(delay >= 40 && delay <= 80);
  }
});

test('route table - invoke follows hints to the leader and caches it', async (t) => {
  const table = new RouteTable({ nodes, random: () => 0 });
  const calls: string[] = [];
  const result = await table.invoke(
    async (address) => {
      calls.push(address);
      if (address !== 'c:3') throw new NotLeaderError({ leaderHint: 'c:3' });
      return 'ok';
    },
    { timeoutMs: 1000, what: 'test', leaderOnly: true },
  );
  t.is(result, 'ok');
  t.deepEqual(calls, ['a:1', 'c:3']);
  t.is(table.leader, 'c:3');
});

test('route table - invoke gives up with NoQuorumError naming the tried nodes', async (t) => {
  const table = new RouteTable({ nodes, random: () => 0, backoff: { initialDelayMs: 1, maxDelayMs: 5, multiplier: 2, jitter: 0 } });
  const error = await t.throwsAsync(
    table.invoke(async (address) => {
      throw new RpcError({ address, grpcCode: 14, retryable: true }, 'down');
    }, { timeoutMs: 100, what: 'probe', leaderOnly: false }),
    { instanceOf: NoQuorumError },
  );
  t.true(error.retryable);
  t.true(error.triedAddresses.length >= 3);
  t.true(nodes.every((node) => error.triedAddresses.includes(node)));
  t.true(error.cause instanceof RpcError);
});

test('route table - invoke rethrows a non-retryable answer at once', async (t) => {
  const table = new RouteTable({ nodes });
  let calls = 0;
  await t.throwsAsync(
    table.invoke(async () => {
      calls += 1;
      throw new EpochFencedError({ promisedEpoch: 9 });
    }, { timeoutMs: 1000, what: 'fenced', leaderOnly: true }),
    { instanceOf: EpochFencedError },
  );
  t.is(calls, 1);
});

test('route table - an abort ends invoke at once, even while an attempt is in flight', async (t) => {
  const table = new RouteTable({ nodes });
  const controller = new AbortController();
  let started = false;
  const invoked = table.invoke(
    () => {
      started = true;
      return new Promise<never>(() => undefined); // an attempt that never answers
    },
    { timeoutMs: 60_000, what: 'stuck', leaderOnly: false, signal: controller.signal },
  );
  t.true(started);
  controller.abort(new Error('caller gone'));
  const error = await t.throwsAsync(invoked, { instanceOf: AbortedError });
  t.regex(error.message, /stuck: aborted/);
});

test('route table - a hedge goes to the next node not being asked; none when all are', (t) => {
  const state = initialRouteState(nodes);
  const first = pickHedgeTarget(state, new Set(['a:1']));
  t.is(first?.address, 'b:2');
  t.is(pickHedgeTarget(first!.state, new Set(['a:1', 'b:2']))?.address, 'c:3');
  t.is(pickHedgeTarget(state, new Set(nodes)), undefined);
  // The cached leader is kept: the hedge asks another node, which can name it.
  const withLeader = afterLeaderSuccess(state, 'a:1');
  const hedged = pickHedgeTarget(withLeader, new Set(['a:1']));
  t.is(hedged?.address, 'b:2');
  t.is(hedged?.state.leader, 'a:1');
});

test('route table - invoke hedges a silent node: the next one answers while the first attempt still waits', async (t) => {
  const table = new RouteTable({ nodes, random: () => 0, hedgeDelayMs: 20 });
  const calls: string[] = [];
  let silentAnswered = false;
  let answerSilent: (value: string) => void = () => undefined;
  t.teardown(() => answerSilent('late'));
  const result = await table.invoke(
    (address) => {
      calls.push(address);
      if (address === 'a:1') {
        return new Promise<string>((resolve) => {
          answerSilent = (value) => {
            silentAnswered = true;
            resolve(value);
          };
        });
      }
      return Promise.resolve(`from ${address}`);
    },
    { timeoutMs: 60_000, what: 'hedged', leaderOnly: true },
  );
  t.is(result, 'from b:2');
  t.false(silentAnswered, 'answered before the silent attempt (20 s per attempt) ended');
  t.deepEqual(calls, ['a:1', 'b:2']);
  t.is(table.leader, 'b:2');
});

test('route table - hedges that name the silent leader wait for it: no second attempt at a node being asked', async (t) => {
  const table = new RouteTable({ nodes, random: () => 0, hedgeDelayMs: 10 });
  table.leaderConfirmed('a:1');
  const calls: string[] = [];
  let answerLeader: (value: string) => void = () => undefined;
  const result = await table.invoke(
    (address) => {
      calls.push(address);
      if (address === 'a:1') return new Promise<string>((resolve) => (answerLeader = resolve));
      // Both others name the leader; the leader answers once both have.
      if (calls.includes('b:2') && calls.includes('c:3')) setImmediate(() => answerLeader('from the leader'));
      return Promise.reject(new NotLeaderError({ leaderHint: 'a:1' }));
    },
    { timeoutMs: 60_000, what: 'slow leader', leaderOnly: true },
  );
  t.is(result, 'from the leader');
  t.deepEqual(calls, ['a:1', 'b:2', 'c:3']);
  t.is(table.leader, 'a:1');
});
