/**
 * Child processes of the bench (tail readers, failover masters): TypeScript scripts run with
 * `node --import tsx`, their stdout read line by line, SIGKILLed when the bench exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../test/support/cluster.ts';

const live = new Set<ChildProcess>();
let hookInstalled = false;

/** A running script. */
export class ScriptProcess {
  readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiters: { predicate: (line: string) => boolean; resolve: (line: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private exited = false;
  readonly exit: Promise<number | null>;

  /** Run `script` (a path from the project root) with `args`; stderr goes to `logPath`. */
  constructor(script: string, args: readonly string[], logPath: string) {
    if (!hookInstalled) {
      hookInstalled = true;
      process.on('exit', () => {
        for (const child of live) child.kill('SIGKILL');
      });
    }
    const logFd = openSync(logPath, 'a');
    try {
      this.child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: projectRoot, stdio: ['pipe', 'pipe', logFd] });
    } finally {
      closeSync(logFd);
    }
    live.add(this.child);
    this.exit = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        live.delete(this.child);
        this.exited = true;
        for (const w of this.waiters) {
          clearTimeout(w.timer);
          w.reject(new Error(`${script} exited (${code ?? this.child.signalCode}) while waiting; see ${logPath}`));
        }
        this.waiters = [];
        resolve(code);
      });
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      if (this.lines.length > 10_000) this.lines.splice(0, 5_000);
      for (const w of [...this.waiters]) {
        if (!w.predicate(line)) continue;
        clearTimeout(w.timer);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(line);
      }
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The next line (from now on) that matches `predicate`; rejects after `timeoutMs` or on exit. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
    if (this.exited) return Promise.reject(new Error(`waiting for ${what}: the process exited`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push({ predicate, resolve, reject, timer });
    });
  }

  /** Write a line on its stdin. */
  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<void> {
    if (!this.exited) this.child.kill('SIGKILL');
    await this.exit;
  }
}
