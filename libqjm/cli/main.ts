/**
 * `qjm`: the operator's command line. Thin: parses arguments with commander, calls the admin
 * client or libqjm, prints text or (`--json`) one JSON document. Exit codes: 0 done, 1 the
 * operation failed, 2 bad arguments.
 */
import { Command, CommanderError, Option } from 'commander';
import { RaftAdminClient, AdminCallError } from '../../raft/admin/client.ts';
import { journalVerbs } from './journal-verbs.ts';

/** A bad argument: exit code 2 with the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const NODE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const ADDRESS = /^[A-Za-z0-9_.-]+:\d{1,5}$/;

/** Parse `host:port,host:port`. */
export function parseCluster(value: string | undefined): string[] {
  if (!value) throw new UsageError('--cluster is required (host:port,host:port,...)');
  const nodes = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const n of nodes) if (!ADDRESS.test(n)) throw new UsageError(`--cluster: '${n}' is not host:port`);
  if (nodes.length === 0) throw new UsageError('--cluster names no node');
  return nodes;
}

/** Parse `id=host:port[,id=host:port...]`. */
export function parsePeers(value: string, what: string): { id: string; address: string }[] {
  const peers = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((item) => {
    const eq = item.indexOf('=');
    const id = item.slice(0, eq);
    const address = item.slice(eq + 1);
    if (eq <= 0 || !NODE_ID.test(id) || !ADDRESS.test(address)) throw new UsageError(`${what}: '${item}' is not ID=HOST:PORT`);
    return { id, address };
  });
  if (peers.length === 0) throw new UsageError(`${what}: no peer given`);
  return peers;
}

