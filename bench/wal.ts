/**
 * WAL throughput: appends/s and fsyncs/s for 1 KiB entries with 1, 10 and 100 concurrent
 * appenders (each awaits its append before the next: group commit is what lets them share
 * fsyncs). Also the encode cost alone. Then three WALs written at once (as three JournalNodes on
 * one disk) with 1 MiB entries, each next to a file written without fsync (a segment file),
 * alternately over reused segment files and over new ones (`recycleFilesMax: 0`). Run by hand:
 *
 *   node --import tsx bench/wal.ts [--seconds 2] [--dir /path/on/the/disk/to/measure] [--pairs 3]
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Entry } from '../raft/core/types.ts';
import { encodeEntries, openWal } from '../raft/storage/index.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, dir: { type: 'string' }, pairs: { type: 'string', default: '3' } } });
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

/** Bytes of one large entry (a JournalNode's entry for a batch of 1,000 edits of 1 KiB). */
const largeEntryBytes = 1024 * 1024;
const segmentBytes = 16 * 1024 * 1024;

/**
 * `wals` WALs appending 1 MiB entries (4 in flight each) next to as many unsynced writers; with
 * `reuse`, each WAL first writes and compacts enough to fill its free files.
 */
async function runWals(wals: number, reuse: boolean): Promise<{ mbPerS: number; fsyncsPerS: number }> {
  const base = await mkdtemp(join(values.dir ?? tmpdir(), 'qj-bench-wal-reuse-'));
  const large = new Uint8Array(largeEntryBytes).fill(9);
  try {
    const opened = await Promise.all(
      Array.from({ length: wals }, (_, i) => openWal(join(base, `wal-${i}`), { segmentBytesMax: segmentBytes, recycleFilesMax: reuse ? 8 : 0 })),
    );
    const nexts = opened.map(() => 1);
    if (reuse) {
      // 8 segments' worth, compacted: the measured appends start segments in those files.
      for (const [i, { wal }] of opened.entries()) {
        for (let k = 0; k < 8 * (segmentBytes / largeEntryBytes) + 1; k++) await wal.append([{ index: nexts[i]!++, term: 1, type: 'normal', data: large }]);
        await wal.compact(nexts[i]! - 1);
      }
    }
    const before = opened.map(({ wal }) => ({ ...wal.stats }));
    const deadline = performance.now() + seconds * 1000;
    const started = performance.now();
    const appender = async (i: number): Promise<void> => {
      const { wal } = opened[i]!;
      while (performance.now() < deadline) {
        await wal.append([{ index: nexts[i]!++, term: 1, type: 'normal', data: large }]);
        if (wal.lastIndex % (segmentBytes / largeEntryBytes) === 0) await wal.compact(wal.lastIndex - 1);
      }
    };
    const unsynced = async (i: number): Promise<void> => {
      const handle = await open(join(base, `segment-${i}`), 'w');
      let position = 0;
      try {
        while (performance.now() < deadline) {
          await handle.write(large, 0, large.length, position);
          position += large.length;
        }
      } finally {
        await handle.close();
      }
    };
    const work: Promise<void>[] = [];
    for (let i = 0; i < wals; i++) {
      for (let k = 0; k < 4; k++) work.push(appender(i));
      work.push(unsynced(i));
    }
    await Promise.all(work);
    const elapsedS = (performance.now() - started) / 1000;
    let bytes = 0;
    let fsyncs = 0;
    let reused = 0;
    for (const [i, { wal }] of opened.entries()) {
      bytes += wal.stats.bytesWritten - before[i]!.bytesWritten;
      fsyncs += wal.stats.fsyncs - before[i]!.fsyncs;
      reused += wal.stats.segmentsReused - before[i]!.segmentsReused;
      await wal.close();
    }
    if (reuse && reused === 0) throw new Error('bench/wal: no segment was started in a reused file');
    return { mbPerS: bytes / elapsedS / 1e6, fsyncsPerS: fsyncs / elapsedS };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

encodeOnly();
for (const n of [1, 10, 100]) await run(n);
const ratios: number[] = [];
for (let pair = 0; pair < Number(values.pairs); pair++) {
  const fresh = await runWals(3, false);
  const reused = await runWals(3, true);
  ratios.push(reused.mbPerS / fresh.mbPerS);
  console.log(
    `3 WALs, 1 MiB entries, beside unsynced writers: new files ${fresh.mbPerS.toFixed(0)} MB/s ${fresh.fsyncsPerS.toFixed(0)} fsyncs/s; ` +
      `reused files ${reused.mbPerS.toFixed(0)} MB/s ${reused.fsyncsPerS.toFixed(0)} fsyncs/s (${(reused.mbPerS / fresh.mbPerS).toFixed(2)}x)`,
  );
}
