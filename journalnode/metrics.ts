/**
 * Prometheus metrics of one JournalNode, in a registry of its own (several JournalNodes may
 * share a process in tests). Counters the service and the tail feed directly; gauges read
 * from the Raft node and the state machine at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { pageCacheDropStats } from '../raft/storage/page-cache.ts';
import type { RaftNode } from '../raft/node.ts';
import type { JournalStateMachine } from './journal-state-machine.ts';

/** Proposal latency buckets, seconds. */
export const proposalSecondsBuckets: readonly number[] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

/** Most journals reported per-journal (segments gauge); beyond it they are summed as `_other`. */
export const metricsJournalsMax = 256;

/** The metrics of one JournalNode. */
export class JournalNodeMetrics {
  readonly registry = new Registry();
  /** Time from a write request's arrival to its answer, by operation and outcome (ok or error code). */
  readonly proposalSeconds: Histogram<'op' | 'outcome'>;
  /** Journal bytes (framed records) applied on this node. */
  readonly journalBytesApplied: Counter;
  /** Journal edits applied on this node. */
  readonly journalEditsApplied: Counter;
  /** Write requests answered, by operation and outcome. */
  readonly requests: Counter<'op' | 'outcome'>;
  /** Duration of one state machine apply call (a Ready's committed entries: segment appends and their flush). */
  readonly applySeconds: Histogram;
  /** Duration of one state machine snapshot (hard links, copy and fsync of the segment files). */
  readonly snapshotSeconds: Histogram;
  /** The part of each snapshot that applies wait for (the capture). */
  readonly snapshotCaptureSeconds: Histogram;
  /** WebSocket tail subscribers dropped, by reason. */
  readonly tailDropped: Counter<'reason'>;
  /** WebSocket tail subscribers connected now. */
  readonly tailSubscribers: Gauge;
  /** The largest `bufferedAmount` seen on any tail subscriber since start, bytes. */
  readonly tailBufferedBytesMax: Gauge;
  /** JournalStream requests in flight now (all streams). */
  readonly streamInflight: Gauge;
  /** The most requests seen in flight on one JournalStream since start. */
  readonly streamInflightMax: Gauge;

  private tailBufferedSeen = 0;
  private streamInflightSeen = 0;

