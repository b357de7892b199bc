/**
 * Configuration of a JournalNode, from command-line flags and/or a JSON file (`--config FILE`),
 * validated with zod. Flags override the file. A bad configuration is refused with a
 * {@link ConfigError} that names the field (the `journalnode` command exits 2).
 *
 * Addresses:
 * - `rpc` is the one gRPC port that serves QJournal, the Raft transport and the Raft admin
 *   service. `initialCluster` lists the rpc addresses of every member (this node included,
 *   as peers will reach it). Ports in `initialCluster` must be real (non-zero): they are written
 *   into the Raft log at bootstrap. `rpc` may bind a wildcard host (0.0.0.0, ::) on the port
 *   `initialCluster` gives for this node; when `rpc` is omitted it is that address.
 * - `rpc` port 0 (pick a free port) is allowed only for a single-node cluster without
 *   `initialCluster` (development): the chosen port is then the node's address.
 * - `http` port 0 picks a free port. The chosen ports are printed once listening:
 *   `journalnode: id=jn1 rpc=127.0.0.1:40123 http=127.0.0.1:40124`.
 *
 * `join`: the node is being added to a running cluster (or re-added after its data directory
 * was wiped): it starts empty and waits for the leader (InstallSnapshot) instead of
 * bootstrapping a new cluster. A wiped member must always be restarted with `--join`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import { DEFAULT_SNAPSHOT_BYTES } from '../raft/node.ts';
import { grpcMessageBytesMax } from './protocol/limits.ts';
import { parseHostPort } from '../raft/address.ts';

/** Node ids: as the Raft runtime accepts them. */
export const nodeIdPattern = /^[A-Za-z0-9_.-]{1,64}$/;

/** Raft group ids: same alphabet as node ids. */
export const groupIdPattern = /^[A-Za-z0-9_.-]{1,64}$/;

/** Smallest Raft message limit: one full journal batch with its command and message headers. */
export const raftMessageBytesMin = grpcMessageBytesMax + 1024 * 1024;

/** Most members in `initialCluster`. */
export const initialClusterMembersMax = 64;

