/**
 * The simulator's own seeded pseudo-random generator: sfc32 (Chris Doty-Humphrey's Small Fast
 * Counting generator, 128 bits of state), seeded through splitmix32. Every decision of a
 * simulated run (election timeouts, network faults, the fault schedule, client operations)
 * draws from an instance of this class, so a seed replays exactly. Never `Math.random`.
 */

/** splitmix32: spreads a 32-bit input over a well-mixed 32-bit output (used for seeding only). */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Rounds run after seeding so that close seeds diverge at once. */
const WARMUP_ROUNDS = 16;

/**
 * A deterministic random stream. Two instances built with the same `(seed, stream)` produce the
 * same sequence; different `stream` numbers give independent sequences from one seed (one per
 * node, one for the network, one for the fault schedule), so that a change in how often one
 * consumer draws does not shift the others.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` and `stream` must be safe integers; only their low 32 bits and sign-free form are used. */
  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(stream)) {
      throw new RangeError(`prng: seed and stream must be safe integers (got ${seed}, ${stream})`);
    }
    const high = Math.floor(seed / 0x1_0000_0000) >>> 0;
    this.a = splitmix32(seed >>> 0);
    this.b = splitmix32(this.a ^ high);
    this.c = splitmix32(this.b ^ (stream >>> 0));
    this.d = splitmix32(this.c ^ 0x5bd1e995);
    for (let i = 0; i < WARMUP_ROUNDS; i++) this.nextUint32();
  }

  /** The next 32-bit unsigned integer of the stream. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** An integer in [0, n); `n` must be a positive safe integer. */
  int(n: number): number {
    if (!(n >= 1) || !Number.isSafeInteger(n)) throw new RangeError(`prng: int(n) needs a positive integer, got ${n}`);
    return Math.floor(this.float() * n);
  }

  /** An integer in [low, high], both inclusive. */
  between(low: number, high: number): number {
    if (high < low) throw new RangeError(`prng: between(${low}, ${high}) is empty`);
    return low + this.int(high - low + 1);
  }

  /** True with probability `p` (p <= 0: never, p >= 1: always; a draw is consumed either way). */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('prng: pick from an empty array');
    return items[this.int(items.length)]!;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}
