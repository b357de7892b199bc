/**
 * The JournalNode in-process (`startJournalNode`), one node: input validation of the QJournal
 * service, JournalStream ordering and its in-flight bound, leases stamped with the leader's
 * clock, the data directory lock, clean stop and restart.
 */
import test, { type ExecutionContext } from 'ava';
import { crc32c } from '@node-rs/crc32';
import { mkdtempSync } from 'node:fs';
import { access, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { validateConfig } from '../../journalnode/config.ts';
import { DataDirLockedError, startJournalNode, type JournalNodeHandle } from '../../journalnode/server.ts';
import { frameRecords } from '../../journalnode/protocol/records.ts';
import { JournalStreamClient, journalRequest, namespace, qjournalClient, readAllEdits, unary } from './support.ts';
import { waitFor } from '../support/wait.ts';

const streamLimit = 8;

function configFor(dataDir: string, overrides: Record<string, unknown> = {}) {
  return validateConfig({
    ...overrides,
    id: 'solo',
    dataDir,
    rpc: '127.0.0.1:0',
    http: '127.0.0.1:0',
    tickMs: 20,
    electionTicks: 5,
    streamInflightRequestsMax: streamLimit,
    logLevel: 'warn',
  });
}

async function startSolo(dataDir: string, overrides: Record<string, unknown> = {}): Promise<JournalNodeHandle> {
  const handle = await startJournalNode(configFor(dataDir, overrides), {
    log: pino({ level: 'warn' }),
    onFatal: (error) => {
      throw error;
    },
  });
  await waitFor(() => handle.node.isLeader(), { what: 'the single node to lead' });
  return handle;
}

interface Answer {
  readonly success?: Record<string, unknown> | null;
  readonly error?: { code: string; message: string; retryable: boolean } | null;
}

/** A QJournal client of `handle` (closed when the test ends) and a unary caller over it. */
function connect(t: ExecutionContext, handle: JournalNodeHandle) {
  const client = qjournalClient(handle.rpcAddress);
  t.teardown(() => client.close());
  const call = (method: string, request: object): Promise<Answer> => unary<object, Answer>(client, method, request);
  return { client, call };
}

/** Format `journalId`, promise `epoch` and start a segment at txid 1, checking each answer. */
async function openJournal(t: ExecutionContext, call: ReturnType<typeof connect>['call'], journalId: string, epoch: number): Promise<void> {
  t.truthy((await call('format', { journalId, namespace })).success);
  t.truthy((await call('newEpoch', { journalId, namespace, epoch })).success);
  t.truthy((await call('startSegment', { journalId, epoch, txId: 1 })).success);
}

test('journalnode - in-process node: validation, stream order and bound, leases, lock, clean stop and restart', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qj-solo-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  let handle = await startSolo(dataDir);
  t.teardown(() => handle.stop());
  const { client, call } = connect(t, handle);
  await openJournal(t, call, 'solo', 3);

  // Validation before proposing.
  const invalid = async (method: string, request: object): Promise<string | undefined> => (await call(method, request)).error?.code;
  t.is(await invalid('format', { journalId: 'bad id!', namespace }), 'INVALID_ARGUMENT');
  t.is(await invalid('format', { journalId: 'x' }), 'INVALID_ARGUMENT');
  t.is(await invalid('newEpoch', { journalId: 'solo', namespace, epoch: '9007199254740993' }), 'INVALID_ARGUMENT');
  t.is(await invalid('journal', { ...journalRequest('solo', 3, 1, 5), count: 0 }), 'INVALID_ARGUMENT');
  t.is(await invalid('journal', { ...journalRequest('solo', 3, 1, 5), crc32c: 1 }), 'CORRUPT_RECORDS');
  const damaged = frameRecords(1, [Buffer.from('a'), Buffer.from('b')]);
  damaged.writeUInt8(damaged.readUInt8(damaged.length - 1) ^ 0xff, damaged.length - 1);
  // A record's CRC is checked here only (the state machine trusts the batch checksum that ties
  // the bytes to this check): the damaged batch must be refused without reaching the log.
  const appliedBefore = handle.node.appliedIndex();
  const refused = (await call('journal', { journalId: 'solo', epoch: 3, firstTxId: 1, count: 2, records: damaged, crc32c: crc32c(damaged) })).error;
  t.is(refused?.code, 'CORRUPT_RECORDS');
  // Found by the check against the batch's CRC (protocol/record-crcs.ts), then named record by record.
  t.regex(String(refused?.message), /checksum mismatch at offset 17 \(txid 2\)/);
  t.is(await invalid('journal', { journalId: 'solo', epoch: 3, firstTxId: 1, count: 1, records: damaged, crc32c: crc32c(damaged) }), 'CORRUPT_RECORDS');
  t.is(handle.node.appliedIndex(), appliedBefore);
  t.is(await invalid('journal', journalRequest('solo', 2, 1, 5)), 'EPOCH_FENCED');
  t.is(await invalid('getJournaledEdits', { journalId: 'solo', fromTxId: 0 }), 'INVALID_ARGUMENT');
  t.is(await invalid('getJournalState', { journalId: 'none' }), 'NOT_FORMATTED');
  t.is(await invalid('acquireLease', { journalId: 'solo', leaseName: 'l', candidate: 'a', ttlMs: 0 }), 'INVALID_ARGUMENT');

  // 200 batches sent at once on one stream: answered in order, at most `streamLimit` in flight.
  const stream = new JournalStreamClient(client);
  const answers = await Promise.all(Array.from({ length: 200 }, (_, b) => stream.send(journalRequest('solo', 3, 1 + b * 10, 10))));
  stream.end();
  t.deepEqual(stream.order, Array.from({ length: 200 }, (_, k) => k + 1));
  t.true(answers.every((a, b) => a.success?.lastTxId === (b + 1) * 10));
  const metrics = await handle.metrics.registry.getSingleMetricAsString('qjournal_stream_inflight_requests_max');
  const inflightMax = Number(/ (\d+)$/m.exec(metrics)?.[1]);
  t.true(inflightMax > 1 && inflightMax <= streamLimit, `in flight at most ${streamLimit} (saw ${inflightMax})`);
  const state = await call('getJournalState', { journalId: 'solo' });
  t.like(state.success, { lastTxId: 2000, promisedEpoch: 3, writerEpoch: 3 });

  // Leases: the leader's clock is stamped into the command.
  const before = Date.now();
  const acquired = await call('acquireLease', { journalId: 'solo', leaseName: 'master', candidate: 'm1', ttlMs: 60_000 });
  const lease = acquired.success?.['lease'] as { holder: string; token: number; expiresAtMs: number };
  t.is(lease.holder, 'm1');
  t.true(lease.expiresAtMs >= before + 60_000 && lease.expiresAtMs <= Date.now() + 60_000);
  t.is((await call('acquireLease', { journalId: 'solo', leaseName: 'master', candidate: 'm2', ttlMs: 1000 })).error?.code, 'LEASE_HELD');
  t.truthy((await call('renewLease', { journalId: 'solo', leaseName: 'master', candidate: 'm1', token: lease.token, ttlMs: 60_000 })).success);
  t.like((await call('getLease', { journalId: 'solo', leaseName: 'master' })).success?.['lease'], { holder: 'm1', token: lease.token });
  t.like((await call('releaseLease', { journalId: 'solo', leaseName: 'master', candidate: 'm1', token: lease.token })).success, { released: true });

  // The data directory is locked while the node runs.
  await t.throwsAsync(startJournalNode(configFor(dataDir), { log: pino({ level: 'silent' }) }), { instanceOf: DataDirLockedError });

  // Clean stop: pending nothing, lock released; a restart recovers the journal from disk.
  await handle.stop();
  await t.throwsAsync(access(join(dataDir, 'LOCK')));
  t.is(await handle.stopped, undefined);
  handle = await startSolo(dataDir);
  // Reads are served from what this node applied: the log replays as the restarted node commits.
  const restarted = handle;
  await waitFor(() => {
    const state = restarted.stateMachine.getJournalState('solo');
    return state.ok && state.lastTxId === 2000;
  }, { what: 'the restarted node to replay its log' });
  const { client: again } = connect(t, handle);
  const records = await readAllEdits(again, 'solo');
  t.is(records.length, 2000);
  t.is(records.at(-1)?.txid, 2000);
  const resumed = await unary<object, Answer>(again, 'journal', journalRequest('solo', 3, 2001, 10));
  t.is(resumed.success?.['lastTxId'], 2010);
});

test('journalnode - snapshotBytes (--snapshot-bytes) snapshots after that many applied bytes, whatever the entry count', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qj-solo-snapbytes-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const handle = await startSolo(dataDir, { snapshotBytes: 1024 * 1024 });
  t.teardown(() => handle.stop());
  const { call } = connect(t, handle);
  await openJournal(t, call, 'snap', 1);
  t.is(handle.node.status().snapshotIndex, 0);
  // Five entries of about 300 KB: past 1 MiB applied, far below the 100,000 entries of the
  // default snapshotEntries (and the default 512 MiB).
  for (let i = 0; i < 5; i += 1) t.truthy((await call('journal', journalRequest('snap', 1, 1 + i * 300, 300, 1000))).success);
  const index = await waitFor(() => (handle.node.status().snapshotIndex > 0 ? handle.node.status().snapshotIndex : null), { what: 'a snapshot' });
  t.true(index > 3, `snapshot at ${index}, after the journal entries`);
});
