/**
 * A progress bar on stderr while the benchmark runs. The plan is a list of steps with an
 * estimated duration each; the bar advances with time inside a step and jumps at step ends.
 * On a terminal it redraws one line (every `redrawIntervalMs`); elsewhere it prints one line per step.
 */

/** Redraw period of the bar on a terminal, ms. */
export const redrawIntervalMs = 200;

/** Width of the bar, characters. */
const barWidthChars = 30;

export class Progress {
  private readonly totalSeconds: number;
  private doneSeconds = 0;
  private current: { name: string; estimateSeconds: number; startedMs: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;
  private stepIndex = 0;

  /** `plan`: every step's name and estimated seconds, in the order they will run. */
  constructor(
    private readonly plan: readonly { readonly name: string; readonly estimateSeconds: number }[],
    private readonly enabled: boolean,
  ) {
    this.totalSeconds = Math.max(1, plan.reduce((sum, step) => sum + step.estimateSeconds, 0));
    this.tty = process.stderr.isTTY === true;
  }

  /** Start step `name` (must be in the plan; unknown names get a small estimate). */
  start(name: string): void {
    this.finishCurrent();
    const step = this.plan.find((s) => s.name === name);
    this.stepIndex += 1;
    this.current = { name, estimateSeconds: step?.estimateSeconds ?? 1, startedMs: performance.now() };
    if (!this.enabled) return;
    if (this.tty) {
      this.draw();
      this.timer ??= setInterval(() => this.draw(), redrawIntervalMs);
      this.timer.unref();
    } else {
      process.stderr.write(`bench: [${this.stepIndex}/${this.plan.length}] ${name} (~${Math.ceil(this.current.estimateSeconds)} s)\n`);
    }
  }

  /** Print a note without breaking the bar. */
  note(text: string): void {
    if (!this.enabled) return;
    if (this.tty) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`bench: ${text}\n`);
    if (this.tty && this.current !== undefined) this.draw();
  }

  /** End the bar (clears the line on a terminal). */
  stop(): void {
    this.finishCurrent();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.enabled && this.tty) process.stderr.write('\r\x1b[2K');
  }

  private finishCurrent(): void {
    if (this.current !== undefined) this.doneSeconds += this.current.estimateSeconds;
    this.current = undefined;
  }

  private draw(): void {
    if (this.current === undefined) return;
    const inStepSeconds = Math.min(this.current.estimateSeconds, (performance.now() - this.current.startedMs) / 1000);
    const fraction = Math.min(1, (this.doneSeconds + inStepSeconds) / this.totalSeconds);
    const filled = Math.round(fraction * barWidthChars);
    const bar = '#'.repeat(filled) + '.'.repeat(barWidthChars - filled);
    process.stderr.write(`\r\x1b[2K[${bar}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${this.current.name}`);
  }
}
