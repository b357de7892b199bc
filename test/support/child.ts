/**
 * Child processes for tests: spawn, wait for a line on stdout, kill, and make sure no child
 * outlives the test process.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface Child {
  readonly process: ChildProcess;
  /** Everything the child printed (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with the first stdout line matching `re`, or rejects when the child exits first / on timeout. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal) once the child exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Output kept per child (the tail), in characters. */
const OUTPUT_CHARS_MAX = 256 * 1024;

export function spawnChild(command: string, args: readonly string[], options: SpawnOptions = {}): Child {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  live.add(proc);
  let output = '';
  const lineListeners = new Set<(line: string) => void>();
  let pending = '';
  const append = (s: string): void => {
    output = (output + s).slice(-OUTPUT_CHARS_MAX);
  };
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
    append(s);
    pending += s;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      for (const l of lineListeners) l(line);
    }
  });
  proc.stderr?.setEncoding('utf8').on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    });
  });
  return {
    process: proc,
    output: () => output,
    exited,
    waitForLine(re, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          lineListeners.delete(listener);
          reject(new Error(`timed out waiting for ${re} from ${command}; output:\n${output}`));
        }, timeoutMs);
        const listener = (line: string): void => {
          const m = line.match(re);
          if (m) {
            clearTimeout(timer);
            lineListeners.delete(listener);
            resolve(m);
          }
        };
        lineListeners.add(listener);
        void exited.then(({ code, signal }) => {
          if (!lineListeners.has(listener)) return;
          clearTimeout(timer);
          lineListeners.delete(listener);
          reject(new Error(`${command} exited (${code ?? signal}) before printing ${re}; output:\n${output}`));
        });
      });
    },
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      await exited;
    },
  };
}
