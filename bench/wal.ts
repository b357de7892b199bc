/**
 * WAL throughput: appends/s and fsyncs/s for 1 KiB entries with 1, 10 and 100 concurrent
 * appenders (each awaits its append before the next: group commit is what lets them share
 * fsyncs). Also the encode cost alone. Run by hand, short:
 *
 *   node --import tsx bench/wal.ts [--seconds 2] [--dir /path/on/the/disk/to/measure]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Entry } from '../raft/core/types.ts';
import { encodeEntries, openWal } from '../raft/storage/index.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, dir: { type: 'string' } } });
const seconds = Number(values.seconds);
const entryBytes = 1024;
const payload = new Uint8Array(entryBytes).fill(7);

async function run(appenders: number): Promise<void> {
  const base = await mkdtemp(join(values.dir ?? tmpdir(), 'qj-bench-wal-'));
  try {
    const { wal } = await openWal(base);
    let next = 1;
    const deadline = performance.now() + seconds * 1000;
    const started = performance.now();
    const appender = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const e: Entry = { index: next++, term: 1, type: 'normal', data: payload };
        await wal.append([e]);
      }
    };
    await Promise.all(Array.from({ length: appenders }, appender));
    const elapsedS = (performance.now() - started) / 1000;
    const { appends, fsyncs, bytesWritten } = wal.stats;
    await wal.close();
    const t0 = performance.now();
    const reopened = await openWal(base);
    const reopenMs = performance.now() - t0;
    await reopened.wal.close();
    console.log(
      `appenders=${String(appenders).padStart(3)}  appends/s=${Math.round(appends / elapsedS).toString().padStart(7)}  ` +
        `fsyncs/s=${Math.round(fsyncs / elapsedS).toString().padStart(6)}  entries/fsync=${(appends / fsyncs).toFixed(1).padStart(6)}  ` +
        `MB/s=${(bytesWritten / elapsedS / 1e6).toFixed(1)}  reopen=${reopened.entries.length} entries in ${reopenMs.toFixed(0)} ms`,
    );
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

function encodeOnly(): void {
  const batch: Entry[] = Array.from({ length: 100 }, (_, i) => ({ index: i + 1, term: 1, type: 'normal', data: payload }));
  const rounds = 2000;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) encodeEntries(batch);
  const s = (performance.now() - t0) / 1000;
  console.log(`encode only: ${Math.round((rounds * batch.length) / s)} entries/s (1 KiB, batches of 100)`);
}

encodeOnly();
for (const n of [1, 10, 100]) await run(n);
