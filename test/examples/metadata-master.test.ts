/**
 * The metadata master as a real client of the journal: 3 JournalNode processes and 2 master
 * processes (deploy/launcher.ts); the active is killed with SIGKILL, and the new active must
 * hold exactly the acknowledged namespace.
 */
import test from 'ava';
import { QuorumJournalManager } from '../../libqjm/index.ts';
import { Namespace } from '../../examples/metadata-master/namespace.ts';
import type { NamespaceEdit } from '../../examples/metadata-master/namespace.ts';
import { NamespaceLoad } from '../../deploy/load.ts';
import { waitFor } from '../support/wait.ts';
import { clusterFor, mutate, replayJournal, treeOf } from './support.ts';
import type { Answer } from './support.ts';

/** A scripted mix of mutations on a few names, some bound to fail, sent 8 at a time. */
function script(round: number): NamespaceEdit[] {
  const edits: NamespaceEdit[] = [{ op: 'mkdir', path: `/r${round}/d`, parents: true }];
  for (let i = 0; i < 40; i += 1) {
    const name = `/r${round}/d/f${i % 13}`;
    switch (i % 5) {
      case 0:
      case 1:
        edits.push({ op: 'create', path: name });
        break;
      case 2:
        edits.push({ op: 'rename', path: name, to: `/r${round}/g${i % 7}` });
        break;
      case 3:
        edits.push({ op: 'mkdir', path: `/r${round}/d/sub${i % 3}`, parents: i % 2 === 0 });
        break;
      default:
        edits.push({ op: 'delete', path: i % 10 === 4 ? `/r${round}/d/sub${i % 3}` : name, recursive: i % 3 === 0 });
    }
  }
  return edits;
}

test('metadata-master - after SIGKILL of the active, the new active holds exactly the acknowledged namespace', async (t) => {
  const cluster = await clusterFor(t, { journalNodes: 3, masters: 2, leaseTtlMs: 2000, segmentEdits: 25, readyTimeoutMs: 60_000 });
  const first = await cluster.waitForActiveMaster();
  const second = 1 - first;
  const activeAddress = cluster.masterHttpAddresses[first]!;
  const standbyAddress = cluster.masterHttpAddresses[second]!;

  // A standby refuses writes with the active's address, and serves reads.
  await waitFor(async () => (await cluster.masterStatus(second)).active?.id === cluster.layout.masters[first]!.id, { what: 'the standby knows the active' });
  const refused = await mutate(standbyAddress, { op: 'create', path: '/nope' });
  t.is(refused.status, 503);
  t.is(refused.body.error?.code, 'NOT_ACTIVE');
  t.is(refused.body.active?.http, activeAddress);
  t.is(refused.headers.get('x-active-master'), `http://${activeAddress}`);
  t.is((await fetch(`http://${standbyAddress}/list?path=/`)).status, 200);

  // Mutations, 8 in flight at a time; every answer with a txid is an acknowledged log entry.
  const logged: { txid: number; edit: NamespaceEdit; answer: Answer }[] = [];
  const edits = [...script(1), ...script(2), ...script(3), ...script(4)];
  for (let i = 0; i < edits.length; i += 8) {
    const batch = edits.slice(i, i + 8);
    const answers = await Promise.all(batch.map((edit) => mutate(activeAddress, edit)));
    answers.forEach((answer, j) => {
      t.not(answer.status, 503, JSON.stringify(answer.body));
      if (typeof answer.body.txid === 'number') logged.push({ txid: answer.body.txid, edit: batch[j]!, answer });
    });
  }
  // The acknowledged namespace: the logged edits applied in txid order; each answer matches its outcome.
  logged.sort((a, b) => a.txid - b.txid);
  t.deepEqual(logged.map((entry) => entry.txid), logged.map((_, i) => i + 1), 'acknowledged txids are 1..n without gap');
  const acknowledged = new Namespace();
  for (const entry of logged) {
    const outcome = acknowledged.apply(entry.edit);
    t.is(entry.answer.status === 200, outcome.ok, `txid ${entry.txid}: ${JSON.stringify(entry.answer.body)}`);
  }
  const lastAcknowledged = logged.at(-1)!.txid;
  t.log(`${logged.length} of ${edits.length} mutations logged`);
  t.true(lastAcknowledged > 3 * 25, 'enough edits for several segments');

  const qjm = new QuorumJournalManager({ journalId: cluster.layout.journalId, nodes: cluster.rpcAddresses });
  t.teardown(() => qjm.close());
  const inProgress = (await qjm.getEditLogManifest(0)).segments.find((segment) => segment.inProgress);
  t.truthy(inProgress, 'the active has a segment in progress');

  await cluster.masters[first]!.kill();
  await cluster.waitForActiveMaster({ except: first, timeoutMs: 60_000 });
  const after = await treeOf(standbyAddress);
  t.is(after.appliedTxId, lastAcknowledged, 'the new active applied exactly the acknowledged edits');
  t.deepEqual(after.paths, acknowledged.paths('/'), 'the new active holds exactly the acknowledged namespace');

  // The journal itself replays to the same namespace; the dead active's segment was recovered.
  const replayed = await replayJournal(cluster);
  t.is(replayed.lastTxId, lastAcknowledged);
  t.deepEqual(replayed.namespace.paths('/'), after.paths);
  const manifest = await qjm.getEditLogManifest(0);
  const recovered = manifest.segments.find((segment) => segment.firstTxId === inProgress!.firstTxId);
  t.is(recovered?.inProgress, false, 'the in-progress segment of the killed active is finalized');
  t.is(recovered?.lastTxId, lastAcknowledged);
  t.true(manifest.segments.filter((segment) => !segment.inProgress).length >= 3, `several segments: ${JSON.stringify(manifest.segments)}`);

  // The new active writes, and answers with the next txid.
  const next = await mutate(standbyAddress, { op: 'create', path: '/after-failover' });
  t.is(next.status, 200);
  t.is(next.body.txid, lastAcknowledged + 1);
});