  constructor(node: RaftNode, stateMachine: JournalStateMachine) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.proposalSeconds = new Histogram({
      name: 'qjournal_proposal_duration_seconds',
      help: 'Write request latency: arrival to answer (proposal committed and applied), by operation and outcome',
      labelNames: ['op', 'outcome'],
      buckets: [...proposalSecondsBuckets],
      registers,
    });
    this.applySeconds = new Histogram({
      name: 'qjournal_apply_duration_seconds',
      help: 'State machine apply calls (committed entries of one Ready: segment appends and their flush)',
      buckets: [...proposalSecondsBuckets],
      registers,
    });
    this.snapshotSeconds = new Histogram({
      name: 'qjournal_snapshot_duration_seconds',
      help: 'State machine snapshots, capture to completion (segment files linked, copied and fsynced)',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60],
      registers,
    });
    this.snapshotCaptureSeconds = new Histogram({
      name: 'qjournal_snapshot_capture_duration_seconds',
      help: 'The part of each state machine snapshot that applies wait for (links, open handles, metadata)',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.requests = new Counter({ name: 'qjournal_write_requests_total', help: 'Write requests answered', labelNames: ['op', 'outcome'], registers });
    this.journalBytesApplied = new Counter({ name: 'qjournal_journal_bytes_applied_total', help: 'Framed record bytes appended to segment files', registers });
    this.journalEditsApplied = new Counter({ name: 'qjournal_journal_edits_applied_total', help: 'Edits appended to segment files', registers });
    this.tailDropped = new Counter({ name: 'qjournal_tail_dropped_total', help: 'WebSocket tail subscribers dropped by the server', labelNames: ['reason'], registers });
    this.tailSubscribers = new Gauge({ name: 'qjournal_tail_subscribers', help: 'WebSocket tail subscribers connected', registers });
    this.tailBufferedBytesMax = new Gauge({ name: 'qjournal_tail_buffered_bytes_max', help: 'Largest bufferedAmount seen on a tail subscriber since start', registers });
    this.streamInflight = new Gauge({ name: 'qjournal_stream_inflight_requests', help: 'JournalStream requests in flight', registers });
    this.streamInflightMax = new Gauge({ name: 'qjournal_stream_inflight_requests_max', help: 'Most requests seen in flight on one JournalStream since start', registers });

    const raftGauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    raftGauge('raft_term', 'Current Raft term', () => node.status().hardState.term);
    raftGauge('raft_commit_index', 'Raft commit index', () => node.status().hardState.commit);
    raftGauge('raft_applied_index', 'Raft applied index', () => node.appliedIndex());
    raftGauge('raft_last_index', 'Last Raft log index', () => node.status().lastIndex);
    raftGauge('raft_snapshot_index', 'Index of the latest Raft snapshot', () => node.status().snapshotIndex);
    raftGauge('raft_is_leader', '1 when this node is the Raft leader', () => (node.isLeader() ? 1 : 0));
    new Gauge({
      name: 'raft_follower_lag_entries',
      help: 'Leader only: entries a follower is behind the leader (last index - match index)',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        const status = node.status();
        if (status.progress === null) return;
        for (const [peer, progress] of Object.entries(status.progress)) {
          if (peer !== status.id) this.set({ peer }, Math.max(0, status.lastIndex - progress.match));
        }
      },
    });
    /** A counter that follows a running total read at each scrape. */
    const totalCounter = (name: string, help: string, read: () => number): void => {
      let last = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const value = read();
          if (value > last) this.inc(value - last);
          last = value;
        },
      });
    };
    const walTotal = (key: string) => () => node.status().walStats[key] ?? 0;
    totalCounter('raft_wal_fsyncs_total', 'fsyncs of the Raft WAL (group commit: one per batch)', walTotal('fsyncs'));
    totalCounter('raft_wal_bytes_written_total', 'Bytes written to the Raft WAL', walTotal('bytesWritten'));
    totalCounter('raft_wal_segments_created_total', 'Raft WAL files started (a roll)', walTotal('segmentsCreated'));
    totalCounter('raft_wal_segments_reused_total', 'Raft WAL files started over a compacted file (overwritten, no file-system metadata per fsync)', walTotal('segmentsReused'));
    totalCounter('raft_wal_batches_total', 'Batches (writes) of the Raft WAL', walTotal('batches'));
    totalCounter('raft_wal_appends_total', 'Append calls of the Raft WAL', walTotal('appends'));
    totalCounter('raft_wal_entries_read_back_total', 'Entries read back from the Raft WAL (evicted from memory, then needed: a follower behind)', walTotal('entriesReadBack'));
    totalCounter(
      'raft_read_ahead_waits_total',
      "Sends to a follower behind that waited for its evicted entries to be read back from the WAL (off the event loop: raft/read-ahead.ts)",
      () => node.status().readAhead.misses,
    );
    totalCounter('qjournal_page_cache_dropped_bytes_total', 'Synced bytes of WAL and segment files given back to the kernel (posix_fadvise DONTNEED)', () => pageCacheDropStats.bytes);
    totalCounter('qjournal_page_cache_drop_failures_total', 'posix_fadvise calls that returned an error (advice only: no data is affected)', () => pageCacheDropStats.failures);
    totalCounter('qjournal_page_cache_drops_skipped_total', 'Page-cache drops not made because too many were in flight (the pages stay cached)', () => pageCacheDropStats.skipped);
    new Gauge({
      name: 'raft_log_held_bytes',
      help: 'Bytes of Raft entry data held in memory (applied entries are evicted and read back from the WAL when a follower needs them)',
      registers,
      collect() {
        this.set(node.status().logHeldBytes);
      },
    });
    new Gauge({
      name: 'qjournal_segments',
      help: 'Segment files per journal (finalized and in progress)',
      labelNames: ['journal_id'],
      registers,
      collect() {
        this.reset();
        const ids = stateMachine.listJournals();
        let other = 0;
        ids.forEach((journalId, i) => {
          const manifest = stateMachine.getManifest(journalId, 0);
          const count = manifest.ok ? manifest.segments.length : 0;
          if (i < metricsJournalsMax) this.set({ journal_id: journalId }, count);
          else other += count;
        });
        if (ids.length > metricsJournalsMax) this.set({ journal_id: '_other' }, other);
      },
    });
    new Gauge({
      name: 'qjournal_last_txid',
      help: 'Last committed txid per journal as applied on this node',
      labelNames: ['journal_id'],
      registers,
      collect() {
        this.reset();
        for (const journalId of stateMachine.listJournals().slice(0, metricsJournalsMax)) {
          const state = stateMachine.getJournalState(journalId);
          if (state.ok) this.set({ journal_id: journalId }, state.lastTxId);
        }
      },
    });
  }

  /** Note the requests in flight on one stream (keeps the maximum). */
  noteStreamInflight(requests: number): void {
    if (requests > this.streamInflightSeen) {
      this.streamInflightSeen = requests;
      this.streamInflightMax.set(requests);
    }
  }

  /** Note a tail subscriber's buffered bytes (keeps the maximum). */
  noteTailBuffered(bytes: number): void {
    if (bytes > this.tailBufferedSeen) {
      this.tailBufferedSeen = bytes;
      this.tailBufferedBytesMax.set(bytes);
    }
  }
}
