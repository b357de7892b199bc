/** Shared helpers of the libqjm tests (client-side logic against the fake QJournal service). */
import type { ExecutionContext } from 'ava';
import { QuorumJournalManager } from '../../libqjm/qjm.ts';
import type { QuorumJournalManagerOptions } from '../../libqjm/qjm.ts';
import { FakeJournalCluster } from './fake-jn.ts';
import type { FakeClusterOptions } from './fake-jn.ts';

/** The namespace every test journal is formatted with. */
export const testNamespace = { nsId: 'ns-1', clusterId: 'cluster-1', blockPoolId: 'bp-1', layoutVersion: 1 };

/** `count` edits for txids `first ..`, each `edit-<txid>` padded to at least `size` bytes. */
export function makeEdits(first: number, count: number, size = 0): Buffer[] {
  const edits: Buffer[] = [];
  for (let i = 0; i < count; i += 1) {
    const text = `edit-${first + i}`;
    edits.push(size > text.length ? Buffer.concat([Buffer.from(text), Buffer.alloc(size - text.length, 0x2e)]) : Buffer.from(text));
  }
  return edits;
}

/** The text of an edit made by {@link makeEdits} (without padding). */
export function editText(data: Uint8Array): string {
  return Buffer.from(data).toString('utf8').replace(/\.+$/, '');
}

/** Start a fake cluster (stopped at teardown) and return a manager factory (closed at teardown). */
export async function startFake(
  t: ExecutionContext,
  options: FakeClusterOptions = {},
): Promise<{ cluster: FakeJournalCluster; manager: (extra?: Partial<QuorumJournalManagerOptions>) => QuorumJournalManager }> {
  const cluster = await FakeJournalCluster.start(options);
  const managers: QuorumJournalManager[] = [];
  t.teardown(async () => {
    for (const manager of managers) manager.close();
    await cluster.stop();
  });
  const manager = (extra: Partial<QuorumJournalManagerOptions> = {}): QuorumJournalManager => {
    const qjm = new QuorumJournalManager({
      journalId: 'j1',
      nodes: cluster.rpcAddresses,
      ...(options.http === true ? { httpNodes: cluster.httpAddresses } : {}),
      requestTimeoutMs: 3000,
      backoff: { initialDelayMs: 5, maxDelayMs: 50, multiplier: 2, jitter: 0.2 },
      ...extra,
    });
    managers.push(qjm);
    return qjm;
  };
  return { cluster, manager };
}
