/**
 * One supervised child process (a JournalNode or a metadata master), for the local cluster,
 * the chaos run and the test clusters: spawned (by default in a process group of its own, so a
 * Ctrl-C in the terminal reaches the launcher only, which then stops the children in order),
 * stdout and stderr appended to a log file, ready once it printed its ready line; paused and
 * resumed with SIGSTOP/SIGCONT; exits it did not ask for reported. Every live child is
 * SIGKILLed if this process exits without stopping it (the children also run with
 * `--exit-with-parent`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync } from 'node:fs';
import type { WriteStream } from 'node:fs';

/** Characters of stdout kept while waiting for the ready line. */
const readyBufferCharsMax = 64 * 1024;

/** A process that could not start. */
export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** How a process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What to run. */
export interface ProcessSpec {
  /** A name for messages (jn1, m1). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Appended to (created if needed). */
  readonly logPath: string;
  /** The ready line on stdout; its match is returned by start(). */
  readonly readyLine: RegExp;
  /** Time to print the ready line, ms. */
  readonly startTimeoutMs: number;
  /** Spawn in a process group of its own (default true). */
  readonly ownProcessGroup?: boolean;
  /**
   * Called at every exit; `expected` is false unless this side asked for it ({@link kill},
   * {@link stop}, or {@link expectExit} before a fault that makes the process stop by itself).
   */
  readonly onExit?: (exit: ProcessExit, expected: boolean) => void;
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A child process that can be started again after it exited. */
export class ManagedProcess {
  readonly name: string;
  private spec: ProcessSpec;
  private child: ChildProcess | undefined;
  private exitPromise: Promise<ProcessExit> = Promise.resolve({ code: null, signal: null });
  private lastExit: ProcessExit | undefined;
  private pausedNow = false;
  private expectingExit = false;

  constructor(spec: ProcessSpec) {
    this.spec = spec;
    this.name = spec.name;
  }

  /** The pid while running. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** True from spawn until exit. */
  get running(): boolean {
    return this.child !== undefined && this.lastExit === undefined;
  }

  /** Resolves when the current process exits. */
  get exited(): Promise<ProcessExit> {
    return this.exitPromise;
  }

  /** How the last process ended (undefined while running or before the first start). */
  get exit(): ProcessExit | undefined {
    return this.lastExit;
  }

  /** True between {@link pause} and {@link resume} (or the exit). */
  get paused(): boolean {
    return this.running && this.pausedNow;
  }

  /** Change the arguments or environment of the next start (e.g. after a port moved). */
  respec(spec: Partial<Pick<ProcessSpec, 'args' | 'env'>>): void {
    this.spec = { ...this.spec, ...spec };
  }

  /** Spawn and wait for the ready line; rejects (and kills the child) when it does not come. */
  async start(): Promise<RegExpMatchArray> {
    if (this.running) throw new Error(`${this.name} is already running`);
    installExitHook();
    const spec = this.spec;
    const log: WriteStream = createWriteStream(spec.logPath, { flags: 'a' });
    const stderrFd = openSync(spec.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, [...spec.args], {
        cwd: spec.cwd,
        env: { ...process.env, ...spec.env },
        stdio: ['ignore', 'pipe', stderrFd],
        detached: spec.ownProcessGroup ?? true,
      });
    } finally {
      closeSync(stderrFd);
    }
    live.add(child);
    this.child = child;
    this.lastExit = undefined;
    this.pausedNow = false;
    this.expectingExit = false;
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        const exit = { code, signal };
        this.lastExit = exit;
        log.end();
        spec.onExit?.(exit, this.expectingExit);
        resolve(exit);
      });
    });
    return new Promise((resolve, reject) => {
      let buffered = '';
      let ready = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new ProcessStartError(`${spec.name} printed no ready line within ${spec.startTimeoutMs} ms; log: ${spec.logPath}`));
      }, spec.startTimeoutMs);
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        log.write(chunk);
        if (ready) return;
        buffered = (buffered + chunk).slice(-readyBufferCharsMax);
        const match = spec.readyLine.exec(buffered);
        if (match !== null) {
          ready = true;
          clearTimeout(timer);
          resolve(match);
        }
      });
      void this.exitPromise.then((exit) => {
        if (ready) return;
        clearTimeout(timer);
        reject(new ProcessStartError(`${spec.name} exited (${exit.code ?? exit.signal}) before it was ready; log ${spec.logPath}:\n${logTail(spec.logPath)}`));
      });
    });
  }

  /** Send `signal` (no-op when not running). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      this.child!.kill(signal);
    } catch {
      // exited meanwhile
    }
  }

  /** SIGSTOP (no-op when not running or already paused). */
  pause(): void {
    if (!this.running || this.pausedNow) return;
    this.signal('SIGSTOP');
    this.pausedNow = true;
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    if (!this.running || !this.pausedNow) return;
    this.signal('SIGCONT');
    this.pausedNow = false;
  }

  /** The next exit is expected (a fault that makes the process stop by itself). */
  expectExit(): void {
    this.expectingExit = true;
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<ProcessExit | undefined> {
    if (!this.running) return this.lastExit;
    this.expectingExit = true;
    this.pausedNow = false;
    this.signal('SIGCONT');
    this.signal('SIGKILL');
    return this.exitPromise;
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with how it exited. */
  async stop(timeoutMs: number): Promise<ProcessExit | undefined> {
    if (!this.running) return this.lastExit;
    this.expectingExit = true;
    this.pausedNow = false;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    const exit = await this.exitPromise;
    clearTimeout(timer);
    return exit;
  }
}
