/**
 * A discrete-event queue: a binary min-heap ordered by `(time, sequence)`. Events at the same
 * time come out in the order they were pushed, so a run is deterministic.
 */

/** What every queued event carries: its due time in simulation units. */
export interface Timed {
  readonly time: number;
}

interface Slot<T> {
  readonly time: number;
  readonly sequence: number;
  readonly event: T;
}

/** Refuses pushes beyond this many queued events: a runaway scenario is a bug, not a workload. */
export const EVENT_QUEUE_LENGTH_MAX = 1_000_000;

export class EventQueue<T extends Timed> {
  private readonly heap: Slot<T>[] = [];
  private sequence = 0;

  get length(): number {
    return this.heap.length;
  }

  push(event: T): void {
    if (this.heap.length >= EVENT_QUEUE_LENGTH_MAX) throw new Error(`event queue: more than ${EVENT_QUEUE_LENGTH_MAX} events queued`);
    const heap = this.heap;
    heap.push({ time: event.time, sequence: this.sequence++, event });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      swap(heap, i, parent);
      i = parent;
    }
  }

  /** The due time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    return this.heap.length === 0 ? Infinity : this.heap[0]!.time;
  }

  /** Removes and returns the earliest event; undefined when empty. */
  pop(): T | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        swap(heap, i, smallest);
        i = smallest;
      }
    }
    return top.event;
  }
}

function before<T>(x: Slot<T>, y: Slot<T>): boolean {
  return x.time < y.time || (x.time === y.time && x.sequence < y.sequence);
}

function swap<T>(heap: Slot<T>[], i: number, j: number): void {
  const t = heap[i]!;
  heap[i] = heap[j]!;
  heap[j] = t;
}
