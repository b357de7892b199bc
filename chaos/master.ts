/**
 * A chaos master: a small metadata master process built on libqjm exactly as a real one would
 * be (HAController + JournalElection, the embedded lease), that writes chaos edits while active
 * and records every write with its start, end and outcome (history.ts).
 *
 * Run by the chaos runner as `node --import tsx chaos/master.ts '<MasterConfig JSON>'` with
 * `grpc_proxy` pointing at its fault proxy. Prints `chaos-master: id=<id> ready` once started;
 * stops cleanly on SIGTERM (controller stopped, history closed) and by itself when the runner
 * dies.
 *
 * While active it keeps up to `inflightWritesMax` writes in flight (the writer pipelines them),
 * at most `writesPerSecondMax` per second, of 1..`editsPerWriteMax` edits each, and rolls the
 * segment (finalize, start) every `segmentEditsMax` edits.
 *
 * Zombie writes: when it stops being active (lease lost, fenced, writer failed) it plays a
 * stale master that did not notice: it writes `zombieAttempts` small batches under its old
 * epoch straight to the JournalNodes (a raw client, bypassing libqjm's own stop), at the
 * journal's current end. The JournalNodes must refuse them once a higher epoch was promised;
 * the checker verifies they did.
 */
import { crc32c } from '@node-rs/crc32';
import { pino } from 'pino';
import { z } from 'zod';
import { HAController, JournalElection, QuorumJournalManager } from '../libqjm/index.ts';
import type { JournalWriter, OpenForWriteOptions, StandbyReason } from '../libqjm/index.ts';
import { frameRecords } from '../journalnode/protocol/records.ts';
import { Prng } from '../raft/sim/prng.ts';
import { decodeEdit, encodeEdit } from './edits.ts';
import { HistoryRecorder, type Outcome } from './history.ts';
import { RawJournalClient } from './raw-client.ts';

/** Settings of one master process. Times in ms. */
const masterConfigSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
  journalId: z.string(),
  /** QJournal addresses of every JournalNode slot the run may use. */
  nodes: z.array(z.string()).min(1),
  historyPath: z.string(),
  seed: z.int().nonnegative(),
  leaseTtlMs: z.int().positive(),
  requestTimeoutMs: z.int().positive().default(3_000),
  writeTimeoutMs: z.int().positive().default(8_000),
  inflightWritesMax: z.int().positive().default(4),
  writesPerSecondMax: z.int().positive().default(100),
  editsPerWriteMax: z.int().positive().default(8),
  paddingBytesMax: z.int().nonnegative().default(200),
  segmentEditsMax: z.int().positive().default(1_000),
  zombieAttempts: z.int().nonnegative().default(2),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

/** Settings of one master process, as the runner passes them. */
export type MasterConfig = z.input<typeof masterConfigSchema>;

/** How often the master checks that the runner still lives, ms. */
const parentCheckIntervalMs = 1_000;

/** Attempts of one zombie round at the txid an OUT_OF_ORDER answer names. */
const zombieTxIdChasesMax = 5;

/** Delay before a failed controller is replaced, ms. */
const controllerRestartDelayMs = 500;

/** Codes of a refused JournalNode answer: the request was certainly not applied. */
const definiteRefusals = new Set([
  'EPOCH_FENCED',
  'EPOCH_NOT_PROMISED',
  'OUT_OF_ORDER',
  'SEGMENT_NOT_OPEN',
  'SEGMENT_ALREADY_OPEN',
  'NOT_LEADER',
  'NOT_FORMATTED',
  'INVALID_ARGUMENT',
  'CORRUPT_RECORDS',
  'NAMESPACE_MISMATCH',
]);

