/**
 * The core over a storage whose evicted entries are read back asynchronously (raft/read-ahead.ts):
 * the reader may answer StorageUnavailableError, which only the sending of appends may meet.
 */
import test from 'ava';
import { StorageUnavailableError, type Entry } from '../../raft/core/index.ts';
import { Cluster } from './harness.ts';

/** Give `storage` a reader over `log` that answers only while `state.available`. */
function reader(log: Map<number, Entry>, state: { available: boolean; asked: number }) {
  return (lo: number, hi: number): Entry[] => {
    state.asked += 1;
    if (!state.available) throw new StorageUnavailableError(lo);
    return Array.from({ length: hi - lo }, (_, k) => log.get(lo + k)!);
  };
}

/**
 * A cluster of a, b, c led by a, with `count` entries proposed (c cut off meanwhile when
 * `isolateC`); then `holder` evicts everything the core knows applied, behind a reader that
 * answers only once `state.available`.
 */
function evictedCluster(holder: string, count: number, isolateC: boolean) {
  const cluster = new Cluster(['a', 'b', 'c']);
  cluster.elect('a');
  if (isolateC) cluster.isolate('c');
  for (let i = 0; i < count; i++) cluster.propose('a', `x${i}`);
  const member = cluster.get(holder);
  const log = new Map(member.storage.entries(member.storage.firstIndex(), member.storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER).map((e) => [e.index, e]));
  const state = { available: false, asked: 0 };
  member.storage.setEntryReader(reader(log, state));
  member.storage.evict(member.node.appliedIndex());
  return { cluster, member, state };
}

test('evicted entries - a follower behind is sent nothing while they are not at hand, and catches up once retryAppends is called', (t) => {
  const { cluster, member: a, state } = evictedCluster('a', 10, true);
  t.true(a.storage.evictedThrough > cluster.get('c').storage.lastIndex(), 'c needs evicted entries');
  cluster.heal();
  cluster.tickAll(5); // heartbeats: c answers, a tries to send
  t.true(state.asked > 0, 'the leader asked for the evicted entries');
  t.true(cluster.get('c').storage.lastIndex() < a.storage.lastIndex(), 'nothing reached c');
  t.deepEqual(cluster.leaders(), ['a']);
  state.available = true;
  a.node.retryAppends();
  cluster.settle();
  t.is(cluster.get('c').storage.lastIndex(), a.storage.lastIndex());
  t.deepEqual(cluster.appliedData('c'), cluster.appliedData('a'));
});

test('evicted entries - a campaign reads only entries above the applied index: evicting through appliedIndex() keeps it safe, evicting past it does not', (t) => {
  const { cluster, member: b, state } = evictedCluster('b', 5, false);
  b.node.campaign(); // checks the entries above the applied index for configuration changes
  cluster.settle();
  t.deepEqual(cluster.leaders(), ['b']);
  t.is(state.asked, 0);

  // Entries the runtime applied but the core does not know applied yet (a Ready handed out,
  // not yet advanced): evicting them makes the campaign's check meet StorageUnavailableError.
  const c = cluster.get('c');
  const cLog = new Map<number, Entry>();
  const cState = { available: false, asked: 0 };
  c.storage.setEntryReader(reader(cLog, cState));
  let thrown: unknown;
  cluster.onReady = (id, rd) => {
    const last = rd.committedEntries.at(-1);
    if (id !== 'c' || last === undefined || thrown !== undefined) return;
    for (const e of c.storage.entries(c.storage.firstIndex(), c.storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER)) cLog.set(e.index, e);
    t.true(last.index > c.node.appliedIndex());
    c.storage.evict(last.index);
    try {
      c.node.campaign();
    } catch (error) {
      thrown = error;
    }
    cState.available = true;
  };
  cluster.propose('b', 'z');
  t.true(thrown instanceof StorageUnavailableError, `the campaign met ${String(thrown)}`);
});