test('metadata-master - under a stream of mutations, a SIGKILLed active loses no acknowledged edit and the old active catches up', async (t) => {
  const cluster = await clusterFor(t, { journalNodes: 3, masters: 2, leaseTtlMs: 2000, segmentEdits: 40, readyTimeoutMs: 60_000 });
  const first = await cluster.waitForActiveMaster();
  const second = 1 - first;
  const load = new NamespaceLoad({ masters: cluster.masterHttpAddresses, root: '/stream', ratePerSecond: 80, concurrencyMax: 8, recordAcknowledged: true });
  await load.start();
  await waitFor(() => load.snapshot.acknowledged >= 100, { timeoutMs: 30_000, what: '100 acknowledged mutations' });

  await cluster.masters[first]!.kill();
  const ackedAtKill = load.snapshot.acknowledged;
  await cluster.waitForActiveMaster({ except: first, timeoutMs: 60_000 });
  const newAddress = cluster.masterHttpAddresses[second]!;
  await waitFor(() => load.acknowledgedOperations.some((acked) => acked.master === newAddress), { timeoutMs: 30_000, what: 'a write acknowledged by the new active' });
  await waitFor(() => load.snapshot.acknowledged >= ackedAtKill + 50, { timeoutMs: 30_000, what: '50 more acknowledged mutations' });

  // The killed master comes back as a standby and catches up.
  await cluster.restartMaster(first);
  await load.stop();
  t.is(load.snapshot.unexpected, 0);
  t.is(load.snapshot.abandoned, 0);
  t.deepEqual(load.uncertainFiles(), []);

  const expected = load.expectedFiles();
  const active = await treeOf(newAddress, '/stream');
  t.deepEqual(active.paths.filter((path) => !path.endsWith('/')), expected, 'the new active holds exactly the acknowledged files');
  const lastTxId = (await cluster.masterStatus(second)).lastTxId;
  await waitFor(async () => (await cluster.masterStatus(first)).appliedTxId >= lastTxId, { timeoutMs: 30_000, what: 'the old active caught up' });
  const back = await cluster.masterStatus(first);
  t.is(back.role, 'standby');
  t.deepEqual((await treeOf(cluster.masterHttpAddresses[first]!, '/stream')).paths, active.paths, 'the old active, now standby, agrees');
});