function errorName(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

async function run(config: z.output<typeof masterConfigSchema>): Promise<void> {
  const log = pino({ level: config.logLevel, base: { master: config.id } }, pino.destination({ dest: 2, sync: true }));
  const history = new HistoryRecorder(config.historyPath, config.id);
  const random = new Prng(config.seed, 0x3a57e5);
  let nextSeq = 1;
  const raw = new RawJournalClient(config.requestTimeoutMs);

  /** The manager, recording every successful openForWrite with its interval. */
  class RecordingQjm extends QuorumJournalManager {
    override async openForWrite(options: OpenForWriteOptions = {}): Promise<JournalWriter> {
      const startMs = Date.now();
      const writer = await super.openForWrite(options);
      history.open(writer.epoch, writer.lastTxId, startMs, Date.now());
      return writer;
    }
  }
  const qjm = new RecordingQjm({
    journalId: config.journalId,
    nodes: config.nodes,
    requestTimeoutMs: config.requestTimeoutMs,
    writeTimeoutMs: config.writeTimeoutMs,
    backoff: { initialDelayMs: 20, maxDelayMs: 300, multiplier: 2, jitter: 0.5 },
    channel: { keepaliveTimeMs: 2_000, keepaliveTimeoutMs: 2_000, reconnectBackoffMaxMs: 500 },
    log,
  });
  const election = new JournalElection({ qjm, ttlMs: config.leaseTtlMs, log });

  let writing: AbortController | undefined;
  let activeEpoch: number | undefined;
  let applied = 0;
  let foreign = 0;

  const makeEdits = (epoch: number, count: number, zombie: boolean): { seq: number; records: Buffer[] } => {
    const seq = nextSeq;
    nextSeq += count;
    const records = Array.from({ length: count }, (_, i) => encodeEdit({ master: config.id, epoch, seq: seq + i, zombie }, random.nextUint32() % (config.paddingBytesMax + 1)));
    return { seq, records };
  };

  const writeLoop = async (writer: JournalWriter, lastTxId: number, signal: AbortSignal): Promise<void> => {
    const epoch = writer.epoch;
    const inflight = new Set<Promise<void>>();
    const intervalMs = 1000 / config.writesPerSecondMax;
    try {
      let segmentFirst = lastTxId + 1;
      await writer.startLogSegment(segmentFirst);
      let nextAtMs = Date.now();
      while (!signal.aborted && writer.state === 'open') {
        if (writer.nextTxId - segmentFirst >= config.segmentEditsMax) {
          await Promise.all(inflight);
          if (signal.aborted || writer.state !== 'open') break;
          await writer.finalizeLogSegment(segmentFirst, writer.nextTxId - 1);
          segmentFirst = writer.nextTxId;
          await writer.startLogSegment(segmentFirst);
          continue;
        }
        const count = 1 + (random.nextUint32() % config.editsPerWriteMax);
        const { seq, records } = makeEdits(epoch, count, false);
        const first = writer.nextTxId;
        const op = history.invoke('write', epoch, first, seq, count);
        const done = writer.write(first, records).then(
          () => history.complete(op, 'acked'),
          // The batch may have been committed before the failure: the outcome is unknown.
          (error: unknown) => history.complete(op, 'unknown', errorName(error)),
        );
        inflight.add(done);
        void done.finally(() => inflight.delete(done));
        if (inflight.size >= config.inflightWritesMax) await Promise.race(inflight);
        nextAtMs += intervalMs;
        const waitMs = nextAtMs - Date.now();
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        else nextAtMs = Date.now();
      }
    } catch (error) {
      if (!signal.aborted) {
        log.warn({ err: error, epoch }, 'write loop failed: stepping down');
        writer.abort(error instanceof Error ? error : new Error(String(error)));
      }
    }
    await Promise.allSettled([...inflight]);
  };

  /**
   * One zombie round: read the journal's end from any node, then write a small batch under
   * `epoch` at that end, following NOT_LEADER hints, and again at the txid an OUT_OF_ORDER
   * answer names (the active master keeps moving the end), up to `zombieTxIdChasesMax` times.
   * Each attempt is one operation in the history.
   */
  const zombieWrite = async (epoch: number): Promise<void> => {
    let address = config.nodes[random.nextUint32() % config.nodes.length]!;
    let first: number | undefined;
    for (let probe = 0; probe < config.nodes.length && first === undefined; probe++) {
      const state = await raw.getJournalState(address, config.journalId).catch(() => undefined);
      if (state?.success !== undefined && state.success !== null) first = state.success.lastTxId + 1;
      else address = config.nodes[(config.nodes.indexOf(address) + 1) % config.nodes.length]!;
    }
    for (let chase = 0; first !== undefined && chase < zombieTxIdChasesMax; chase++) {
      const count = 1 + (random.nextUint32() % 3);
      const { seq, records } = makeEdits(epoch, count, true);
      const framed = frameRecords(first, records);
      const op = history.invoke('zombie', epoch, first, seq, count);
      let outcome: Outcome = 'unknown';
      let detail = '';
      let expected: number | undefined;
      for (let hop = 0; hop <= config.nodes.length; hop++) {
        try {
          const response = await raw.journal(address, { sequence: 1, journalId: config.journalId, epoch, firstTxId: first, count, records: framed, crc32c: crc32c(framed) });
          if (response.success !== undefined && response.success !== null) {
            outcome = 'acked';
            detail = '';
            break;
          }
          const code = String(response.error?.code ?? 'NONE');
          detail = `${code}: ${response.error?.message ?? ''}`;
          outcome = definiteRefusals.has(code) ? 'failed' : 'unknown';
          if (code === 'NOT_LEADER' && response.error?.leaderHint) {
            address = response.error.leaderHint;
            continue;
          }
          if (code === 'OUT_OF_ORDER' && response.error !== null && response.error !== undefined && response.error.expectedTxId > 0) expected = response.error.expectedTxId;
          break;
        } catch (error) {
          outcome = 'unknown';
          detail = errorName(error);
          break;
        }
      }
      history.complete(op, outcome, detail === '' ? undefined : detail);
      log.info({ epoch, first, count, outcome, detail }, 'zombie write');
      first = outcome === 'failed' ? expected : undefined;
    }
  };

  /**
   * The controller, restarted when it fails (as a supervisor restarts a crashed master): a
   * failure is logged and recorded in the history (transition to 'failed'), then a fresh
   * controller replays the journal from txid 1 and campaigns again.
   */
  let controller: HAController | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  const startController = (): void => {
    const current = new HAController({
      qjm,
      election,
      candidate: config.id,
      apply: (edit) => {
        applied += 1;
        if (decodeEdit(edit.data) === undefined) foreign += 1;
      },
      onActive: (writer, lastTxId) => {
        activeEpoch = writer.epoch;
        writing = new AbortController();
        void writeLoop(writer, lastTxId, writing.signal);
      },
      onStandby: async (reason: StandbyReason) => {
        writing?.abort();
        writing = undefined;
        const epoch = activeEpoch;
        activeEpoch = undefined;
        if (epoch !== undefined && reason !== 'stopped') {
          for (let attempt = 0; attempt < config.zombieAttempts; attempt++) await zombieWrite(epoch);
        }
      },
      tail: { pollIntervalMs: 100 },
      retryDelayMs: 100,
      log,
    });
    controller = current;
    current.on('transition', (t) => history.transition(t.from, t.to, t.reason, t.token));
    current.on('failed', (error) => {
      log.error({ err: error }, 'controller failed: restarting it');
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (stopped) return;
        void current.stop().catch(() => undefined);
        startController();
      }, controllerRestartDelayMs);
    });
    current.start();
  };

  let stopping: Promise<void> | undefined;
  const stop = (why: string): Promise<void> => {
    stopping ??= (async () => {
      log.info({ why, applied, foreign }, 'stopping');
      stopped = true;
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      writing?.abort();
      await controller?.stop().catch((error: unknown) => log.warn({ err: error }, 'controller stop failed'));
      qjm.close();
      raw.close();
      history.close();
    })();
    return stopping;
  };
  process.on('SIGTERM', () => void stop('SIGTERM').then(() => process.exit(0)));
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop('runner gone').then(() => process.exit(0));
  }, parentCheckIntervalMs).unref();

  startController();
  process.stdout.write(`chaos-master: id=${config.id} ready\n`);
}

const argument = process.argv[2];
if (argument === undefined) {
  process.stderr.write('usage: chaos/master.ts <MasterConfig JSON>\n');
  process.exit(2);
}
await run(masterConfigSchema.parse(JSON.parse(argument)));
