/**
 * Integration tests on real JournalNode processes.
 * HDFS QJM scenario: epochs stay unique when several writers race through injected JN failures.
 */
import test from 'ava';
import { EpochFencedError } from '../../../libqjm/errors.ts';
import type { JournalWriter } from '../../../libqjm/writer.ts';
import { namespace, startCluster } from './cluster-handle.ts';

test.serial('qjm integration - HDFS: epochs stay unique under injected failures', async (t) => {
  const { cluster, manager } = await startCluster(t);
  await manager().format(namespace);
  const epochs: number[] = [];
  const writers: JournalWriter[] = [];
  for (let round = 0; round < 4; round += 1) {
    const victim = round % cluster.rpcAddresses.length;
    if (round % 2 === 1) await cluster.kill(victim, 'SIGKILL');
    const attempts = await Promise.allSettled(Array.from({ length: 4 }, () => manager({ requestTimeoutMs: 5_000 }).openForWrite()));
    for (const attempt of attempts) {
      if (attempt.status === 'fulfilled') {
        epochs.push(attempt.value.epoch);
        writers.push(attempt.value);
      }
    }
    if (round % 2 === 1) await cluster.restart(victim);
  }
  t.true(epochs.length > 0);
  t.is(new Set(epochs).size, epochs.length, `epochs are unique: ${epochs.join(',')}`);
  const newest = writers.reduce((a, b) => (a.epoch > b.epoch ? a : b));
  for (const writer of writers) {
    if (writer === newest) continue;
    await t.throwsAsync(writer.startLogSegment(writer.lastTxId + 1), { instanceOf: EpochFencedError });
  }
  await newest.startLogSegment(newest.lastTxId + 1);
});
