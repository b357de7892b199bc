/**
 * A lock file holding the owner's pid, taken with O_EXCL: one JournalNode per data directory,
 * one launcher per cluster folder. A lock whose process is gone is taken over; a lock this
 * process already holds is refused too.
 */
import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';

/** The lock is held by a live process (`pid`; this process's own pid when taken here). */
export class PidLockHeldError extends Error {
  override readonly name = 'PidLockHeldError';
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`${path} is held by process ${pid}`);
  }
}

const heldHere = new Set<string>();

/** True while process `pid` exists (EPERM: it exists, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the lock at `path` (its directory must exist). Returns the release function. */
export function acquirePidLock(path: string): () => void {
  if (heldHere.has(path)) throw new PidLockHeldError(path, process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      heldHere.add(path);
      return () => {
        if (!heldHere.delete(path)) return;
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let pid = Number.NaN;
      try {
        pid = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // vanished meanwhile: try again
      }
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isProcessAlive(pid)) throw new PidLockHeldError(path, pid);
      try {
        unlinkSync(path);
      } catch {
        // vanished meanwhile
      }
    }
  }
  throw new PidLockHeldError(path, -1);
}
