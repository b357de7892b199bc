/**
 * A writer process for the "writer killed mid-batch" integration test: opens the journal
 * (automatic epoch), starts a segment after the recovered last txid and writes batches as fast
 * as it can, printing `acked <txid>` after each acknowledged batch, until it is killed.
 * Usage: node --import tsx writer-child.ts <journalId> <rpc,rpc,...>
 */
import { QuorumJournalManager } from '../../../libqjm/qjm.ts';

const [journalId, nodes] = process.argv.slice(2);
if (journalId === undefined || nodes === undefined) {
  console.error('usage: writer-child.ts <journalId> <rpc,rpc,...>');
  process.exit(2);
}
const qjm = new QuorumJournalManager({ journalId, nodes: nodes.split(','), inflightBatchesMax: 8 });
const writer = await qjm.openForWrite();
await writer.startLogSegment(writer.lastTxId + 1);
console.log(`opened ${writer.epoch} ${writer.lastTxId}`);
for (;;) {
  const first = writer.nextTxId;
  const records = Array.from({ length: 50 }, (_, i) => Buffer.from(`edit-${first + i}`));
  // Several batches in flight: do not await each one before sending the next.
  const pending = [writer.write(first, records)];
  const second = writer.nextTxId;
  pending.push(writer.write(second, Array.from({ length: 50 }, (_, i) => Buffer.from(`edit-${second + i}`))));
  await Promise.all(pending);
  console.log(`acked ${writer.lastTxId}`);
}
