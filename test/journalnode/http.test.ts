/**
 * The HTTP endpoints and the WebSocket tail of real JournalNode processes.
 */
import test from 'ava';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startJournalCluster, type JournalCluster } from '../support/cluster.ts';
import { RaftAdminClient } from '../../raft/admin/client.ts';
import { waitFor } from '../support/wait.ts';
import { parseRecords, type EditRecord } from '../../journalnode/protocol/records.ts';
import { editData, journalRequest, LeaderRouter, namespace, unary, waitConverged } from './support.ts';

const highWaterBytes = 256 * 1024;
/** The tail's backlog frames hold at most this (journalnode/tail.ts tailReadChunkBytes). */
const frameBytesMax = 1024 * 1024;

let cluster: JournalCluster;
let router: LeaderRouter;

test.before(async () => {
  cluster = await startJournalCluster({
    nodes: 3,
    extraArgs: ['--tail-buffered-bytes-high-water', String(highWaterBytes), '--tail-stall-timeout-ms', '1500'],
  });
  router = new LeaderRouter(cluster.rpcAddresses);
  // Journal 'j': a finalized segment 1-500, an open one 501-700.
  await router.ok('format', { journalId: 'j', namespace });
  await router.ok('newEpoch', { journalId: 'j', namespace, epoch: 1 });
  await router.ok('startSegment', { journalId: 'j', epoch: 1, txId: 1 });
  for (let b = 0; b < 5; b++) await router.ok('journal', journalRequest('j', 1, 1 + b * 100, 100));
  await router.ok('finalize', { journalId: 'j', epoch: 1, firstTxId: 1, lastTxId: 500 });
  await router.ok('startSegment', { journalId: 'j', epoch: 1, txId: 501 });
  for (let b = 0; b < 2; b++) await router.ok('journal', journalRequest('j', 1, 501 + b * 100, 100));
  await waitConverged(cluster);
});

test.after.always(async () => {
  router?.close();
  await cluster?.stop();
});

async function getJson(address: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://${address}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function metricsOf(address: string): Promise<string> {
  return (await fetch(`http://${address}/metrics`)).text();
}

function metricValue(text: string, line: RegExp): number | undefined {
  const match = line.exec(text);
  return match === null ? undefined : Number(match[1]);
}

test.serial('journalnode - /healthz, /status and /metrics describe the node and the journals', async (t) => {
  const leader = await cluster.leaderIndex();
  const follower = (leader + 1) % 3;
  const health = await getJson(cluster.httpAddresses[leader]!, '/healthz');
  t.is(health.status, 200);
  t.deepEqual(health.body, { ok: true, role: 'leader' });
  t.is((await getJson(cluster.httpAddresses[follower]!, '/healthz')).body['role'], 'follower');

  const status = await cluster.status(leader);
  t.is(status.raft.role, 'leader');
  t.is(status.raft.leader.id, cluster.ids[leader]!);
  t.is(status.raft.leader.address, cluster.rpcAddresses[leader]!);
  t.deepEqual(status.raft.configuration.voters, ['jn1', 'jn2', 'jn3']);
  t.true(status.raft.commitIndex >= status.raft.appliedIndex && status.raft.appliedIndex > 0);
  t.truthy(status.raft.progress?.[cluster.ids[follower]!], 'the leader reports its followers');
  const journal = status.journals.find((j) => j.journalId === 'j');
  t.is(journal?.lastTxId, 700);
  t.is(journal?.promisedEpoch, 1);
  t.deepEqual(journal?.segments.map((s) => [s.firstTxId, s.lastTxId, s.inProgress]), [
    [1, 500, false],
    [501, 700, true],
  ]);
  const followerStatus = await cluster.status(follower);
  t.is(followerStatus.raft.leader.address, cluster.rpcAddresses[leader]!);
  t.is(followerStatus.raft.progress, null);

  const metrics = await metricsOf(cluster.httpAddresses[leader]!);
  t.true((metricValue(metrics, /^qjournal_proposal_duration_seconds_count\{op="journal",outcome="ok"\} (\d+)$/m) ?? 0) >= 7);
  t.is(metricValue(metrics, /^qjournal_segments\{journal_id="j"\} (\d+)$/m), 2);
  t.is(metricValue(metrics, /^qjournal_last_txid\{journal_id="j"\} (\d+)$/m), 700);
  t.true((metricValue(metrics, /^raft_term (\d+)$/m) ?? 0) >= 2);
  t.true((metricValue(metrics, /^raft_wal_fsyncs_total (\d+)$/m) ?? 0) > 0);
  t.true((metricValue(metrics, /^raft_wal_segments_created_total (\d+)$/m) ?? 0) >= 1, 'the first WAL file');
  t.is(metricValue(metrics, /^raft_wal_segments_reused_total (\d+)$/m), 0, 'nothing compacted yet, nothing reused');
  t.true((metricValue(metrics, /^qjournal_journal_bytes_applied_total (\d+)$/m) ?? 0) >= 700 * 116);
  t.regex(metrics, /^raft_follower_lag_entries\{peer="jn\d"\} \d+$/m);
  t.is(metricValue(metrics, /^raft_read_ahead_waits_total (\d+)$/m), 0, 'no follower behind the entries kept in memory');

  // The Raft admin service answers on the same gRPC port.
  const admin = new RaftAdminClient({ nodes: cluster.rpcAddresses });
  t.teardown(() => admin.close());
  const statuses = await admin.statusAll();
  t.deepEqual(statuses.map((s) => s.status?.id), ['jn1', 'jn2', 'jn3']);
  t.is(statuses[leader]!.status?.role, 'leader');
});

