/**
 * The window of MsgApp in flight to one follower (etcd-io/raft's tracker/inflights.go):
 * at most `countMax` messages AND at most `bytesMax` entry bytes. Each message is remembered
 * by the index of its last entry; an acknowledgement frees every message up to that index.
 */
import { assert } from './assert.ts';

/** The in-flight window of one follower; see the file comment. */
export class Inflights {
  #lastIndexes: number[] = [];
  #sizesBytes: number[] = [];
  #bytes = 0;

  /** @param countMax messages in flight, >= 1. @param bytesMax entry bytes in flight, >= 1. */
  constructor(
    readonly countMax: number,
    readonly bytesMax: number,
  ) {
    assert(countMax >= 1 && bytesMax >= 1, 'inflights: limits must be >= 1');
  }

  /** Messages in flight. */
  get count(): number {
    return this.#lastIndexes.length;
  }

  /** Entry bytes in flight. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records a message whose last entry is `lastIndex`. Indexes must increase; the window must not be full. */
  add(lastIndex: number, sizeBytes: number): void {
    assert(!this.full(), 'inflights: add into a full window');
    const previous = this.#lastIndexes.at(-1);
    assert(previous === undefined || lastIndex > previous, () => `inflights: index ${lastIndex} after ${previous}`);
    this.#lastIndexes.push(lastIndex);
    this.#sizesBytes.push(sizeBytes);
    this.#bytes += sizeBytes;
  }

  /** Frees every message whose last index is <= `index` (they were acknowledged). */
  freeLE(index: number): void {
    let freed = 0;
    while (freed < this.#lastIndexes.length && this.#lastIndexes[freed]! <= index) {
      this.#bytes -= this.#sizesBytes[freed]!;
      freed++;
    }
    if (freed === 0) return;
    this.#lastIndexes.splice(0, freed);
    this.#sizesBytes.splice(0, freed);
  }

  /** True when no further message may be sent: count or bytes limit reached. */
  full(): boolean {
    return this.#lastIndexes.length >= this.countMax || this.#bytes >= this.bytesMax;
  }

  reset(): void {
    this.#lastIndexes = [];
    this.#sizesBytes = [];
    this.#bytes = 0;
  }
}
