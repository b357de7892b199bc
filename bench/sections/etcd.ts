/**
 * The etcd side, what a user would otherwise run: a 3-member etcd cluster (fsync on) and the
 * `etcd3` client connected to the leader (its best case: no forwarding hop).
 * - one put per edit (1 KiB values), many in flight;
 * - transactions of 100 puts (etcd allows at most 128 operations per transaction), many in flight;
 * - one put (the latency run, interleaved with the journal's: lib/drivers.ts runInterleaved).
 * Keys cycle over `keySpaceKeys` names so the key space stays bounded (etcd keeps revisions
 * until its auto-compaction).
 */
import { Etcd3 } from 'etcd3';
import { CostMeter, type CostPerEdit } from '../lib/machine.ts';
import { runWindowed, type ThroughputResult } from '../lib/drivers.ts';
import type { EtcdCluster } from '../lib/etcd-cluster.ts';
import type { BenchSettings } from '../lib/settings.ts';

/** Distinct keys written (then overwritten). */
export const keySpaceKeys = 100_000;

/** A throughput run with its costs per edit. */
export interface EtcdThroughput extends ThroughputResult, CostPerEdit {}

/** A client of the leader, with key and value helpers. */
export class EtcdBench {
  private sequence = 0;
  private readonly keys: Buffer[] = [];
  readonly value: Buffer;

  private constructor(
    readonly client: Etcd3,
    private readonly cluster: EtcdCluster,
    private readonly settings: BenchSettings,
  ) {
    this.value = Buffer.alloc(settings.editBytes, 0x5a);
  }

  static async connect(cluster: EtcdCluster, settings: BenchSettings): Promise<EtcdBench> {
    const client = new Etcd3({ hosts: await cluster.leaderUrl() });
    return new EtcdBench(client, cluster, settings);
  }

  private nextKey(): Buffer {
    const n = this.sequence++ % keySpaceKeys;
    let key = this.keys[n];
    if (key === undefined) {
      key = Buffer.from(`bench/edits/${String(n).padStart(6, '0')}`);
      this.keys[n] = key;
    }
    return key;
  }

  private async withDiskBytes(run: () => Promise<ThroughputResult>): Promise<EtcdThroughput> {
    const meter = new CostMeter(this.cluster.pids, this.settings.editBytes);
    const sequenceBefore = this.sequence;
    const result = await run();
    return { ...result, ...meter.perEdit(this.sequence - sequenceBefore) };
  }

  /** One put per edit, `etcdInflightPuts` in flight. */
  puts(): Promise<EtcdThroughput> {
    return this.withDiskBytes(() =>
      runWindowed(() => this.putOne(), {
        editsPerOperation: 1,
        inflightOperations: this.settings.etcdInflightPuts,
        warmupMs: this.settings.warmupMs,
        durationMs: this.settings.measureMs,
      }),
    );
  }

  /** Transactions of `etcdPutsPerTransaction` puts, `etcdInflightTransactions` in flight. */
  transactions(): Promise<EtcdThroughput> {
    const size = this.settings.etcdPutsPerTransaction;
    return this.withDiskBytes(() =>
      runWindowed(
        () => {
          const success = [];
          for (let i = 0; i < size; i++) success.push({ request_put: { key: this.nextKey(), value: this.value } });
          return this.client.kv.txn({ success });
        },
        { editsPerOperation: size, inflightOperations: this.settings.etcdInflightTransactions, warmupMs: this.settings.warmupMs, durationMs: this.settings.measureMs },
      ),
    );
  }

  /** One put (the latency run's operation). */
  putOne(): Promise<unknown> {
    return this.client.kv.put({ key: this.nextKey(), value: this.value });
  }

  close(): void {
    this.client.close();
  }
}
