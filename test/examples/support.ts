/**
 * Helpers for the metadata master's tests: HTTP calls, the acknowledged namespace rebuilt from
 * the answers, and the journal replayed through libqjm.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { QuorumJournalManager } from '../../libqjm/index.ts';
import { decodeEdit } from '../../examples/metadata-master/edits.ts';
import { Namespace } from '../../examples/metadata-master/namespace.ts';
import type { NamespaceEdit } from '../../examples/metadata-master/namespace.ts';
import { startLocalCluster } from '../../deploy/launcher.ts';
import type { LocalCluster, LocalClusterOptions } from '../../deploy/launcher.ts';

/** An answer of the master's HTTP API. */
export interface Answer {
  readonly status: number;
  readonly body: { ok?: boolean; txid?: number | null; error?: { code: string; message: string }; active?: { id: string; http: string } | null };
  readonly headers: Headers;
}

/** POST one mutation. */
export async function mutate(address: string, edit: NamespaceEdit): Promise<Answer> {
  const body =
    edit.op === 'mkdir'
      ? { path: edit.path, parents: edit.parents }
      : edit.op === 'rename'
        ? { path: edit.path, to: edit.to }
        : edit.op === 'delete'
          ? { path: edit.path, recursive: edit.recursive }
          : { path: edit.path };
  const response = await fetch(`http://${address}/${edit.op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'], headers: response.headers };
}

/** GET /tree of a master. */
export async function treeOf(address: string, path = '/'): Promise<{ appliedTxId: number; paths: string[] }> {
  const response = await fetch(`http://${address}/tree?path=${encodeURIComponent(path)}`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`tree of ${address}: HTTP ${response.status}`);
  return (await response.json()) as { appliedTxId: number; paths: string[] };
}

/** Every committed edit of the journal, replayed into a fresh namespace. */
export async function replayJournal(cluster: LocalCluster): Promise<{ namespace: Namespace; lastTxId: number }> {
  const qjm = new QuorumJournalManager({ journalId: cluster.layout.journalId, nodes: cluster.rpcAddresses });
  try {
    const namespace = new Namespace();
    let next = 1;
    for (;;) {
      const page = await qjm.readEdits(next);
      if (page.records.length === 0) return { namespace, lastTxId: next - 1 };
      for (const record of page.records) {
        namespace.apply(decodeEdit(record.data));
        next = record.txid + 1;
      }
    }
  } finally {
    qjm.close();
  }
}

/**
 * A cluster for one test in a fresh temporary folder (logs kept on failure: the folder is
 * printed), stopped and deleted by the test's teardown.
 */
export async function clusterFor(t: ExecutionContext, options: Omit<LocalClusterOptions, 'dataDir'>): Promise<LocalCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'qj-master-test-'));
  t.log(`data folder: ${dataDir}`);
  const holder: { cluster?: LocalCluster } = {};
  t.teardown(async () => {
    await holder.cluster?.stop();
    if (t.passed && process.env['QJ_KEEP_DATA'] === undefined) rmSync(dataDir, { recursive: true, force: true });
  });
  holder.cluster = await startLocalCluster({ dataDir, ...options });
  return holder.cluster;
}
