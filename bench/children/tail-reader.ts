/**
 * A standby's tail, as its own process (started by the tail-lag section):
 * `node --import tsx bench/children/tail-reader.ts --journal-id ID --nodes RPC,... --http HTTP,... --from TXID --capacity N --out FILE`
 *
 * Tails the journal with libqjm (WebSocket push, polling fallback) and notes when each txid
 * from `from` on arrived: `process.hrtime` in ms (CLOCK_MONOTONIC, comparable with the bench
 * process's), for at most `capacity` txids. Prints `tail: at TXID` at most every
 * `reportIntervalMs`. The bench then writes `until TXID` on stdin: once that txid arrived, the
 * times are written to FILE as a Float64Array (index = txid - from), `tail: done` is printed
 * and the process exits.
 */
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { QuorumJournalManager } from '../../libqjm/index.ts';

/** Progress lines at most this often, ms. */
const reportIntervalMs = 50;

const { values } = parseArgs({
  options: {
    'journal-id': { type: 'string' },
    nodes: { type: 'string' },
    http: { type: 'string' },
    from: { type: 'string' },
    capacity: { type: 'string' },
    out: { type: 'string' },
  },
});
const from = Number(values.from);
const capacity = Number(values.capacity);
if (!(from >= 1 && capacity >= 1) || values.out === undefined || values.nodes === undefined) {
  process.stderr.write('tail-reader: --journal-id --nodes --http --from --capacity --out are required\n');
  process.exit(2);
}
const out = values.out;
const qjm = new QuorumJournalManager({
  journalId: values['journal-id'] ?? 'bench',
  nodes: values.nodes.split(','),
  httpNodes: (values.http ?? '').split(',').filter((a) => a !== ''),
});
const arrivedMs = new Float64Array(capacity);
let until = Number.MAX_SAFE_INTEGER;
let last = from - 1;

function finishIfDone(): void {
  if (last < until) return;
  writeFileSync(out, new Uint8Array(arrivedMs.buffer));
  process.stdout.write('tail: done\n');
  qjm.close();
  process.exit(0);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const match = /^until (\d+)$/.exec(line.trim());
  if (match === null) return;
  until = Number(match[1]);
  finishIfDone();
});

let reportedAtMs = 0;
process.stdout.write(`tail: at ${last}\n`);
for await (const edit of qjm.tail({ from })) {
  const nowMs = Number(process.hrtime.bigint()) / 1e6;
  if (edit.txid - from < capacity) arrivedMs[edit.txid - from] = nowMs;
  last = edit.txid;
  if (nowMs - reportedAtMs >= reportIntervalMs) {
    reportedAtMs = nowMs;
    process.stdout.write(`tail: at ${last}\n`);
  }
  finishIfDone();
}
