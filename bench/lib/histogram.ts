/**
 * Latency recording for the benchmarks: an HdrHistogram (hdr-histogram-js) in microseconds,
 * summarised as p50 / p99 / p99.9 in milliseconds.
 */
import * as hdr from 'hdr-histogram-js';

/** Largest value a histogram tracks, in microseconds (60 s); larger values are clamped. */
export const latencyMicrosMax = 60_000_000;

/** Percentiles of one latency distribution, in milliseconds (at least 0.001: the resolution). */
export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** Records durations (ms, fractional) at microsecond resolution. */
export class LatencyRecorder {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: latencyMicrosMax,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 'packed',
    useWebAssembly: false,
  });

  /** Record one duration in milliseconds. Below 1 µs (or negative) counts as 1 µs. */
  recordMs(durationMs: number): void {
    const micros = Math.round(durationMs * 1000);
    this.histogram.recordValue(Math.min(latencyMicrosMax, Math.max(1, micros)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Percentiles in milliseconds; all zero when nothing was recorded. */
  summary(): LatencySummary {
    const ms = (micros: number): number => Math.round(micros) / 1000;
    return {
      count: this.histogram.totalCount,
      p50Ms: ms(this.histogram.getValueAtPercentile(50)),
      p99Ms: ms(this.histogram.getValueAtPercentile(99)),
      p999Ms: ms(this.histogram.getValueAtPercentile(99.9)),
      maxMs: ms(this.histogram.maxValue),
    };
  }

  reset(): void {
    this.histogram.reset();
  }
}
