/**
 * The journal verbs of `qjm`: format, manifest, cat (from a cluster, or from a bare segment
 * directory with no Raft state at all), tail.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { QuorumJournalManager } from '../qjm.ts';
import { parseRecordsPrefix } from '../../journalnode/protocol/records.ts';
import { isValidJournalId } from '../../journalnode/protocol/limits.ts';

interface Helpers {
  UsageError: new (message: string) => Error;
  parseCluster(value: string | undefined): string[];
  output(json: boolean): { print(text: string, value: unknown): void };
}

interface GlobalOptions {
  cluster?: string;
  json?: boolean;
}

/** A segment file name: `edits_inprogress_<first>` or `edits_<first>-<last>` (zero padded). */
const SEGMENT = /^edits_(?:inprogress_(\d{1,19})|(\d{1,19})-(\d{1,19}))$/;

function txidOption(value: string, what: string, helpers: Helpers): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new helpers.UsageError(`${what}: '${value}' is not a txid`);
  return n;
}

function printableEdit(data: Uint8Array): string {
  const text = Buffer.from(data).toString('utf8');
  // Show text as text; anything else as hex.
  return /^[\x20-\x7e]*$/.test(text) ? text : `0x${Buffer.from(data).toString('hex')}`;
}

/** Every edit of a bare journal directory (`edits_*` files), from `from`, in txid order. */
export async function* catDirectory(dir: string, from: number): AsyncGenerator<{ txid: number; data: Uint8Array; file: string }> {
  const names = (await readdir(dir)).flatMap((name) => {
    const m = SEGMENT.exec(name);
    if (!m) return [];
    const first = Number(m[1] ?? m[2]);
    return [{ name, first, last: m[3] === undefined ? Infinity : Number(m[3]) }];
  });
  names.sort((a, b) => a.first - b.first);
  for (const seg of names) {
    if (seg.last < from) continue;
    const bytes = await readFile(join(dir, seg.name));
    const parsed = parseRecordsPrefix(bytes, { firstTxId: seg.first });
    for (const r of parsed.records) if (r.txid >= from) yield { txid: r.txid, data: r.data, file: seg.name };
    if (parsed.corruption !== undefined && !(parsed.truncated && seg.last === Infinity)) throw parsed.corruption;
  }
}

/** Register format, manifest, cat and tail on `program`. */
export function journalVerbs(program: Command, helpers: Helpers): void {
  const journalOf = (o: { journal: string }): string => {
    if (!isValidJournalId(o.journal)) throw new helpers.UsageError(`--journal: '${o.journal}' is not a journal id ([A-Za-z0-9_-]{1,64})`);
    return o.journal;
  };
  const manager = (opts: GlobalOptions, journalId: string, http?: string): QuorumJournalManager =>
    new QuorumJournalManager({
      journalId,
      nodes: helpers.parseCluster(opts.cluster),
      ...(http ? { httpNodes: helpers.parseCluster(http) } : {}),
    });

  program
    .command('format')
    .description('format a journal with its namespace (refused when it holds data, unless --force)')
    .requiredOption('--journal <id>', 'journal id')
    .requiredOption('--ns-id <id>', 'namespace id')
    .requiredOption('--cluster-id <id>', 'cluster id of the namespace')
    .option('--force', 'wipe an existing journal')
    .action(async (o: { journal: string; nsId: string; clusterId: string; force?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const qjm = manager(opts, journalOf(o));
      try {
        const r = await qjm.format({ nsId: o.nsId, clusterId: o.clusterId, blockPoolId: '', layoutVersion: 0 }, { force: o.force ?? false });
        helpers.output(opts.json ?? false).print(r.alreadyFormatted ? 'already formatted' : 'formatted', r);
      } finally {
        qjm.close();
      }
    });

  program
    .command('manifest')
    .description('the segments of a journal')
    .requiredOption('--journal <id>', 'journal id')
    .option('--since <txid>', 'segments holding txids from this one', '0')
    .action(async (o: { journal: string; since: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const since = txidOption(o.since, '--since', helpers);
      const qjm = manager(opts, journalOf(o));
      try {
        const m = await qjm.getEditLogManifest(since);
        const lines = m.segments.map((s) => `${s.inProgress ? 'in-progress' : 'finalized  '} ${s.firstTxId}-${s.lastTxId} epoch=${s.epoch} bytes=${s.sizeBytes}`);
        lines.push(`last txid: ${m.lastTxId}`);
        helpers.output(opts.json ?? false).print(lines.join('\n'), m);
      } finally {
        qjm.close();
      }
    });

  program
    .command('cat')
    .description('print committed edits, from a cluster (--cluster) or from a bare segment directory (--dir)')
    .option('--journal <id>', 'journal id (with --cluster)')
    .option('--dir <path>', 'a directory of edits_* segment files (no cluster needed)')
    .option('--from <txid>', 'first txid', '1')
    .option('--limit <n>', 'at most this many edits', '1000000')
    .action(async (o: { journal?: string; dir?: string; from: string; limit: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const from = Math.max(1, txidOption(o.from, '--from', helpers));
      const limit = txidOption(o.limit, '--limit', helpers);
      const json = opts.json ?? false;
      const emit = (txid: number, data: Uint8Array): void => {
        console.log(json ? JSON.stringify({ txid, data: Buffer.from(data).toString('base64') }) : `${txid}\t${printableEdit(data)}`);
      };
      let n = 0;
      if (o.dir !== undefined) {
        for await (const e of catDirectory(o.dir, from)) {
          if (n++ >= limit) break;
          emit(e.txid, e.data);
        }
        return;
      }
      if (o.journal === undefined) throw new helpers.UsageError('cat: give --dir, or --cluster and --journal');
      const qjm = manager(opts, journalOf({ journal: o.journal }));
      try {
        let next = from;
        while (n < limit) {
          const page = await qjm.readEdits(next);
          if (page.records.length === 0) break;
          for (const r of page.records) {
            if (n++ >= limit) break;
            emit(r.txid, r.data);
            next = r.txid + 1;
          }
        }
      } finally {
        qjm.close();
      }
    });

  program
    .command('tail')
    .description('follow a journal: committed edits as they are written (Ctrl-C to stop)')
    .requiredOption('--journal <id>', 'journal id')
    .option('--http <nodes>', 'HTTP addresses of the JournalNodes for push (default: poll over gRPC)')
    .option('--from <txid>', 'first txid', '1')
    .option('--limit <n>', 'stop after this many edits')
    .action(async (o: { journal: string; http?: string; from: string; limit?: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const from = Math.max(1, txidOption(o.from, '--from', helpers));
      const limit = o.limit === undefined ? Infinity : txidOption(o.limit, '--limit', helpers);
      const qjm = manager(opts, journalOf(o), o.http);
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.once('SIGINT', onSignal);
      try {
        let n = 0;
        for await (const r of qjm.tail({ from, signal: abort.signal })) {
          console.log(opts.json ? JSON.stringify({ txid: r.txid, data: Buffer.from(r.data).toString('base64') }) : `${r.txid}\t${printableEdit(r.data)}`);
          if (++n >= limit) break;
        }
      } finally {
        process.off('SIGINT', onSignal);
        qjm.close();
      }
    });
}
