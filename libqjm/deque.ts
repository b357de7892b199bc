/**
 * A FIFO queue with O(1) push and shift (an array with a moving head, compacted when the dead
 * prefix grows past half). `Array.prototype.shift` is O(n), too slow for queues of many batches.
 */
export class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Number of items. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Append at the tail. */
  push(item: T): void {
    this.items.push(item);
  }

  /** The item at position `index` from the head (0 = head), or undefined. */
  at(index: number): T | undefined {
    return index < 0 || index >= this.length ? undefined : this.items[this.head + index];
  }

  /** The head, or undefined when empty. */
  peek(): T | undefined {
    return this.at(0);
  }

  /** Remove and return the head, or undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Remove every item and return them, head first. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }
}
