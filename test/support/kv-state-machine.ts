/**
 * A small key-value state machine for the Raft runtime's tests: entries are `key=value`
 * strings; `apply` returns the number of writes applied so far. Snapshot: one JSON file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppliedEntry, SnapshotCompletion, StateMachine } from '../../raft/state-machine.ts';

const decoder = new TextDecoder();

export class KvStateMachine implements StateMachine {
  readonly data = new Map<string, string>();
  /** Every applied write, in order (index, key, value): the test's history. */
  writes = 0;
  lastIndex = 0;

  async apply(entries: readonly AppliedEntry[]): Promise<unknown[]> {
    return entries.map((e) => {
      if (e.index <= this.lastIndex) throw new Error(`kv: entry ${e.index} applied twice (last ${this.lastIndex})`);
      this.lastIndex = e.index;
      const text = decoder.decode(e.data);
      const eq = text.indexOf('=');
      if (eq < 0) return { ok: false, error: 'malformed' };
      this.data.set(text.slice(0, eq), text.slice(eq + 1));
      this.writes++;
      return { ok: true, writes: this.writes, index: e.index };
    });
  }

  async snapshot(dir: string): Promise<SnapshotCompletion | void> {
    await writeFile(join(dir, 'kv.json'), JSON.stringify({ writes: this.writes, lastIndex: this.lastIndex, data: [...this.data] }));
  }

  async restore(dir: string): Promise<void> {
    const parsed = JSON.parse(await readFile(join(dir, 'kv.json'), 'utf8')) as { writes: number; lastIndex: number; data: [string, string][] };
    this.data.clear();
    for (const [k, v] of parsed.data) this.data.set(k, v);
    this.writes = parsed.writes;
    this.lastIndex = parsed.lastIndex;
  }
}
