/**
 * The simulated application: the list of the payloads of applied normal entries (empty
 * payloads, such as a new leader's empty entry, are skipped). A snapshot is that list encoded.
 * It lives in memory only: a crash loses it, and a restart rebuilds it from the disk snapshot.
 */
import { fromUtf8, utf8 } from './bytes.ts';

/** The encoded form of a snapshot's data. */
interface SnapshotPayload {
  readonly index: number;
  readonly items: readonly string[];
}

export class SimStateMachine {
  /** The index of the last entry applied (or the snapshot restored). */
  appliedIndex: number;
  /** Payloads of applied normal entries, in log order. */
  readonly items: string[];

  private constructor(appliedIndex: number, items: string[]) {
    this.appliedIndex = appliedIndex;
    this.items = items;
  }

  /** An empty state as of `index` (bootstrap). */
  static empty(index: number): SimStateMachine {
    return new SimStateMachine(index, []);
  }

  /**
   * The state a snapshot holds. `index` is the snapshot's index; the payload must agree with it
   * (an assertion: the simulator wrote it).
   */
  static fromSnapshot(index: number, data: Uint8Array): SimStateMachine {
    const payload = decodeSnapshotData(data);
    if (payload.index !== index) throw new Error(`sim state machine: snapshot data is for index ${payload.index}, meta says ${index}`);
    return new SimStateMachine(index, payload.items.slice());
  }

  /** Apply one entry. `payload` is the entry's data as text; empty payloads are not kept. */
  apply(index: number, payload: string): void {
    if (index !== this.appliedIndex + 1) throw new Error(`sim state machine: apply ${index} after ${this.appliedIndex}`);
    this.appliedIndex = index;
    if (payload !== '') this.items.push(payload);
  }

  /** Apply an entry that carries no application data (a configuration change). */
  skip(index: number): void {
    if (index !== this.appliedIndex + 1) throw new Error(`sim state machine: skip ${index} after ${this.appliedIndex}`);
    this.appliedIndex = index;
  }

  /** The snapshot data of the current state. */
  encode(): Uint8Array {
    return encodeSnapshotData({ index: this.appliedIndex, items: this.items });
  }
}

export function encodeSnapshotData(payload: SnapshotPayload): Uint8Array {
  return utf8(JSON.stringify(payload));
}

export function decodeSnapshotData(data: Uint8Array): SnapshotPayload {
  const value: unknown = JSON.parse(fromUtf8(data));
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as SnapshotPayload).index !== 'number' ||
    !Array.isArray((value as SnapshotPayload).items)
  ) {
    throw new Error('sim state machine: malformed snapshot data');
  }
  return value as SnapshotPayload;
}
