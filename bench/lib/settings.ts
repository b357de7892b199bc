/** The bench's settings, from its flags (see main.ts). Times in milliseconds unless named. */
export interface BenchSettings {
  readonly quick: boolean;
  /** Bytes of one edit. */
  readonly editBytes: number;
  /** Warm-up before each measured window. */
  readonly warmupMs: number;
  /** The journal's warm-up before its first row stops waiting for every JournalNode to reuse a WAL file after this long. */
  readonly journalWarmupMsMax: number;
  /** Each measured window (throughput, latency). */
  readonly measureMs: number;
  /** Latency: rounds in which the journal and etcd take turns, and each one's time per round. */
  readonly latencyRounds: number;
  readonly latencyRoundMs: number;
  /** Journal in-flight writes per batch size (edits per write -> writes in flight). */
  readonly journalInflightWrites: Readonly<Record<number, number>>;
  /** etcd: puts in flight, and 100-put transactions in flight. */
  readonly etcdInflightPuts: number;
  readonly etcdInflightTransactions: number;
  /** Puts per etcd transaction (etcd allows at most 128 operations in one). */
  readonly etcdPutsPerTransaction: number;
  readonly diskFsyncMs: number;
  readonly diskSequentialBytes: number;
  readonly tailEditsPerSecond: number;
  readonly tailDurationMs: number;
  readonly footprintSeconds: number;
  readonly footprintEditsPerSecond: number;
  readonly footprintSampleMs: number;
  /** Edits per segment: the bench's writer rolls its segments as a master does. */
  readonly segmentEdits: number;
  readonly failoverRounds: number;
  /** Steady writing before each kill (the lease is renewed a few times meanwhile). */
  readonly failoverSteadyMs: number;
  /** Lease / session time to live of both elections. */
  readonly electionTtlMs: number;
  /** Where the clusters keep their data (on the disk being measured). */
  readonly workDir: string;
  /** Where child processes log. */
  readonly logDir: string;
}
