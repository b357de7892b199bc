/**
 * A sparse in-memory index of one segment file (txid -> byte offset of its record), and the
 * ranged read that serves GetJournaledEdits from it.
 *
 * The index is derived state, never snapshotted: appends extend it as they are applied, and a
 * segment restored from a snapshot is indexed lazily by its first read (headers only).
 */
import { open } from 'node:fs/promises';
import { scanRecordHeaders } from './protocol/records.ts';
import { recordBytesMax, recordHeaderBytes } from './protocol/limits.ts';
import { segmentReadChunkBytes } from './segments.ts';

/** One index entry is kept per this many bytes of segment (at least). */
export const segmentIndexIntervalBytes = 64 * 1024;

/** Sparse txid -> offset index of one segment. Entries ascend in both txid and offset. */
export class SegmentIndex {
  private readonly txIds: number[];
  private readonly offsets: number[];
  /** Bytes of the file the index covers, from 0; always a record boundary. */
  private coveredBytes = 0;
  /** The txid of the record at `coveredBytes`. */
  private nextTxId: number;
  private extending: Promise<void> | undefined;

  constructor(firstTxId: number) {
    this.txIds = [firstTxId];
    this.offsets = [0];
    this.nextTxId = firstTxId;
  }

  /** Entries held (for tests and metrics). */
  get entries(): number {
    return this.txIds.length;
  }

  /**
   * Note a batch of framed records appended at byte `offset`. Extends the index when it covers
   * the file up to `offset`; otherwise the lazy scan will cover the batch later. `framed` must
   * have passed `validateFramed(framed, firstTxId, count)` (throws when it is not `count` whole
   * records).
   */
  noteAppend(offset: number, framed: Uint8Array, firstTxId: number, count: number): void {
    if (offset !== this.coveredBytes || this.extending !== undefined) return;
    // The batch passed validateFramed: its records are whole, their txids firstTxId + i. So
    // the walk reads lengths only (no txid, no call per record).
    const view = new DataView(framed.buffer, framed.byteOffset, framed.byteLength);
    let lastIndexed = this.offsets[this.offsets.length - 1]!;
    let at = 0;
    let i = 0;
    for (; i < count && at + recordHeaderBytes <= framed.byteLength; i += 1) {
      if (offset + at - lastIndexed >= segmentIndexIntervalBytes) {
        lastIndexed = offset + at;
        this.txIds.push(firstTxId + i);
        this.offsets.push(lastIndexed);
      }
      at += recordHeaderBytes + view.getUint32(at, true);
    }
    if (i !== count || at !== framed.byteLength) {
      throw new Error(`segment index: a batch of ${framed.byteLength} bytes noted as ${count} records (${i} found, ending at ${at})`);
    }
    this.coveredBytes = offset + framed.byteLength;
    this.nextTxId = firstTxId + count;
  }

