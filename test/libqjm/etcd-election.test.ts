/**
 * EtcdElection against a real etcd (Debian's binary, started on free loopback ports).
 * Without etcd the tests are skipped loudly, or fail when CI=true.
 */
import anyTest from 'ava';
import type { TestFn } from 'ava';
import { Etcd3 } from 'etcd3';
import { EtcdElection } from '../../libqjm/etcd-election.ts';
import { AbortedError } from '../../libqjm/errors.ts';
import { etcdAvailability, startEtcd } from '../support/etcd.ts';
import type { EtcdProcess } from '../support/etcd.ts';
import { waitFor } from '../support/wait.ts';

const test = anyTest as TestFn<{ etcd: EtcdProcess; admin: Etcd3; elections: EtcdElection[] }>;
const availability = etcdAvailability();

if (availability.mode !== 'run') {
  const reason = availability.reason;
  if (availability.mode === 'skip') {
    console.warn(`\n*** etcd election tests SKIPPED: ${reason} ***\n`);
    test.skip('etcd election - needs etcd', () => undefined);
  } else {
    test('etcd election - etcd is installed (CI)', (t) => {
      t.fail(reason);
    });
  }
} else {
  const binary = availability.binary;
  test.before(async (t) => {
    const etcd = await startEtcd(binary);
    t.context = { etcd, admin: new Etcd3({ hosts: [etcd.clientUrl] }), elections: [] };
  });
  test.after.always(async (t) => {
    if (t.context.etcd === undefined) return;
    for (const election of t.context.elections) election.close();
    t.context.admin.close();
    await t.context.etcd.stop();
  });

  const makeElection = (t: { context: { etcd: EtcdProcess; elections: EtcdElection[] } }, name: string): EtcdElection => {
    const election = new EtcdElection({ hosts: [t.context.etcd.clientUrl], name, ttlSeconds: 5 });
    t.context.elections.push(election);
    return election;
  };

  test('etcd election - one of two candidates wins; after it resigns the other wins with a higher token', async (t) => {
    const a = makeElection(t, 'resign');
    const b = makeElection(t, 'resign');
    const first = await a.campaign('master-a');
    t.true(Number.isSafeInteger(first.token) && first.token >= 1);
    t.is(await b.leader(), 'master-a');
    let bElected = false;
    const second = b.campaign('master-b').then((leadership) => {
      bElected = true;
      return leadership;
    });
    // b's key exists (it is campaigning) but a still leads.
    await waitFor(async () => (await t.context.admin.getAll().prefix('qjm/election/resign/').keys()).length === 2, { what: "b's campaign key" });
    t.false(bElected);
    await first.resign();
    await first.lost;
    const leadership = await second;
    t.true(leadership.token > first.token, `token ${leadership.token} > ${first.token}`);
    t.is(await a.leader(), 'master-b');
    await leadership.resign();
    await waitFor(async () => (await a.leader()) === undefined, { what: 'no leader' });
  });

  test("etcd election - revoking the winner's lease resolves lost and the other wins with a higher token", async (t) => {
    const a = makeElection(t, 'revoke');
    const b = makeElection(t, 'revoke');
    const first = await a.campaign('master-a');
    const second = b.campaign('master-b');
    await waitFor(async () => (await t.context.admin.getAll().prefix('qjm/election/revoke/').keys()).length === 2, { what: "b's campaign key" });
    const keys = await t.context.admin.getAll().prefix('qjm/election/revoke/').sort('Create', 'Ascend').exec();
    const winnerLease = keys.kvs[0]!.lease;
    t.is(keys.kvs[0]!.value.toString(), 'master-a');
    await t.context.admin.leaseClient.leaseRevoke({ ID: winnerLease });
    await first.lost;
    const leadership = await second;
    t.true(leadership.token > first.token);
    t.is(await b.leader(), 'master-b');
    await leadership.resign();
  });

  test('etcd election - tokens strictly increase across successive leaderships', async (t) => {
    const election = makeElection(t, 'tokens');
    const tokens: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const leadership = await election.campaign(`master-${i}`);
      tokens.push(leadership.token);
      await leadership.resign();
    }
    t.true(tokens[0]! < tokens[1]! && tokens[1]! < tokens[2]!, tokens.join(' < '));
  });

  test('etcd election - a waiting campaign ends with AbortedError when its signal aborts', async (t) => {
    const a = makeElection(t, 'abort');
    const b = makeElection(t, 'abort');
    const first = await a.campaign('master-a');
    const controller = new AbortController();
    const second = b.campaign('master-b', controller.signal);
    await waitFor(async () => (await t.context.admin.getAll().prefix('qjm/election/abort/').keys()).length === 2, { what: "b's campaign key" });
    controller.abort();
    await t.throwsAsync(second, { instanceOf: AbortedError });
    await waitFor(async () => (await t.context.admin.getAll().prefix('qjm/election/abort/').keys()).length === 1, { what: "b's key removed" });
    await first.resign();
  });

  test.serial('etcd election - an unreachable etcd makes the holder give up by its local lease deadline', async (t) => {
    const etcd = await startEtcd(binary);
    const election = new EtcdElection({ hosts: [etcd.clientUrl], name: 'paused', ttlSeconds: 3 });
    try {
      const leadership = await election.campaign('master-a');
      etcd.pause();
      // etcd cannot answer anything now: only the local deadline can end the leadership.
      await leadership.lost;
      // etcd3 alone would report the loss only after 2 x TTL without contact; ours comes first.
      t.regex((leadership as unknown as { reason: string }).reason, /local lease deadline/);
    } finally {
      etcd.resume();
      election.close();
      await etcd.stop();
    }
  });
}
