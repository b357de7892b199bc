/**
 * JournalElection (the embedded election) against the fake service's lease operations.
 */
import test from 'ava';
import { JournalElection } from '../../libqjm/journal-election.ts';
import { AbortedError } from '../../libqjm/errors.ts';
import { waitFor } from '../support/wait.ts';
import { startFake } from './helpers.ts';

test('journal election - one of two candidates wins; after it resigns the other wins with a higher token', async (t) => {
  const { cluster, manager } = await startFake(t);
  const electionA = new JournalElection({ qjm: manager(), ttlMs: 3000, retryIntervalMs: 20 });
  const electionB = new JournalElection({ qjm: manager(), ttlMs: 3000, retryIntervalMs: 20 });
  const a = await electionA.campaign('master-a');
  t.true(Number.isSafeInteger(a.token) && a.token >= 1);
  t.is(await electionB.leader(), 'master-a');
  let bElected = false;
  const bCampaign = electionB.campaign('master-b').then((leadership) => {
    bElected = true;
    return leadership;
  });
  await waitFor(() => (cluster.unaryCalls.get('acquireLease') ?? 0) >= 3, { what: 'b refused twice' });
  t.false(bElected, 'b waits while a holds the lease');
  await a.resign();
  await a.lost;
  const b = await bCampaign;
  t.true(b.token > a.token);
  t.is(await electionA.leader(), 'master-b');
  await b.resign();
  t.is(await electionA.leader(), undefined);
});

test('journal election - a renew answered LEASE_EXPIRED resolves lost', async (t) => {
  const { cluster, manager } = await startFake(t);
  const election = new JournalElection({ qjm: manager(), ttlMs: 1500, renewIntervalMs: 50 });
  const leadership = await election.campaign('master-a');
  cluster.expireLease('j1', 'leader');
  await leadership.lost;
  t.pass();
});

test('journal election - the holder gives up before the JournalNodes could let its lease expire', async (t) => {
  const { cluster, manager } = await startFake(t);
  const election = new JournalElection({ qjm: manager({ requestTimeoutMs: 300 }), ttlMs: 2000, renewIntervalMs: 200, safetyMarginMs: 600 });
  const leadership = await election.campaign('master-a');
  await waitFor(() => (cluster.unaryCalls.get('renewLease') ?? 0) >= 1, { what: 'a renew' });
  cluster.stopNode(0); // renews can no longer reach the group
  await leadership.lost;
  const lease = cluster.leaseOf('j1', 'leader')!;
  t.true(lease.expiresAtMs > cluster.nowMs(), `lost with ${Math.round(lease.expiresAtMs - cluster.nowMs())} ms of lease left on the JournalNodes`);
});

test('journal election - a token is a new, higher Raft index on every acquire', async (t) => {
  const { manager } = await startFake(t);
  const election = new JournalElection({ qjm: manager(), ttlMs: 3000 });
  const tokens: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const leadership = await election.campaign('master-a');
    tokens.push(leadership.token);
    await leadership.resign();
  }
  t.true(tokens[0]! < tokens[1]! && tokens[1]! < tokens[2]!);
});

test('journal election - a campaign ends with AbortedError when its signal aborts', async (t) => {
  const { manager } = await startFake(t);
  const holder = await new JournalElection({ qjm: manager(), ttlMs: 3000 }).campaign('master-a');
  const controller = new AbortController();
  const campaign = new JournalElection({ qjm: manager(), ttlMs: 3000, retryIntervalMs: 20 }).campaign('master-b', controller.signal);
  controller.abort();
  await t.throwsAsync(campaign, { instanceOf: AbortedError });
  await holder.resign();
});
