/**
 * Exponential reconnect backoff: each failure doubles the delay up to `maxMs`; a success
 * resets it to `initialMs`. No jitter: peers reconnect to different hosts, so there is no herd.
 */
export interface BackoffOptions {
  /** First delay after a failure, in ms (>= 1). */
  readonly initial: number;
  /** Largest delay, in ms (>= initial). */
  readonly max: number;
}

export class Backoff {
  private nextDelayMs: number;

  constructor(private readonly options: BackoffOptions) {
    if (!(Number.isSafeInteger(options.initial) && options.initial >= 1 && Number.isSafeInteger(options.max) && options.max >= options.initial)) {
      throw new RangeError(`backoff: need 1 <= initial <= max, got ${options.initial}, ${options.max}`);
    }
    this.nextDelayMs = options.initial;
  }

  /** The delay to wait after this failure, in ms; the next one will be twice as long (capped). */
  failure(): number {
    const delayMs = this.nextDelayMs;
    this.nextDelayMs = Math.min(this.options.max, delayMs * 2);
    return delayMs;
  }

  /** A connection worked: start again from the initial delay. */
  success(): void {
    this.nextDelayMs = this.options.initial;
  }
}