test.serial('journalnode - manifest and segment download over HTTP; bad requests are refused with JSON errors', async (t) => {
  const address = cluster.httpAddresses[0]!;
  const manifest = await getJson(address, '/journals/j/manifest');
  t.is(manifest.status, 200);
  t.is(manifest.body['lastTxId'], 700);
  t.deepEqual((manifest.body['segments'] as { firstTxId: number }[]).map((s) => s.firstTxId), [1, 501]);
  const since = await getJson(address, '/journals/j/manifest?since=600');
  t.deepEqual((since.body['segments'] as { firstTxId: number }[]).map((s) => s.firstTxId), [501]);

  const download = await fetch(`http://${address}/journals/j/segments/1`);
  t.is(download.status, 200);
  t.is(download.headers.get('x-last-tx-id'), '500');
  const bytes = Buffer.from(await download.arrayBuffer());
  const onDisk = await readFile(join(cluster.dataDirs[0]!, 'journals', 'j', 'current', 'edits_0000000000000000001-0000000000000000500'));
  t.true(bytes.equals(onDisk));
  const records = parseRecords(bytes, { firstTxId: 1 });
  t.is(records.length, 500);
  t.true(Buffer.from(records[499]!.data).equals(editData(500)));

  const inProgress = await getJson(address, '/journals/j/segments/501');
  t.is(inProgress.status, 409);
  t.is((inProgress.body['error'] as { code: string }).code, 'IN_PROGRESS');
  t.is((await getJson(address, '/journals/j/segments/999')).status, 404);
  t.is((await getJson(address, '/journals/j/segments/abc')).status, 400);
  t.is((await getJson(address, '/journals/j/manifest?since=-1')).status, 400);
  const badId = await getJson(address, '/journals/bad!id/manifest');
  t.is(badId.status, 400);
  t.is((badId.body['error'] as { code: string }).code, 'INVALID_ARGUMENT');
  t.is((await getJson(address, '/journals/unknown/manifest')).status, 404);
  t.is((await getJson(address, '/no/such/thing')).status, 404);
});

/** A tail client over `ws` that records frames. */
class TailClient {
  readonly ws: WebSocket;
  readonly records: EditRecord[] = [];
  readonly controls: Record<string, unknown>[] = [];
  closed: { code: number; reason: string } | undefined;
  refused: number | undefined;

  constructor(address: string, path: string) {
    this.ws = new WebSocket(`ws://${address}${path}`, { perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.records.push(...parseRecords(data));
      else this.controls.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString('utf8') };
    });
    this.ws.on('unexpected-response', (_request, response) => {
      this.refused = response.statusCode;
      this.ws.terminate();
    });
    this.ws.on('error', () => undefined);
  }

  hasControl(type: string): boolean {
    return this.controls.some((c) => c['type'] === type);
  }
}

test.serial('journalnode - ws tail sends the backlog then live edits, in order, no gap, no duplicate', async (t) => {
  const leader = await cluster.leaderIndex();
  const follower = (leader + 2) % 3;
  const fromStart = new TailClient(cluster.httpAddresses[follower]!, '/journals/j/tail?from=1');
  const fromMiddle = new TailClient(cluster.httpAddresses[leader]!, '/journals/j/tail?from=650');
  t.teardown(() => {
    fromStart.ws.terminate();
    fromMiddle.ws.terminate();
  });
  await waitFor(() => fromStart.hasControl('caught-up') && fromMiddle.hasControl('caught-up'), { what: 'both tails to catch up' });
  t.like(fromStart.controls[0], { type: 'hello', journalId: 'j', fromTxId: 1, firstTxId: 1, lastTxId: 700 });
  t.is(fromStart.records.length, 700);

  // Live edits, written while both tails are connected.
  for (let b = 0; b < 3; b++) await router.ok('journal', journalRequest('j', 1, 701 + b * 100, 100));
  await waitFor(() => fromStart.records.length >= 1000 && fromMiddle.records.length >= 351, { what: 'live edits' });
  t.deepEqual(fromStart.records.map((r) => r.txid), Array.from({ length: 1000 }, (_, k) => k + 1));
  t.deepEqual(fromMiddle.records.map((r) => r.txid), Array.from({ length: 351 }, (_, k) => k + 650));
  t.true(fromStart.records.every((r) => Buffer.from(r.data).equals(editData(r.txid))));
  t.is(fromStart.closed, undefined);

  // Bad requests: an error frame, then the close.
  const badFrom = new TailClient(cluster.httpAddresses[0]!, '/journals/j/tail?from=0');
  const unknown = new TailClient(cluster.httpAddresses[0]!, '/journals/unknown/tail?from=1');
  await waitFor(() => badFrom.closed !== undefined && unknown.closed !== undefined, { what: 'refusals' });
  t.like(badFrom.controls[0], { type: 'error', code: 'INVALID_ARGUMENT', retryable: false });
  t.deepEqual(badFrom.closed, { code: 1008, reason: 'INVALID_ARGUMENT' });
  t.like(unknown.controls[0], { type: 'error', code: 'NOT_FORMATTED' });
  t.deepEqual(unknown.closed, { code: 1008, reason: 'NOT_FORMATTED' });
  t.is(badFrom.refused, undefined);
});