function parseTimeout(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--timeout-ms: '${value}' is not a positive integer`);
  return n;
}

interface Output {
  json: boolean;
  print(text: string, value: unknown): void;
}

function output(json: boolean): Output {
  return {
    json,
    print(text, value) {
      console.log(json ? JSON.stringify(value) : text);
    },
  };
}

interface GlobalOptions {
  cluster?: string;
  json?: boolean;
  group?: string;
}

function admin(opts: GlobalOptions): RaftAdminClient {
  return new RaftAdminClient({ nodes: parseCluster(opts.cluster), groupId: opts.group ?? '' });
}

async function withAdmin<T>(opts: GlobalOptions, fn: (client: RaftAdminClient) => Promise<T>): Promise<T> {
  const client = admin(opts);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

function formatConfiguration(c: { voters: string[]; learners: string[]; votersOutgoing: string[] }): string {
  const parts = [`voters: ${c.voters.join(', ') || '-'}`];
  if (c.votersOutgoing.length > 0) parts.push(`outgoing voters (joint): ${c.votersOutgoing.join(', ')}`);
  if (c.learners.length > 0) parts.push(`learners: ${c.learners.join(', ')}`);
  return parts.join('\n');
}

/** Build the command tree; `io` collects the exit code. */
export function buildProgram(io: { code: number }): Command {
  const program = new Command('qjm')
    .description('operate a quorum journal cluster: raft membership, snapshots, journals')
    .addOption(new Option('--cluster <nodes>', 'the JournalNodes, host:port of their rpc ports, comma separated').env('QJM_CLUSTER'))
    .option('--group <id>', 'raft group id (default: the JournalNodes\' group)')
    .option('--json', 'machine-readable output: one JSON document')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('status')
    .description('role, term, leader, commit and applied index, configuration and follower progress of every node')
    .action(async (_o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const out = output(opts.json ?? false);
      const all = await withAdmin(opts, (c) => c.statusAll());
      const lines: string[] = [];
      for (const n of all) {
        if (!n.status) {
          lines.push(`${n.address}: DOWN (${n.error})`);
          continue;
        }
        const s = n.status;
        lines.push(`${n.address} ${s.id}: ${s.role} term=${s.term} leader=${s.leaderId || '-'} commit=${s.commit} applied=${s.applied} last=${s.lastIndex} snapshot=${s.snapshotIndex}`);
        if (s.configuration) lines.push('  ' + formatConfiguration(s.configuration).replace(/\n/g, '\n  '));
        for (const p of s.progress) lines.push(`  ${p.id}: match=${p.match} next=${p.next} ${p.state}${p.learner ? ' learner' : ''}${p.recentActive ? '' : ' inactive'}`);
      }
      out.print(lines.join('\n'), all);
      if (all.every((n) => !n.status)) io.code = 1;
    });

  program
    .command('add-peer <peer>')
    .description('add ID=HOST:PORT: joins as a learner, promoted to voter once caught up')
    .option('--learner', 'stay a learner')
    .option('--timeout-ms <ms>', 'give up after this long', '60000')
    .action(async (peer: string, o: { learner?: boolean; timeoutMs: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const [p] = parsePeers(peer, 'add-peer');
      if (!p || peer.includes(',')) throw new UsageError('add-peer: give exactly one ID=HOST:PORT');
      const timeoutMs = parseTimeout(o.timeoutMs);
      const conf = await withAdmin(opts, (c) => c.addPeer(p.id, p.address, { learner: o.learner ?? false, timeoutMs }));
      output(opts.json ?? false).print(formatConfiguration(conf), conf);
    });

  program
    .command('remove-peer <id>')
    .description('remove a voter or learner')
    .action(async (id: string, _o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      if (!NODE_ID.test(id)) throw new UsageError(`remove-peer: '${id}' is not a node id`);
      const conf = await withAdmin(opts, (c) => c.removePeer(id));
      output(opts.json ?? false).print(formatConfiguration(conf), conf);
    });

  program
    .command('change-peers <peers>')
    .description('make the voters exactly ID=HOST:PORT,... through joint consensus')
    .option('--timeout-ms <ms>', 'give up after this long', '60000')
    .action(async (peers: string, o: { timeoutMs: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const list = parsePeers(peers, 'change-peers');
      const conf = await withAdmin(opts, (c) => c.changePeers(list, parseTimeout(o.timeoutMs)));
      output(opts.json ?? false).print(formatConfiguration(conf), conf);
    });

  program
    .command('reset-peer <peers>')
    .description('UNSAFE recovery when a quorum is lost: force the configuration ID=HOST:PORT,... on the node given by --node')
    .requiredOption('--node <host:port>', 'the surviving node to reset')
    .option('--force', 'confirm: this can lose committed entries and split the group if the old nodes return')
    .action(async (peers: string, o: { node: string; force?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const list = parsePeers(peers, 'reset-peer');
      if (!ADDRESS.test(o.node)) throw new UsageError(`--node: '${o.node}' is not host:port`);
      if (!o.force) throw new UsageError('reset-peer is unsafe: it can lose committed entries and split the group if the old nodes come back. Add --force if the lost nodes are gone for good.');
      const client = new RaftAdminClient({ nodes: [o.node], groupId: opts.group ?? '' });
      try {
        const conf = await client.resetPeer(o.node, list, true);
        output(opts.json ?? false).print(formatConfiguration(conf), conf);
      } finally {
        client.close();
      }
    });

  program
    .command('snapshot')
    .description('take a snapshot now (on --node, or on the leader)')
    .option('--node <host:port>', 'the node to snapshot')
    .action(async (o: { node?: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      if (o.node !== undefined && !ADDRESS.test(o.node)) throw new UsageError(`--node: '${o.node}' is not host:port`);
      const r = await withAdmin(opts, (c) => c.snapshot(o.node));
      output(opts.json ?? false).print(`snapshot at index ${r.index}`, r);
    });

  program
    .command('transfer-leader <id>')
    .description('hand leadership to the voter <id>')
    .option('--timeout-ms <ms>', 'give up after this long', '30000')
    .action(async (id: string, o: { timeoutMs: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      if (!NODE_ID.test(id)) throw new UsageError(`transfer-leader: '${id}' is not a node id`);
      const r = await withAdmin(opts, (c) => c.transferLeader(id, parseTimeout(o.timeoutMs)));
      output(opts.json ?? false).print(`leader is now ${r.leaderId}`, r);
    });

  journalVerbs(program, { UsageError, parseCluster, output });
  return program;
}

/** `qjm` entry point: runs one verb and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const io = { code: 0 };
  const program = buildProgram(io);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return io.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (e.code === 'commander.unknownCommand') {
        // commander already printed its message; keep ours recognizable for scripts
        process.stderr.write(`qjm: unknown verb '${argv[0]}'\n`);
      }
      return 2;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`qjm: ${e.message}\n`);
      return 2;
    }
    if (e instanceof AdminCallError) {
      process.stderr.write(`qjm: ${e.code}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`qjm: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    return 1;
  }
}
