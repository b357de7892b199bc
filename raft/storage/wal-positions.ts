/**
 * Where each live entry of a WAL lies: the segment (by sequence), the byte offset of its record
 * and the record's length, by index. Kept by the WAL as it writes and replays, under the WAL's
 * own rule: a record of index `i` discards every entry from `i` on ("the later write of an index
 * wins"); a reset marker discards everything. The WAL reads entries back through it
 * (`Wal.readEntries`), for the runtime's storage once it evicted their data from memory.
 *
 * Three growable Float64Arrays, no object per entry: a node holds hundreds of thousands of
 * entries between snapshots, and the garbage collector never has to visit these.
 */

/** Slots allocated at first, and the factor they grow by. */
const INITIAL_SLOTS = 1024;

export class WalPositions {
  /** Index of slot 0. */
  private base = 1;
  private count = 0;
  private sequences = new Float64Array(INITIAL_SLOTS);
  private offsets = new Float64Array(INITIAL_SLOTS);
  private lengths = new Float64Array(INITIAL_SLOTS);

  /** Lowest index held (meaningless when `size` is 0). */
  get first(): number {
    return this.base;
  }

  /** Positions held. */
  get size(): number {
    return this.count;
  }

  /**
   * Entry `index` was written in segment `sequence` at `offset`, `length` bytes. Discards every
   * position from `index` on first; an `index` below the lowest held one discards everything.
   * Throws on a gap (an index past the last held one + 1).
   */
  put(index: number, sequence: number, offset: number, length: number): void {
    if (this.count === 0 || index < this.base) {
      this.base = index;
      this.count = 0;
    } else if (index > this.base + this.count) {
      throw new Error(`wal positions: entry ${index} leaves a gap after ${this.base + this.count - 1}`);
    } else {
      this.count = index - this.base;
    }
    if (this.count === this.sequences.length) this.grow();
    this.sequences[this.count] = sequence;
    this.offsets[this.count] = offset;
    this.lengths[this.count] = length;
    this.count++;
  }

  /** Discard everything (a reset marker: the next entry is `nextIndex`). */
  reset(nextIndex: number): void {
    this.base = nextIndex;
    this.count = 0;
  }

  /** Forget the positions below `index` (compacted away). */
  dropBelow(index: number): void {
    if (index <= this.base) return;
    const n = Math.min(index - this.base, this.count);
    this.sequences.copyWithin(0, n, this.count);
    this.offsets.copyWithin(0, n, this.count);
    this.lengths.copyWithin(0, n, this.count);
    this.count -= n;
    this.base = this.count === 0 ? index : this.base + n;
  }

  /** Whether entry `index` has a position. */
  has(index: number): boolean {
    return index >= this.base && index < this.base + this.count;
  }

  /** The segment sequence of entry `index` (which must be held). */
  sequence(index: number): number {
    return this.sequences[index - this.base]!;
  }

  offset(index: number): number {
    return this.offsets[index - this.base]!;
  }

  length(index: number): number {
    return this.lengths[index - this.base]!;
  }

  private grow(): void {
    const slots = this.sequences.length * 2;
    for (const name of ['sequences', 'offsets', 'lengths'] as const) {
      const bigger = new Float64Array(slots);
      bigger.set(this[name]);
      this[name] = bigger;
    }
  }
}
