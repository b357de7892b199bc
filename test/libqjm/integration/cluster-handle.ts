/**
 * Real JournalNode clusters for the libqjm integration tests (test/support/cluster.ts), and a
 * manager factory bound to one.
 */
import type { ExecutionContext } from 'ava';
import { QuorumJournalManager } from '../../../libqjm/qjm.ts';
import type { QuorumJournalManagerOptions } from '../../../libqjm/qjm.ts';
import type { JournalWriter } from '../../../libqjm/writer.ts';
import { startJournalCluster } from '../../support/cluster.ts';
import { waitFor } from '../../support/wait.ts';
import type { JournalCluster } from '../../support/cluster.ts';

export type { JournalCluster };

/** The namespace of every integration journal. */
export const namespace = { nsId: 'ns-it', clusterId: 'cluster-it', blockPoolId: 'bp', layoutVersion: 1 };

/** `count` edits `edit-<txid>` for txids `first ..`. */
export function edits(first: number, count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`edit-${first + i}`));
}

/** Read every committed edit 1..last through `qjm` and check: each txid once, in order, with its data. */
export async function assertLog(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, qjm: QuorumJournalManager, last: number): Promise<void> {
  const txids: number[] = [];
  const texts: string[] = [];
  let next = 1;
  while (next <= last) {
    const from = next;
    const page = await waitFor(async () => {
      const read = await qjm.readEdits(from);
      return read.records.length > 0 ? read : undefined;
    }, { what: `edits from ${from}` });
    for (const record of page.records) {
      txids.push(record.txid);
      texts.push(Buffer.from(record.data).toString());
    }
    next = page.records.at(-1)!.txid + 1;
  }
  t.deepEqual(txids.slice(0, last), Array.from({ length: last }, (_, i) => i + 1), 'each txid once, in order');
  t.deepEqual(texts.slice(0, last), Array.from({ length: last }, (_, i) => `edit-${i + 1}`));
}

/** Open the journal (automatic epoch) and start a segment after the recovered last txid. */
export async function openAndStart(qjm: QuorumJournalManager): Promise<JournalWriter> {
  const writer = await qjm.openForWrite();
  await writer.startLogSegment(writer.lastTxId + 1);
  return writer;
}

/** Start a 3-node cluster stopped at teardown, and a manager factory (closed at teardown). */
export async function startCluster(
  t: ExecutionContext,
  nodes = 3,
): Promise<{ cluster: JournalCluster; manager: (extra?: Partial<QuorumJournalManagerOptions>) => QuorumJournalManager }> {
  const cluster = await startJournalCluster({ nodes });
  const managers: QuorumJournalManager[] = [];
  t.teardown(async () => {
    for (const manager of managers) manager.close();
    await cluster.stop();
  });
  const manager = (extra: Partial<QuorumJournalManagerOptions> = {}): QuorumJournalManager => {
    const qjm = new QuorumJournalManager({
      journalId: 'it',
      nodes: cluster.rpcAddresses,
      httpNodes: cluster.httpAddresses,
      requestTimeoutMs: 10_000,
      writeTimeoutMs: 20_000,
      ...extra,
    });
    managers.push(qjm);
    return qjm;
  };
  return { cluster, manager };
}