  /** The last entry at or before `txid`. */
  floor(txid: number): { txid: number; offset: number } {
    let low = 0;
    let high = this.txIds.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.txIds[middle]! <= txid) low = middle;
      else high = middle - 1;
    }
    return { txid: this.txIds[low]!, offset: this.offsets[low]! };
  }

  /**
   * Make the index cover `txid` by scanning the file headers from the covered end up to
   * `lengthBytes` (which must be a record boundary of applied data).
   */
  async cover(path: string, txid: number, lengthBytes: number): Promise<void> {
    while (this.nextTxId <= txid && this.coveredBytes < lengthBytes) {
      this.extending ??= this.extend(path, lengthBytes).finally(() => {
        this.extending = undefined;
      });
      await this.extending;
    }
  }

  private async extend(path: string, lengthBytes: number): Promise<void> {
    const start = this.coveredBytes;
    const txIds: number[] = [];
    const offsets: number[] = [];
    let lastIndexed = this.offsets[this.offsets.length - 1]!;
    let nextTxId = this.nextTxId;
    const handle = await open(path, 'r');
    let position = start;
    try {
      let carry: Buffer = Buffer.alloc(0);
      while (position < lengthBytes) {
        const want = Math.min(segmentReadChunkBytes, lengthBytes - position);
        const chunk = Buffer.allocUnsafe(want);
        const { bytesRead } = await handle.read(chunk, 0, want, position);
        if (bytesRead === 0) throw new RangeError(`${path}: shorter than its applied length ${lengthBytes}`);
        const buf = carry.byteLength === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
        const base = position - carry.byteLength;
        position += bytesRead;
        const stop = scanRecordHeaders(buf, 0, (record) => {
          const at = base + record.offset;
          if (at - lastIndexed >= segmentIndexIntervalBytes) {
            txIds.push(record.txid);
            offsets.push(at);
            lastIndexed = at;
          }
          nextTxId = record.txid + 1;
          return true;
        }, base);
        carry = buf.subarray(stop);
        if (carry.byteLength > recordHeaderBytes + recordBytesMax) throw new RangeError(`${path}: unparsable at offset ${base + stop}`);
      }
      if (carry.byteLength > 0) throw new RangeError(`${path}: applied length ${lengthBytes} is not a record boundary`);
    } finally {
      await handle.close();
    }
    if (this.coveredBytes !== start) return; // an append extended the index meanwhile: keep it
    this.txIds.push(...txIds);
    this.offsets.push(...offsets);
    this.coveredBytes = lengthBytes;
    this.nextTxId = nextTxId;
  }
}

/** Limits of one ranged read. */
export interface RangeReadLimits {
  /** Records still wanted (>= 1). */
  readonly maxCount: number;
  /** Framed bytes still allowed. */
  readonly maxBytes: number;
  /** Return the first record even when it alone exceeds `maxBytes`. */
  readonly atLeastOne: boolean;
}

/** What one ranged read returned. */
export interface RangeReadResult {
  readonly buffers: Buffer[];
  readonly bytes: number;
  readonly count: number;
}

/**
 * Read framed records with txid >= `fromTxId` from a segment file holding applied data up to
 * `lengthBytes`, starting at the index entry before `fromTxId`, within `limits`.
 */
export async function readSegmentRange(
  path: string,
  index: SegmentIndex,
  lengthBytes: number,
  fromTxId: number,
  limits: RangeReadLimits,
): Promise<RangeReadResult> {
  await index.cover(path, fromTxId, lengthBytes);
  const start = index.floor(fromTxId);
  const buffers: Buffer[] = [];
  let bytes = 0;
  let count = 0;
  let done = false;
  const handle = await open(path, 'r');
  try {
    let position = start.offset;
    let carry: Buffer = Buffer.alloc(0);
    let chunkBytes = 2 * segmentIndexIntervalBytes;
    while (!done && position < lengthBytes) {
      // Chunks grow from 128 KiB (small answers stay cheap) to segmentReadChunkBytes, never
      // beyond the rest of the answer plus the skip from the index entry.
      const need = limits.maxBytes - bytes + segmentIndexIntervalBytes + recordHeaderBytes;
      const want = Math.min(chunkBytes, need, lengthBytes - position);
      chunkBytes = Math.min(chunkBytes * 2, segmentReadChunkBytes);
      const chunk = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(chunk, 0, want, position);
      if (bytesRead === 0) throw new RangeError(`${path}: shorter than its applied length ${lengthBytes}`);
      const buf = carry.byteLength === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
      const base = position - carry.byteLength;
      position += bytesRead;
      const stop = scanRecordHeaders(buf, 0, (record) => {
        if (record.txid < fromTxId) return true;
        const fits = bytes + record.bytes <= limits.maxBytes || (limits.atLeastOne && count === 0);
        if (count >= limits.maxCount || !fits) {
          done = true;
          return false;
        }
        buffers.push(buf.subarray(record.offset, record.offset + record.bytes));
        bytes += record.bytes;
        count += 1;
        if (count >= limits.maxCount) done = true;
        return !done;
      }, base);
      carry = buf.subarray(stop);
    }
  } finally {
    await handle.close();
  }
  return { buffers, bytes, count };
}
