/** Helpers of the journal tests: temporary directories, entries, directory contents. */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { ExecutionContext } from 'ava';
import { crc32c } from '@node-rs/crc32';
import type { AppliedEntry, SnapshotPrefixes } from '../../raft/state-machine.ts';
import type { Command, CommandResult, NamespaceInfo } from '../../journalnode/journal-commands.ts';
import { encodeCommand } from '../../journalnode/journal-commands.ts';
import { JournalStateMachine } from '../../journalnode/journal-state-machine.ts';
import { frameRecords } from '../../journalnode/protocol/records.ts';

/** A fresh temporary directory removed when the test ends. */
export async function tempDir(t: ExecutionContext, prefix = 'journal-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const ns: NamespaceInfo = { nsId: '42', clusterId: 'cluster-a', blockPoolId: 'bp-1', layoutVersion: -66 };

/** Edits `edit-<txid>` for txids first .. first + count - 1. */
export function editsFor(firstTxId: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`edit-${firstTxId + i}`));
}

/** A journal command with framed records and their checksum. */
export function journalCommand(journalId: string, epoch: number, firstTxId: number, count: number, records = editsFor(firstTxId, count)): Command {
  const framed = frameRecords(firstTxId, records);
  return { type: 'journal', journalId, epoch, firstTxId, count, records: framed, crc32c: crc32c(framed) };
}

/** Feeds commands to a state machine as Raft entries with increasing indexes. */
export class Feeder {
  index = 0;
  readonly log: AppliedEntry[] = [];
  constructor(readonly machine: JournalStateMachine) {}

  /** Apply `commands` as one apply call; returns the results. */
  async apply(...commands: Command[]): Promise<CommandResult<Record<string, unknown>>[]> {
    const entries = commands.map((command) => {
      this.index += 1;
      return { index: this.index, term: 1, data: encodeCommand(command) };
    });
    this.log.push(...entries);
    return (await this.machine.apply(entries)) as CommandResult<Record<string, unknown>>[];
  }

  /** Apply one command and return its result. */
  async one(command: Command): Promise<CommandResult<Record<string, unknown>>> {
    const [result] = await this.apply(command);
    return result!;
  }
}

/** A new state machine in a fresh directory with its feeder. */
export async function newMachine(t: ExecutionContext): Promise<{ dir: string; machine: JournalStateMachine; feed: Feeder }> {
  const dir = await tempDir(t);
  const machine = new JournalStateMachine({ dataDir: dir });
  t.teardown(() => machine.close());
  return { dir, machine, feed: new Feeder(machine) };
}

/** Every file under `dir`: relative path -> content. */
export async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  async function walk(current: string): Promise<void> {
    for (const name of (await readdir(current)).sort()) {
      const path = join(current, name);
      if ((await stat(path)).isDirectory()) await walk(path);
      else out.set(relative(dir, path), await readFile(path));
    }
  }
  await walk(dir);
  return out;
}

/**
 * A snapshot directory as the snapshot store sees it: every file, prefix files (see
 * SnapshotFilePrefix: linked segments still growing) cut to their declared size, whose declared
 * CRC must be the CRC of those bytes.
 */
export async function readSnapshotTree(t: ExecutionContext, dir: string, prefixes: SnapshotPrefixes | void): Promise<Map<string, Buffer>> {
  const tree = await readTree(dir);
  for (const [name, prefix] of prefixes ?? []) {
    const bytes = tree.get(name);
    if (bytes === undefined || bytes.byteLength < prefix.bytes) {
      t.fail(`prefix file ${name}: ${bytes?.byteLength ?? 'no'} bytes for a prefix of ${prefix.bytes}`);
      continue;
    }
    const content = bytes.subarray(0, prefix.bytes);
    t.is(prefix.crc32c, crc32c(content), `declared CRC of ${name}`);
    tree.set(name, content);
  }
  return tree;
}

/** Assert two trees hold the same files with the same bytes. */
export function assertSameTree(t: ExecutionContext, actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  t.deepEqual([...actual.keys()], [...expected.keys()]);
  for (const [name, bytes] of expected) t.true(actual.get(name)?.equals(bytes), `${name} differs`);
}

/** The error code of a failed result (fails the test on success). */
export function codeOf(t: ExecutionContext, result: CommandResult<unknown>): string {
  if (result.ok) {
    t.fail(`expected an error, got ${JSON.stringify(result)}`);
    return '';
  }
  return result.error.code;
}
