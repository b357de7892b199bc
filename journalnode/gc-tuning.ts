/**
 * The memory tuning of a JournalNode process: V8's heap, and glibc's allocator.
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
 *
 * `--single-threaded-gc` does every collection's work on the main thread, without V8's helper
 * threads. A loaded JournalNode runs a mark-compact each time about 64 MiB of buffers outlive
 * the young generation (V8's external-memory trigger): at batches of 1,000 edits, one to two per
 * second per node while the Raft log kept every entry until a snapshot; since the runtime evicts
 * applied entries from memory (raft/node.ts `evictEntries`), 0.2 per second on a follower and
 * still 1-2 on the leader, whose request buffers churn more. With helper threads,
 * marking ran on every core beside the main threads of three nodes and the writer, and the
 * machine's major-GC share was about 18% of its samples. Measured on 2 cores, 3 nodes and a
 * writer, three alternated 20 s runs at batches of 1,000: 102,300/95,650/101,750 against
 * 97,200/87,550/96,150 edits/s (+5-9%); the tail-lag run at 10,000 edits/s showed no difference
 * beyond its noise (p99 9.5/10.8/9.5 ms against 9.9/7.4/12.2 ms).
 */
import v8 from 'node:v8';

/**
 * glibc malloc settings a JournalNode is started with (the `GLIBC_TUNABLES` environment
 * variable, read by the C library before any code runs; {@link journalNodeEnv}).
 *
 * Every batch passes through fresh buffers of about 1 MiB (gRPC's reassembly of a request, the
 * Raft entry, a peer link frame, socket reads). With glibc's defaults a buffer that size is
 * served by mmap, or from the heap whose top is handed back to the kernel once more than 2 MiB
 * of it is free, which happens after every collection that frees a few batches: the next
 * batches then fault in and zero new pages. Measured at batches of 1,000 edits of 1 KiB (3
 * nodes, 2 cores): 158,000-172,000 minor page faults per follower in 8 s, 7.2% of the machine's
 * CPU in page faults; with these settings 40,000-57,000 and 2.0%, and the servers' CPU per edit
 * 17.1 -> 15.1 µs (mean of six 6 s rounds each, one run).
 *
 * - `mmap_threshold` 32 MiB: batches and frames come from the heap, not from fresh mappings;
 * - `trim_threshold` 256 MiB: the heap keeps up to that much free memory instead of returning
 *   it, so a node's RSS sits up to that much above its live memory (measured: about 100 MiB).
 *
 * Other C libraries (musl) ignore the variable.
 */
export const JOURNALNODE_MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456';

/**
 * The environment a JournalNode process is started with, over `base`: `GLIBC_TUNABLES` with
 * {@link JOURNALNODE_MALLOC_TUNABLES} first and `base`'s own value after it (glibc applies the
 * last value of a tunable, so an operator's setting wins).
 */
export function journalNodeEnv(base: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const own = base['GLIBC_TUNABLES'];
  return { GLIBC_TUNABLES: own === undefined || own === '' ? JOURNALNODE_MALLOC_TUNABLES : `${JOURNALNODE_MALLOC_TUNABLES}:${own}` };
}

/** True when this process runs on glibc (whose allocator reads GLIBC_TUNABLES). Builds a diagnostic report: ask last. */
export function onGlibc(): boolean {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime !== undefined;
}

/** True when `env` (this process's, by default) carries the JournalNode's malloc settings. */
export function mallocTuned(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const value = env['GLIBC_TUNABLES'] ?? '';
  return JOURNALNODE_MALLOC_TUNABLES.split(':').every((setting) => value.split(':').includes(setting));
}

/**
 * `node` flags a JournalNode process is started with (before the script): every launcher of the
 * project (deploy/, chaos/, the tests, the systemd unit) and bin/journalnode's `#!` line use them.
 */
export const JOURNALNODE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--single-threaded-gc'];

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
