/**
 * A minimal master for the failover section, as its own process:
 * `node --import tsx bench/children/failover-master.ts --election journal|etcd --candidate NAME --journal-id ID
 *    --nodes RPC,... --http HTTP,... [--etcd URL,...] --ttl-ms N --write-interval-ms N`
 *
 * Runs libqjm's HAController: standby tails, the elected one opens the journal with its token
 * and writes one 1 KiB edit every `write-interval-ms` (each awaited). Prints JSON lines on
 * stdout, times in ms of `process.hrtime` (CLOCK_MONOTONIC, comparable across processes):
 * `{"event":"ready"}`, `{"event":"active","atMs":..}`, `{"event":"first-ack","atMs":..,"txid":..}`
 * (the first acknowledged write of each leadership), `{"event":"standby","reason":..}`.
 */
import { parseArgs } from 'node:util';
import { EtcdElection, HAController, JournalElection, QuorumJournalManager } from '../../libqjm/index.ts';
import type { ElectionHook, JournalWriter } from '../../libqjm/index.ts';

const { values } = parseArgs({
  options: {
    election: { type: 'string' },
    'journal-id': { type: 'string' },
    candidate: { type: 'string' },
    nodes: { type: 'string' },
    http: { type: 'string' },
    etcd: { type: 'string' },
    'ttl-ms': { type: 'string' },
    'write-interval-ms': { type: 'string' },
  },
});
const ttlMs = Number(values['ttl-ms'] ?? '2000');
const writeIntervalMs = Number(values['write-interval-ms'] ?? '5');
const candidate = values.candidate ?? `m${process.pid}`;
const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const say = (fields: object): void => void process.stdout.write(`${JSON.stringify(fields)}\n`);

const qjm = new QuorumJournalManager({
  journalId: values['journal-id'] ?? 'failover',
  nodes: (values.nodes ?? '').split(','),
  httpNodes: (values.http ?? '').split(',').filter((a) => a !== ''),
  requestTimeoutMs: 2_000,
});
let election: ElectionHook;
if (values.election === 'etcd') {
  election = new EtcdElection({ hosts: (values.etcd ?? '').split(','), name: 'bench-failover', ttlSeconds: Math.max(1, Math.round(ttlMs / 1000)) });
} else {
  election = new JournalElection({ qjm, leaseName: 'bench', ttlMs });
}

const payload = new Uint8Array(1024).fill(42);
let leadership = 0;

async function writeLoop(writer: JournalWriter, lastTxId: number, mine: number): Promise<void> {
  await writer.startLogSegment(lastTxId + 1);
  let next = lastTxId + 1;
  let first = true;
  while (leadership === mine && writer.state === 'open') {
    await writer.write(next, [payload]);
    if (first) {
      first = false;
      say({ event: 'first-ack', atMs: nowMs(), txid: next });
    }
    next += 1;
    await new Promise((resolve) => setTimeout(resolve, writeIntervalMs));
  }
}

const controller = new HAController({
  qjm,
  election,
  candidate,
  retryDelayMs: 50,
  apply: () => undefined,
  onActive: (writer, lastTxId) => {
    leadership += 1;
    say({ event: 'active', atMs: nowMs(), lastTxId });
    const mine = leadership;
    void writeLoop(writer, lastTxId, mine).catch((error: unknown) => say({ event: 'write-failed', error: String(error) }));
  },
  onStandby: (reason) => {
    leadership += 1;
    say({ event: 'standby', reason });
  },
});
controller.on('failed', (error: Error) => {
  say({ event: 'failed', error: error.message });
  process.exit(1);
});
controller.start();
say({ event: 'ready' });
