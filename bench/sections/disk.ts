/**
 * The disk's limit, measured in the bench's data folder: appending fsyncs per second (4 KiB
 * write + fdatasync, as a WAL appends) and sequential write bandwidth (1 MiB writes, one
 * fdatasync at the end). Synchronous calls in slices, so the event loop still turns.
 */
import { closeSync, fdatasyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LatencyRecorder, type LatencySummary } from '../lib/histogram.ts';

/** Bytes written before each fsync in the fsync test. */
export const fsyncWriteBytes = 4096;

/** Bytes of one write in the bandwidth test. */
export const sequentialChunkBytes = 1024 * 1024;

/** Length of one synchronous slice, ms. */
const sliceMs = 50;

export interface DiskResult {
  readonly fsyncsPerSecond: number;
  readonly fsyncLatency: LatencySummary;
  readonly sequentialWriteMBps: number;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Measure the disk under `dir` for about `fsyncDurationMs` plus the time to write `sequentialBytes`. */
export async function measureDisk(dir: string, options: { fsyncDurationMs: number; sequentialBytes: number }): Promise<DiskResult> {
  const recorder = new LatencyRecorder();
  const fsyncPath = join(dir, 'disk-fsync.bin');
  const block = Buffer.alloc(fsyncWriteBytes, 7);
  let fd = openSync(fsyncPath, 'w');
  let fsyncs = 0;
  const startedMs = performance.now();
  try {
    while (performance.now() - startedMs < options.fsyncDurationMs) {
      const sliceEndMs = performance.now() + sliceMs;
      while (performance.now() < sliceEndMs) {
        const t0 = performance.now();
        writeSync(fd, block);
        fdatasyncSync(fd);
        recorder.recordMs(performance.now() - t0);
        fsyncs += 1;
      }
      await yieldToLoop();
    }
  } finally {
    closeSync(fd);
    unlinkSync(fsyncPath);
  }
  const fsyncsPerSecond = fsyncs / ((performance.now() - startedMs) / 1000);

  const sequentialPath = join(dir, 'disk-sequential.bin');
  const chunk = Buffer.alloc(sequentialChunkBytes, 9);
  fd = openSync(sequentialPath, 'w');
  let written = 0;
  const sequentialStartedMs = performance.now();
  try {
    while (written < options.sequentialBytes) {
      const sliceEndMs = performance.now() + sliceMs;
      while (written < options.sequentialBytes && performance.now() < sliceEndMs) {
        written += writeSync(fd, chunk);
      }
      await yieldToLoop();
    }
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
    unlinkSync(sequentialPath);
  }
  const sequentialWriteMBps = written / 1e6 / ((performance.now() - sequentialStartedMs) / 1000);
  return { fsyncsPerSecond, fsyncLatency: recorder.summary(), sequentialWriteMBps };
}