test.serial('journalnode - a ws tail client that never reads is dropped as a slow consumer, with bounded buffering', async (t) => {
  // ~10 MiB of backlog: more than the kernel's socket buffers hold.
  await router.ok('format', { journalId: 'big', namespace });
  await router.ok('newEpoch', { journalId: 'big', namespace, epoch: 1 });
  await router.ok('startSegment', { journalId: 'big', epoch: 1, txId: 1 });
  for (let b = 0; b < 20; b++) await router.ok('journal', journalRequest('big', 1, 1 + b * 1000, 1000, 500));
  await waitConverged(cluster);

  const address = cluster.httpAddresses[1]!;
  // What the node synced of its WAL and of the segment went back to the kernel.
  const written = await metricsOf(address);
  t.true((metricValue(written, /^qjournal_page_cache_dropped_bytes_total (\d+)$/m) ?? 0) >= 8 * 1024 * 1024, 'synced pages were dropped');
  t.is(metricValue(written, /^qjournal_page_cache_drop_failures_total (\d+)$/m), 0);
  const droppedBefore = metricValue(await metricsOf(address), /^qjournal_tail_dropped_total\{reason="slow_consumer"\} (\d+)$/m) ?? 0;
  const client = new TailClient(address, '/journals/big/tail?from=1');
  t.teardown(() => client.ws.terminate());
  client.ws.on('open', () => client.ws.pause());
  await waitFor(
    async () => (metricValue(await metricsOf(address), /^qjournal_tail_dropped_total\{reason="slow_consumer"\} (\d+)$/m) ?? 0) > droppedBefore,
    { timeoutMs: 30_000, what: 'the slow consumer to be dropped' },
  );
  const metrics = await metricsOf(address);
  const bufferedMax = metricValue(metrics, /^qjournal_tail_buffered_bytes_max (\d+)$/m) ?? Infinity;
  t.true(bufferedMax > highWaterBytes, `the buffer reached the high water (${bufferedMax})`);
  t.true(bufferedMax <= highWaterBytes + frameBytesMax, `buffered bytes stayed bounded (${bufferedMax})`);
  t.is(metricValue(metrics, /^qjournal_tail_subscribers (\d+)$/m), 0);

  // Reading again, the client gets what was buffered, then the close with the reason.
  client.ws.resume();
  await waitFor(() => client.closed !== undefined, { what: 'the close' });
  t.deepEqual(client.closed, { code: 1008, reason: 'slow consumer' });
  t.like(client.controls.at(-1), { type: 'error', code: 'UNAVAILABLE', message: 'slow consumer', retryable: true });
  t.true(client.records.length < 20_000);
  t.true(client.records.every((r, k) => r.txid === k + 1));
});

test.serial('journalnode - a follower answers writes NOT_LEADER with the leader rpc address; SIGTERM stops a node with exit code 0', async (t) => {
  const leader = await cluster.leaderIndex();
  const follower = (leader + 1) % 3;
  const answer = await unary<object, { error?: { code: string; leaderHint: string; retryable: boolean } | null }>(
    router.client(cluster.rpcAddresses[follower]!),
    'journal',
    journalRequest('j', 1, 1001, 10),
  );
  t.like(answer.error, { code: 'NOT_LEADER', leaderHint: cluster.rpcAddresses[leader]!, retryable: true });

  await cluster.kill(follower, 'SIGTERM');
  t.is(cluster.exitCode(follower), 0);
  await t.throwsAsync(access(join(cluster.dataDirs[follower]!, 'LOCK')), undefined, 'the data directory lock is released');
  await cluster.restart(follower);
  await waitConverged(cluster);
});
