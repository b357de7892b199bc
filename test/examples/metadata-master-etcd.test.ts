/**
 * The metadata master pair elected through etcd (`--election etcd://HOST:PORT`), with a real
 * etcd (Debian's binary on free loopback ports). Skipped loudly without etcd; fails on CI.
 */
import test from 'ava';
import { Namespace } from '../../examples/metadata-master/namespace.ts';
import type { NamespaceEdit } from '../../examples/metadata-master/namespace.ts';
import { etcdAvailability, startEtcd } from '../support/etcd.ts';
import { waitFor } from '../support/wait.ts';
import { clusterFor, mutate, treeOf } from './support.ts';

const availability = etcdAvailability();

if (availability.mode !== 'run') {
  const reason = availability.reason;
  if (availability.mode === 'skip') {
    console.warn(`\n*** metadata-master etcd test SKIPPED: ${reason} ***\n`);
    test.skip('metadata-master etcd - needs etcd', () => undefined);
  } else {
    test('metadata-master etcd - etcd is installed (CI)', (t) => {
      t.fail(reason);
    });
  }
} else {
  const binary = availability.binary;
  test('metadata-master etcd - the standby takes over through etcd after SIGKILL of the active, with every acknowledged edit', async (t) => {
    const etcd = await startEtcd(binary);
    t.teardown(() => etcd.stop());
    const endpoint = etcd.clientUrl.replace(/^http:\/\//, '');
    const cluster = await clusterFor(t, { journalNodes: 3, masters: 2, election: `etcd://${endpoint}`, leaseTtlMs: 2000, segmentEdits: 10 });
    const first = await cluster.waitForActiveMaster();
    const second = 1 - first;
    const status = await cluster.masterStatus(first);
    t.true(Number.isSafeInteger(status.epoch) && status.epoch! > 0, 'the epoch is the etcd campaign key revision');
    await waitFor(async () => (await cluster.masterStatus(second)).active?.id === status.id, { what: 'the standby learns the active from etcd' });

    const acknowledged = new Namespace();
    const address = cluster.masterHttpAddresses[first]!;
    const edits: NamespaceEdit[] = [{ op: 'mkdir', path: '/etcd', parents: true }];
    for (let i = 0; i < 30; i += 1) edits.push({ op: 'create', path: `/etcd/f${i}` });
    edits.push({ op: 'rename', path: '/etcd/f0', to: '/etcd/g0' }, { op: 'delete', path: '/etcd/f1', recursive: false });
    for (const edit of edits) {
      const answer = await mutate(address, edit);
      t.is(answer.status, 200, JSON.stringify(answer.body));
      acknowledged.apply(edit);
    }

    await cluster.masters[first]!.kill();
    await cluster.waitForActiveMaster({ except: first, timeoutMs: 60_000 });
    const after = await cluster.masterStatus(second);
    t.true(after.epoch! > status.epoch!, 'the new epoch is above the old one');
    t.deepEqual((await treeOf(cluster.masterHttpAddresses[second]!)).paths, acknowledged.paths('/'));
    const next = await mutate(cluster.masterHttpAddresses[second]!, { op: 'create', path: '/etcd/after' });
    t.is(next.status, 200);
  });
}
