/**
 * Serial.
 * Two masters (HAController) on a real 3-node JournalNode group: the scenarios.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { HAController } from '../../../libqjm/ha-controller.ts';
import type { StandbyReason } from '../../../libqjm/ha-controller.ts';
import { JournalElection } from '../../../libqjm/journal-election.ts';
import { EtcdElection } from '../../../libqjm/etcd-election.ts';
import { Etcd3 } from 'etcd3';
import type { ElectionHook } from '../../../libqjm/election.ts';
import type { QuorumJournalManager } from '../../../libqjm/qjm.ts';
import type { JournalWriter } from '../../../libqjm/writer.ts';
import { EpochFencedError } from '../../../libqjm/errors.ts';
import { waitFor } from '../../support/wait.ts';
import { etcdAvailability, startEtcd } from '../../support/etcd.ts';
import { startCluster } from './cluster-handle.ts';
import type { JournalCluster } from './cluster-handle.ts';
import type { Logger } from '../../../libqjm/log.ts';
import { readFileSync } from 'node:fs';

/** A logger that keeps lines in memory, shown only when a wait fails (see waitLogged). */
function memoryLogger(lines: string[]): Logger {
  const at = (level: string) => (fields: object, message?: string): void => {
    if (lines.length < 2000) lines.push(`${new Date().toISOString()} ${level} ${message ?? ''} ${JSON.stringify(fields)}`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** waitFor that, on timeout, logs the masters' lines and the end of each JournalNode's log. */
async function waitLogged(t: ExecutionContext, cluster: JournalCluster, lines: readonly string[], condition: () => boolean, what: string): Promise<void> {
  try {
    await waitFor(condition, { what });
  } catch (error) {
    for (const line of lines.slice(-200)) t.log(line);
    for (let i = 0; i < cluster.ids.length; i++) {
      let text = '';
      try {
        text = readFileSync(cluster.logPath(i), 'utf8');
      } catch {
        text = '(no log)';
      }
      t.log(`--- ${cluster.ids[i]} log, last lines:\n${text.split('\n').slice(-40).join('\n')}`);
    }
    throw error;
  }
}

const namespace = { nsId: 'ns-it', clusterId: 'cluster-it', blockPoolId: 'bp', layoutVersion: 1 };

function master(t: ExecutionContext, qjm: QuorumJournalManager, election: ElectionHook, candidate: string, log?: Logger) {
  const state: string[] = [];
  const reasons: StandbyReason[] = [];
  let writer: JournalWriter | undefined;
  const controller = new HAController({
    qjm,
    election,
    candidate,
    apply: (edit) => void state.push(Buffer.from(edit.data).toString()),
    onActive: (activeWriter) => {
      writer = activeWriter;
    },
    onStandby: (reason) => void reasons.push(reason),
    ...(log === undefined ? {} : { log }),
  });
  t.teardown(() => controller.stop());
  return { controller, state, reasons, writer: () => writer };
}

async function writeEdits(writer: JournalWriter, count: number): Promise<void> {
  if (writer.openSegmentFirstTxId === undefined) await writer.startLogSegment(writer.nextTxId);
  const first = writer.nextTxId;
  await writer.write(first, Array.from({ length: count }, (_, i) => Buffer.from(`edit-${first + i}`)));
}

function expected(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `edit-${from + i}`);
}

test.serial('ha integration - two masters: one active, the standby state equals the log', async (t) => {
  const { manager } = await startCluster(t);
  await manager().format(namespace);
  const qjmA = manager();
  const qjmB = manager();
  const a = master(t, qjmA, new JournalElection({ qjm: qjmA, ttlMs: 3000 }), 'master-a');
  const b = master(t, qjmB, new JournalElection({ qjm: qjmB, ttlMs: 3000 }), 'master-b');
  a.controller.start();
  await waitFor(() => a.controller.state === 'active', { what: 'a active' });
  b.controller.start();
  for (let i = 0; i < 10; i += 1) await writeEdits(a.writer()!, 100);
  await waitFor(() => b.state.length === 1000, { timeoutMs: 30_000, what: 'b applied everything' });
  t.deepEqual(b.state, expected(1, 1000));
  t.is(b.controller.state, 'standby');
});

test.serial('ha integration - lease expiry while writing: the old writer is fenced; the new active recovers and continues at the right txid', async (t) => {
  const { manager } = await startCluster(t);
  await manager().format(namespace);
  // The old active holds the lease but stops renewing it (a long GC pause, say) and keeps writing.
  const qjmA = manager();
  const lease = await qjmA.acquireLease('leader', 'master-a', 1500);
  const writerA = await qjmA.openForWrite({ epoch: lease.lease!.token });
  await writeEdits(writerA, 50);

  const qjmB = manager();
  const b = master(t, qjmB, new JournalElection({ qjm: qjmB, ttlMs: 3000 }), 'master-b');
  b.controller.start();
  await waitFor(() => b.controller.state === 'active', { timeoutMs: 30_000, what: 'b active after the lease expired' });
  t.true(b.controller.token! > lease.lease!.token);
  t.deepEqual(b.state, expected(1, 50));
  await t.throwsAsync(writeEdits(writerA, 1), { instanceOf: EpochFencedError });
  await writeEdits(b.writer()!, 10);
  const page = await qjmB.readEdits(1, { maxCount: 1000 });
  t.deepEqual(page.records.map((r) => Buffer.from(r.data).toString()), expected(1, 60));
});

test.serial('ha integration - the active JournalNode leader is killed: the active master keeps writing', async (t) => {
  const { cluster, manager } = await startCluster(t);
  await manager().format(namespace);
  const lines: string[] = [];
  const log = memoryLogger(lines);
  const qjmA = manager({ log });
  const a = master(t, qjmA, new JournalElection({ qjm: qjmA, ttlMs: 5000, log }), 'master-a', log);
  a.controller.start();
  await waitLogged(t, cluster, lines, () => a.controller.state === 'active', 'a active');
  await writeEdits(a.writer()!, 10);
  await cluster.kill(cluster.rpcAddresses.indexOf(qjmA.routes.leader!), 'SIGKILL');
  await writeEdits(a.writer()!, 10);
  t.is(a.controller.state, 'active');
});

const etcd = etcdAvailability();
(etcd.mode === 'run' ? test.serial : test.serial.skip)('ha integration - etcd election: failover on a revoked lease', async (t) => {
  if (etcd.mode !== 'run') return;
  const etcdProcess = await startEtcd(etcd.binary);
  t.teardown(() => etcdProcess.stop());
  const { manager } = await startCluster(t);
  await manager().format(namespace);
  const electionA = new EtcdElection({ hosts: [etcdProcess.clientUrl], name: 'it', ttlSeconds: 3 });
  const electionB = new EtcdElection({ hosts: [etcdProcess.clientUrl], name: 'it', ttlSeconds: 3 });
  t.teardown(() => {
    electionA.close();
    electionB.close();
  });
  const a = master(t, manager(), electionA, 'master-a');
  const b = master(t, manager(), electionB, 'master-b');
  a.controller.start();
  await waitFor(() => a.controller.state === 'active', { what: 'a active' });
  b.controller.start();
  await writeEdits(a.writer()!, 20);
  await a.controller.stop();
  await waitFor(() => b.controller.state === 'active', { timeoutMs: 20_000, what: 'b active' });
  t.deepEqual(b.state, expected(1, 20));
});

(etcd.mode === 'run' ? test.serial : test.serial.skip)('ha integration - etcd election: the lease revoked while the old active still writes: it is fenced, the new active recovers and continues', async (t) => {
  if (etcd.mode !== 'run') return;
  const etcdProcess = await startEtcd(etcd.binary);
  t.teardown(() => etcdProcess.stop());
  const { manager } = await startCluster(t);
  await manager().format(namespace);
  const operator = new Etcd3({ hosts: [etcdProcess.clientUrl] });
  t.teardown(() => operator.close());

  // A wins the etcd election and writes with its token as epoch, outside any controller, so it
  // keeps trying to write after its leadership is gone (a master that does not know yet).
  const electionA = new EtcdElection({ hosts: [etcdProcess.clientUrl], name: 'revoke', ttlSeconds: 5 });
  t.teardown(() => electionA.close());
  const leadershipA = await electionA.campaign('master-a');
  const qjmA = manager();
  const writerA = await qjmA.openForWrite({ epoch: leadershipA.token });
  await writeEdits(writerA, 40);
  await writerA.write(writerA.nextTxId, [Buffer.from(`edit-${writerA.nextTxId}`)]); // in-progress segment, not finalized

  // The operator revokes A's lease (as etcd does when A's keepalives stop).
  const keys = await operator.getAll().prefix('qjm/election/revoke/').keys();
  t.is(keys.length, 1);
  const leaseHex = keys[0]!.split('/').pop()!;
  await operator.leaseClient.leaseRevoke({ ID: BigInt(`0x${leaseHex}`).toString() });
  await leadershipA.lost; // A's election notices
  const qjmB = manager();
  const electionB = new EtcdElection({ hosts: [etcdProcess.clientUrl], name: 'revoke', ttlSeconds: 5 });
  t.teardown(() => electionB.close());
  const b = master(t, qjmB, electionB, 'master-b');
  b.controller.start();
  await waitFor(() => b.controller.state === 'active', { timeoutMs: 30_000, what: 'b active' });
  t.true(b.controller.token! > leadershipA.token, 'tokens strictly increase');
  t.deepEqual(b.state, expected(1, 41), 'the new active recovered the in-progress segment with every acknowledged edit');

  // Every later write of the old active is refused.
  await t.throwsAsync(writerA.write(writerA.nextTxId, [Buffer.from('stale')]), { instanceOf: EpochFencedError });
  await writeEdits(b.writer()!, 10);
  const page = await qjmB.readEdits(1, { maxCount: 1000 });
  t.deepEqual(page.records.map((r) => Buffer.from(r.data).toString()), expected(1, 51));
});
