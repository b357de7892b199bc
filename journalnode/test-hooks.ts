/**
 * TEST ONLY. Hooks that the chaos run (chaos/, `npm run chaos`) and its tests switch on through
 * the environment of a `journalnode` process. Never set them on a real JournalNode: a canary
 * is a deliberately broken node that loses acknowledged edits or lets a fenced writer write;
 * it exists to prove that the chaos checker catches exactly that.
 *
 * - `QJM_CANARY=ack-before-fsync`: the leader answers a Journal batch as soon as it is proposed,
 *   before the entry is durable anywhere (not on its own disk, not on a quorum).
 * - `QJM_CANARY=skip-epoch-check`: the state machine applies Journal batches without the epoch
 *   checks (promised epoch, epoch of the open segment).
 * - `QJM_CANARY=skip-link-crc`: Raft peer link frames are decoded without checking their
 *   CRC-32Cs, so a bit flipped on the way between JournalNodes reaches a follower's WAL.
 * - `QJM_FAULTY_FS_CONTROL=<file>`: the Raft storage (WAL, hard state, snapshot store) runs over
 *   raft/storage's FaultyFileSystem; while `<file>` holds `enospc`, every write fails with
 *   ENOSPC (a full disk), anything else switches it off. The file is polled every
 *   {@link faultyFsControlPollMs}. A failed WAL write is fatal, as on a real full disk: the node stops.
 */
import { readFile } from 'node:fs/promises';
import type { FaultyFileSystem } from '../raft/storage/fs.ts';

/** The canaries. */
export const journalCanaries = ['ack-before-fsync', 'skip-epoch-check', 'skip-link-crc', 'skip-admission-crc'] as const;

/** One canary. */
export type JournalCanary = (typeof journalCanaries)[number];

/** What the environment switched on. */
export interface TestHooks {
  readonly canary?: JournalCanary | undefined;
  /** The control file of the fault-injecting file layer under the Raft storage. */
  readonly faultyFsControlPath?: string | undefined;
}

/** How often the control file is read, ms. */
export const faultyFsControlPollMs = 100;

/** An unknown canary name in the environment. */
export class TestHookError extends Error {
  override readonly name = 'TestHookError';
}

/** Read the hooks from `env` (`process.env`). Throws TestHookError for an unknown canary. */
export function testHooksFromEnv(env: Readonly<Record<string, string | undefined>>): TestHooks {
  const canary = env['QJM_CANARY'];
  if (canary !== undefined && canary !== '' && !(journalCanaries as readonly string[]).includes(canary)) {
    throw new TestHookError(`QJM_CANARY: unknown canary '${canary}' (known: ${journalCanaries.join(', ')})`);
  }
  const control = env['QJM_FAULTY_FS_CONTROL'];
  return {
    canary: canary === undefined || canary === '' ? undefined : (canary as JournalCanary),
    faultyFsControlPath: control === undefined || control === '' ? undefined : control,
  };
}

/**
 * Poll `path` and switch ENOSPC on `fs` on (`enospc`) or off (anything else, or no file).
 * Returns the function that stops polling.
 */
export function watchFaultyFsControl(fs: FaultyFileSystem, path: string, onChange: (full: boolean) => void): () => void {
  let full = false;
  let reading = false;
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    readFile(path, 'utf8')
      .then(
        (text) => text.trim() === 'enospc',
        () => false,
      )
      .then((next) => {
        reading = false;
        if (next === full) return;
        full = next;
        fs.failWritesWithEnospc(full);
        onChange(full);
      });
  }, faultyFsControlPollMs);
  timer.unref();
  return () => clearInterval(timer);
}