/** A refused configuration: `field` names the offending setting (as in the JSON file). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

export { formatHostPort, parseHostPort, type HostPort } from '../raft/address.ts';

/** True for hosts that bind every interface. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

const address = (portZero: boolean) =>
  z.string().refine((value) => {
    const hp = parseHostPort(value);
    return hp !== undefined && (portZero || hp.port > 0);
  }, portZero ? 'expected host:port (port 0 picks a free port)' : 'expected host:port with a non-zero port');

const positiveInt = (max: number) => z.int().min(1).max(max);

/** The raw, user-facing settings (the JSON file's keys; flags map onto them). */
const settingsSchema = z.strictObject({
  id: z.string().regex(nodeIdPattern, 'expected 1 to 64 characters from [A-Za-z0-9_.-]'),
  dataDir: z.string().min(1, 'expected a directory'),
  rpc: address(true).optional(),
  http: address(true),
  initialCluster: z.union([z.string(), z.record(z.string(), z.string())]).optional(),
  join: z.boolean().default(false),
  groupId: z.string().regex(groupIdPattern, 'expected 1 to 64 characters from [A-Za-z0-9_.-]').default('journal'),
  /** Raft tick period in milliseconds. */
  tickMs: positiveInt(10_000).default(100),
  /** Election timeout in ticks (randomized in [electionTicks, 2 * electionTicks)). */
  electionTicks: positiveInt(1000).default(10),
  heartbeatTicks: positiveInt(1000).default(1),
  /** Take a Raft snapshot once this many entries were applied since the last one. */
  snapshotEntries: positiveInt(100_000_000).default(100_000),
  /**
   * Take a Raft snapshot once this many entry bytes were applied since the last one. The log
   * since the last snapshot is held in memory, so this bounds most of a node's memory.
   */
  snapshotBytes: z
    .int()
    .min(1024 * 1024)
    .max(64 * 1024 * 1024 * 1024)
    .default(DEFAULT_SNAPSHOT_BYTES),
  /**
   * Size of a Raft WAL file. Compacted files are reused for the next ones (raft/storage/wal.ts);
   * small values make files roll and be reused often (the chaos run uses 1 MiB).
   */
  walSegmentBytes: z
    .int()
    .min(1024 * 1024)
    .max(1024 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  /** Entries kept in the Raft log below a snapshot, for slow followers. */
  snapshotKeepEntries: z.int().min(0).max(100_000_000).default(10_000),
  /** Largest Raft message (gRPC limit both ways), bytes. Must hold a full journal batch. */
  raftMessageBytesMax: positiveInt(256 * 1024 * 1024).default(16 * 1024 * 1024),
  /** Proposals are refused once this many bytes are proposed but not committed. */
  uncommittedBytesMax: positiveInt(4 * 1024 * 1024 * 1024).default(256 * 1024 * 1024),
  /** A proposal not applied within this time is answered UNAVAILABLE (retryable). */
  proposalTimeoutMs: positiveInt(10 * 60_000).default(10_000),
  /** JournalStream: most requests in flight per stream before the server stops reading it. */
  streamInflightRequestsMax: positiveInt(100_000).default(64),
  /** JournalStream: most record bytes in flight per stream before the server stops reading it. */
  streamInflightBytesMax: positiveInt(4 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  /** WebSocket tail: stop sending to a subscriber while its buffered bytes exceed this. */
  tailBufferedBytesHighWater: positiveInt(1024 * 1024 * 1024).default(8 * 1024 * 1024),
  /** WebSocket tail: drop a subscriber that stays above the high water this long. */
  tailStallTimeoutMs: positiveInt(10 * 60_000).default(30_000),
  /** WebSocket tail: most subscribers at once. */
  tailSubscribersMax: positiveInt(100_000).default(1024),
  /** Stop when the launching process dies (its pid is checked every second): for launchers and tests. */
  exitWithParent: z.boolean().default(false),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

type Settings = z.infer<typeof settingsSchema>;

/** A validated configuration. Durations in milliseconds unless named in ticks. */
export interface JournalNodeConfig extends Omit<Settings, 'initialCluster' | 'rpc'> {
  /** Absolute. The node owns `<dataDir>/raft` and `<dataDir>/journals*`. */
  readonly dataDir: string;
  /** Address the gRPC server binds. */
  readonly rpc: string;
  /** Members and their rpc addresses (this node included unless joining without it). */
  readonly initialCluster: ReadonlyMap<string, string>;
  /**
   * True when `initialCluster` was not given: a single-node cluster whose address is the
   * bound rpc address (port 0 allowed).
   */
  readonly singleNode: boolean;
}

/** Parse `id=host:port,id=host:port`. Throws ConfigError('initialCluster'). */
export function parseInitialCluster(value: string | Record<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  const pairs: [string, string][] = [];
  if (typeof value === 'string') {
    for (const part of value.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
      const at = part.indexOf('=');
      if (at <= 0) throw new ConfigError('initialCluster', `'${part}' is not ID=HOST:PORT`);
      pairs.push([part.slice(0, at), part.slice(at + 1)]);
    }
  } else {
    pairs.push(...Object.entries(value));
  }
  if (pairs.length === 0) throw new ConfigError('initialCluster', 'names no member');
  if (pairs.length > initialClusterMembersMax) throw new ConfigError('initialCluster', `more than ${initialClusterMembersMax} members`);
  for (const [id, addr] of pairs) {
    if (!nodeIdPattern.test(id)) throw new ConfigError('initialCluster', `invalid node id '${id}'`);
    const hp = parseHostPort(addr);
    if (hp === undefined || hp.port === 0) throw new ConfigError('initialCluster', `'${addr}' (${id}) is not host:port with a non-zero port`);
    if (isWildcardHost(hp.host)) throw new ConfigError('initialCluster', `'${addr}' (${id}) is a wildcard address; peers need a reachable one`);
    if (out.has(id)) throw new ConfigError('initialCluster', `node id '${id}' twice`);
    out.set(id, addr);
  }
  return out;
}

/** Validate raw settings (from a file and/or flags). Throws ConfigError naming the field. */
export function validateConfig(raw: unknown): JournalNodeConfig {
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : 'config';
    const message = issue.code === 'unrecognized_keys' ? `unknown setting(s) ${issue.keys.join(', ')}` : issue.message;
    throw new ConfigError(issue.code === 'unrecognized_keys' ? issue.keys[0] ?? field : field, message);
  }
  const s = parsed.data;
  if (s.electionTicks <= s.heartbeatTicks) throw new ConfigError('electionTicks', `must exceed heartbeatTicks (${s.heartbeatTicks})`);
  if (s.raftMessageBytesMax < raftMessageBytesMin) {
    // The core packs up to raftMessageBytesMax / 2 of entries per message but always sends at
    // least one entry: one full journal batch must fit in one gRPC message.
    throw new ConfigError('raftMessageBytesMax', `must be at least ${raftMessageBytesMin} (a full journal batch plus headers)`);
  }
  if (s.uncommittedBytesMax < raftMessageBytesMin) {
    throw new ConfigError('uncommittedBytesMax', `must be at least ${raftMessageBytesMin} (a full journal batch plus headers)`);
  }
  let initialCluster: Map<string, string>;
  let rpc: string;
  let singleNode = false;
  if (s.initialCluster === undefined) {
    if (s.join) throw new ConfigError('initialCluster', 'required with join (the addresses of the running members)');
    if (s.rpc === undefined) throw new ConfigError('rpc', 'required (or give initialCluster)');
    rpc = s.rpc;
    singleNode = true;
    initialCluster = new Map([[s.id, rpc]]);
  } else {
    initialCluster = parseInitialCluster(s.initialCluster);
    const self = initialCluster.get(s.id);
    if (self === undefined && !s.join) throw new ConfigError('initialCluster', `does not name this node (${s.id})`);
    if (s.rpc === undefined) {
      if (self === undefined) throw new ConfigError('rpc', 'required when initialCluster does not name this node');
      rpc = self;
    } else {
      rpc = s.rpc;
      const bind = parseHostPort(rpc)!;
      if (bind.port === 0) throw new ConfigError('rpc', 'port 0 is only allowed for a single node without initialCluster');
      if (self !== undefined) {
        const advertised = parseHostPort(self)!;
        if (advertised.port !== bind.port || (!isWildcardHost(bind.host) && bind.host !== advertised.host)) {
          throw new ConfigError('rpc', `'${rpc}' does not match this node's address in initialCluster ('${self}')`);
        }
      }
    }
  }
  return { ...s, dataDir: resolve(s.dataDir), rpc, initialCluster, singleNode };
}

/** Flags: name, JSON key, kind. Numbers are parsed strictly (decimal integers only). */
const flags: readonly { flag: string; key: keyof Settings | 'config'; kind: 'string' | 'int' | 'boolean'; help: string }[] = [
  { flag: 'config', key: 'config', kind: 'string', help: 'JSON file with the settings (flags override it)' },
  { flag: 'id', key: 'id', kind: 'string', help: 'this node id' },
  { flag: 'data', key: 'dataDir', kind: 'string', help: 'data directory' },
  { flag: 'rpc', key: 'rpc', kind: 'string', help: 'gRPC HOST:PORT (QJournal, raft transport, raft admin)' },
  { flag: 'http', key: 'http', kind: 'string', help: 'HTTP and WebSocket HOST:PORT (port 0: any free port)' },
  { flag: 'initial-cluster', key: 'initialCluster', kind: 'string', help: 'ID=HOST:PORT,... rpc addresses of the members' },
  { flag: 'join', key: 'join', kind: 'boolean', help: 'join a running cluster (a new or wiped node): never bootstrap' },
  { flag: 'group-id', key: 'groupId', kind: 'string', help: 'raft group id (default journal)' },
  { flag: 'tick-ms', key: 'tickMs', kind: 'int', help: 'raft tick period, ms (default 100)' },
  { flag: 'election-ticks', key: 'electionTicks', kind: 'int', help: 'election timeout in ticks (default 10)' },
  { flag: 'heartbeat-ticks', key: 'heartbeatTicks', kind: 'int', help: 'heartbeat period in ticks (default 1)' },
  { flag: 'snapshot-entries', key: 'snapshotEntries', kind: 'int', help: 'snapshot every N applied entries (default 100000)' },
  { flag: 'snapshot-bytes', key: 'snapshotBytes', kind: 'int', help: 'snapshot every N applied entry bytes, held in memory until then (default 512 MiB)' },
  { flag: 'wal-segment-bytes', key: 'walSegmentBytes', kind: 'int', help: 'size of a raft WAL file, bytes (default 64 MiB)' },
  { flag: 'snapshot-keep-entries', key: 'snapshotKeepEntries', kind: 'int', help: 'log entries kept below a snapshot (default 10000)' },
  { flag: 'raft-message-bytes-max', key: 'raftMessageBytesMax', kind: 'int', help: 'largest raft message, bytes (default 16 MiB)' },
  { flag: 'uncommitted-bytes-max', key: 'uncommittedBytesMax', kind: 'int', help: 'uncommitted proposal bytes before refusing (default 256 MiB)' },
  { flag: 'proposal-timeout-ms', key: 'proposalTimeoutMs', kind: 'int', help: 'answer UNAVAILABLE after this long (default 10000)' },
  { flag: 'stream-inflight-requests-max', key: 'streamInflightRequestsMax', kind: 'int', help: 'JournalStream requests in flight (default 64)' },
  { flag: 'stream-inflight-bytes-max', key: 'streamInflightBytesMax', kind: 'int', help: 'JournalStream bytes in flight (default 64 MiB)' },
  { flag: 'tail-buffered-bytes-high-water', key: 'tailBufferedBytesHighWater', kind: 'int', help: 'ws tail: pause above this (default 8 MiB)' },
  { flag: 'tail-stall-timeout-ms', key: 'tailStallTimeoutMs', kind: 'int', help: 'ws tail: drop a subscriber stalled this long (default 30000)' },
  { flag: 'tail-subscribers-max', key: 'tailSubscribersMax', kind: 'int', help: 'ws tail: most subscribers (default 1024)' },
  { flag: 'exit-with-parent', key: 'exitWithParent', kind: 'boolean', help: 'stop when the launching process dies' },
  { flag: 'log-level', key: 'logLevel', kind: 'string', help: 'fatal|error|warn|info|debug|trace|silent (default info)' },
];

/** What `parseArgs` found: a configuration, or a request for help. */
export type ParsedArgs = { readonly kind: 'config'; readonly config: JournalNodeConfig } | { readonly kind: 'help'; readonly text: string };

/**
 * Parse `argv` (without the node and script names) into a validated configuration.
 * Throws ConfigError naming the field (or the flag) for anything wrong.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const program = new Command('journalnode')
    .description('A JournalNode of the quorum journal (a Raft group member).')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .allowExcessArguments(false)
    .helpOption('-h, --help', 'show this help');
  for (const f of flags) {
    const option = f.kind === 'boolean' ? new Option(`--${f.flag}`, f.help) : new Option(`--${f.flag} <value>`, f.help);
    program.addOption(option);
  }
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') return { kind: 'help', text: program.helpInformation() };
      const flag = /'(--?[A-Za-z-]+)/.exec(error.message)?.[1];
      const known = flag === undefined ? undefined : flags.find((f) => `--${f.flag}` === flag);
      throw new ConfigError(known?.key ?? flag ?? 'arguments', error.message.replace(/^error: /, ''), { cause: error });
    }
    throw error;
  }
  const options = program.opts<Record<string, string | boolean | undefined>>();
  let raw: Record<string, unknown> = {};
  const configPath = options['config'];
  if (typeof configPath === 'string') raw = readConfigFile(configPath);
  for (const f of flags) {
    if (f.key === 'config') continue;
    const value = options[camel(f.flag)];
    if (value === undefined) continue;
    if (f.kind === 'int') {
      if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) throw new ConfigError(f.key, `'${String(value)}' is not a non-negative integer (--${f.flag})`);
      raw[f.key] = Number(value);
    } else {
      raw[f.key] = value;
    }
  }
  return { kind: 'config', config: validateConfig(raw) };
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Read a JSON configuration file. Throws ConfigError('config'). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('config', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('config', `${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError('config', `${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}
