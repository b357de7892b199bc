/**
 * Time for libqjm: a monotonic clock (deadlines must not jump with the wall clock) and an
 * abortable delay. Injected where determinism matters (route table, elections).
 */
import { AbortedError } from './errors.ts';

/** A monotonic clock in milliseconds (any origin). */
export interface Clock {
  nowMs(): number;
}

/** `performance.now()`: monotonic, unaffected by wall-clock changes. */
export const monotonicClock: Clock = { nowMs: () => performance.now() };

/**
 * Resolve after `delayMs` milliseconds, or reject with {@link AbortedError} as soon as `signal`
 * aborts. The timer is cleared on abort.
 */
export function abortableDelay(delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new AbortedError('aborted', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError('aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, delayMs));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A promise with its resolve and reject functions (Promise.withResolvers is Node 22+). */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** Create a {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** True when `signal` is aborted (a function, so TypeScript does not narrow it across awaits). */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/**
 * `promise`, or a rejection with {@link AbortedError} as soon as `signal` aborts (the promise
 * itself keeps running; its outcome is then ignored).
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(new AbortedError('aborted', { cause: signal.reason }));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => undefined);
      reject(new AbortedError('aborted', { cause: signal.reason }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
