/**
 * Serial.
 * The WebSocket tail against real JournalNodes: backlog then live, and fallback when the node
 * serving the socket dies.
 */
import test from 'ava';
import type { EditRecord } from '../../../journalnode/protocol/records.ts';
import { waitFor } from '../../support/wait.ts';
import { startCluster } from './cluster-handle.ts';

const namespace = { nsId: 'ns-it', clusterId: 'cluster-it', blockPoolId: 'bp', layoutVersion: 1 };

function edits(first: number, count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`edit-${first + i}`));
}

test.serial('tail integration - backlog then live edits over the socket, each once, in order; survives the serving node dying', async (t) => {
  const { cluster, manager } = await startCluster(t);
  const qjm = manager();
  await qjm.format(namespace);
  const writer = await qjm.openForWrite();
  await writer.startLogSegment(1);
  await writer.write(1, edits(1, 500));

  const controller = new AbortController();
  const seen: EditRecord[] = [];
  const reader = manager({ httpNodes: [cluster.httpAddresses[2]!, cluster.httpAddresses[0]!] });
  const done = (async () => {
    for await (const edit of reader.tail({ from: 1, signal: controller.signal, pollIntervalMs: 20 })) seen.push({ txid: edit.txid, data: Buffer.from(edit.data) });
  })();
  await waitFor(() => seen.length === 500, { what: 'backlog' });
  await writer.write(501, edits(501, 100));
  await waitFor(() => seen.length === 600, { what: 'live' });
  await cluster.kill(2, 'SIGKILL');
  await writer.write(601, edits(601, 100));
  await waitFor(() => seen.length === 700, { timeoutMs: 30_000, what: 'after the serving node died' });
  controller.abort();
  await done;
  t.deepEqual(seen.map((e) => e.txid), Array.from({ length: 700 }, (_, i) => i + 1));
  t.deepEqual(seen.map((e) => Buffer.from(e.data).toString()), Array.from({ length: 700 }, (_, i) => `edit-${i + 1}`));
});
