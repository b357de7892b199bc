/**
 * The V8 heap tuning of a JournalNode process.
 *
 * A JournalNode keeps a small live heap (about 25 MiB) and allocates fast and briefly (every
 * message and batch). V8 sizes the old generation's limit at about 1.2 x the live heap when its
 * collector is fast, so the room left (about 5 MiB) stays below the young generation's capacity
 * (2 x 16 MiB semi-spaces), and V8 then starts the next incremental marking as soon as the last
 * one ends: measured at 10,000 edits/s, a full mark-compact every 300 ms on every node (atomic
 * pauses of 5-30 ms, and two to four marking threads busy), where scavenges would do.
 *
 * A heap growing factor of 4 leaves the limit at about 4 x the live heap (about 100 MiB): in the
 * same run, 3 mark-compacts per node instead of 15 to 60. Memory stays bounded by that factor.
 *
 * The young generation's size can only be set on the `node` command line
 * ({@link JOURNALNODE_NODE_FLAGS}): 8 MiB semi-spaces instead of 16 make each scavenge shorter
 * (they paused a node up to 20 ms); in the bench's tail-lag run at 10,000 edits/s the p99.9 lag
 * fell from 37-44 ms to 17-19 ms, p99 from 14-19 ms to 10-12 ms (two rounds each, one machine).
 */
import v8 from 'node:v8';

/**
 * `node` flags a JournalNode process is started with (before the script): every launcher of the
 * project (deploy/, chaos/, the tests, the systemd unit) and bin/journalnode's `#!` line use them.
 */
export const JOURNALNODE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/** The old generation may grow to (1 + this / 100) x the live heap before a full collection. */
export const HEAP_GROWING_PERCENT = 300;

/**
 * Apply the tuning, unless the process was started with its own `--heap-growing-percent` on the
 * `node` command line (node refuses it in NODE_OPTIONS). Returns the flag set, or undefined when
 * left alone.
 */
export function tuneGarbageCollector(): string | undefined {
  const given = process.execArgv.some((arg) => arg.includes('heap-growing-percent') || arg.includes('heap_growing_percent'));
  if (given) return undefined;
  const flag = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
  v8.setFlagsFromString(flag);
  return flag;
}
