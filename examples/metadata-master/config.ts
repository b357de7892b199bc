/**
 * Configuration of a metadata master, from flags and/or a JSON file (`--config FILE`, the same
 * keys in camelCase), validated with zod. Flags override the file. A bad configuration is
 * refused with a {@link MasterConfigError} naming the setting (the command exits 2).
 *
 * ```
 * --id m1 --http 127.0.0.1:0 --journal-nodes h1:8485,h2:8485,h3:8485
 *   [--journal-http h1:8480,...] [--election journal | etcd://HOST:PORT[,HOST:PORT]]
 *   [--advertise HOST:PORT] [--journal-id namespace] [--lease-ttl-ms 3000]
 *   [--segment-edits 1000] [--format] [--exit-with-parent] [--log-level info]
 * ```
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import type { ElectionChoice } from './master.ts';

/** A refused configuration; `field` names the setting (its JSON key). */
export class MasterConfigError extends Error {
  override readonly name = 'MasterConfigError';
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

/** A validated configuration. */
export interface MasterConfig {
  readonly id: string;
  /** host:port to bind (port 0: any free port). */
  readonly http: string;
  /** host:port clients and the other master are told (default: the bound address). */
  readonly advertise: string | undefined;
  readonly journalNodes: readonly string[];
  readonly journalHttp: readonly string[];
  readonly journalId: string;
  readonly election: ElectionChoice;
  readonly segmentEdits: number;
  readonly format: boolean;
  readonly exitWithParent: boolean;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

const hostPort = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/;

const addressList = z.union([z.string(), z.array(z.string())]).transform((value, context) => {
  const items = (Array.isArray(value) ? value : value.split(',')).map((item) => item.trim()).filter((item) => item.length > 0);
  for (const item of items) {
    if (!hostPort.test(item)) context.addIssue({ code: 'custom', message: `'${item}' is not host:port` });
  }
  return items;
});

const settingsSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1 to 64 characters from [A-Za-z0-9_.-]'),
  http: z.string().regex(hostPort, 'expected host:port (port 0 picks a free port)'),
  advertise: z.string().regex(hostPort, 'expected host:port').optional(),
  journalNodes: addressList.refine((list) => list.length > 0, 'expected at least one JournalNode rpc address'),
  journalHttp: addressList.default([]),
  journalId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1 to 64 characters from [A-Za-z0-9_-]').default('namespace'),
  election: z.string().default('journal'),
  /** Lease time to live, ms: the embedded election's lease, or etcd's (rounded up to seconds). */
  leaseTtlMs: z.int().min(1000).max(600_000).default(3_000),
  segmentEdits: z.int().min(1).max(10_000_000).default(1_000),
  format: z.boolean().default(false),
  exitWithParent: z.boolean().default(false),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

type Settings = z.input<typeof settingsSchema>;

/** Parse `--election`: `journal` (embedded) or `etcd://HOST:PORT[,HOST:PORT...]` (pure). */
export function parseElection(value: string, leaseTtlMs: number): ElectionChoice {
  if (value === 'journal') return { kind: 'journal', ttlMs: leaseTtlMs };
  const m = /^etcd:\/\/(.+)$/.exec(value);
  if (m === null) throw new MasterConfigError('election', `'${value}' is neither 'journal' nor etcd://HOST:PORT[,HOST:PORT]`);
  const hosts = m[1]!.split(',').map((item) => item.trim());
  for (const host of hosts) {
    if (!hostPort.test(host)) throw new MasterConfigError('election', `'${host}' is not host:port`);
  }
  return { kind: 'etcd', endpoints: hosts.map((host) => `http://${host}`), ttlSeconds: Math.max(1, Math.ceil(leaseTtlMs / 1000)) };
}

/** Validate raw settings (from a file and/or flags). Throws MasterConfigError. */
export function validateMasterConfig(raw: unknown): MasterConfig {
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw new MasterConfigError(issue.keys[0] ?? 'config', `unknown setting(s) ${issue.keys.join(', ')}`);
    throw new MasterConfigError(issue.path.length > 0 ? issue.path.map(String).join('.') : 'config', issue.message);
  }
  const s = parsed.data;
  return {
    id: s.id,
    http: s.http,
    advertise: s.advertise,
    journalNodes: s.journalNodes,
    journalHttp: s.journalHttp,
    journalId: s.journalId,
    election: parseElection(s.election, s.leaseTtlMs),
    segmentEdits: s.segmentEdits,
    format: s.format,
    exitWithParent: s.exitWithParent,
    logLevel: s.logLevel,
  };
}

const flags: readonly { flag: string; key: keyof Settings; kind: 'string' | 'int' | 'boolean'; help: string }[] = [
  { flag: 'id', key: 'id', kind: 'string', help: 'this master id' },
  { flag: 'http', key: 'http', kind: 'string', help: 'HTTP API HOST:PORT to bind (port 0: any free port)' },
  { flag: 'advertise', key: 'advertise', kind: 'string', help: 'HOST:PORT clients are sent to (default: the bound address)' },
  { flag: 'journal-nodes', key: 'journalNodes', kind: 'string', help: 'JournalNode rpc addresses, HOST:PORT,...' },
  { flag: 'journal-http', key: 'journalHttp', kind: 'string', help: 'JournalNode HTTP addresses, HOST:PORT,... (WebSocket tail)' },
  { flag: 'journal-id', key: 'journalId', kind: 'string', help: 'the journal (default namespace)' },
  { flag: 'election', key: 'election', kind: 'string', help: 'journal (embedded, default) or etcd://HOST:PORT[,HOST:PORT]' },
  { flag: 'lease-ttl-ms', key: 'leaseTtlMs', kind: 'int', help: 'election lease time to live, ms (default 3000)' },
  { flag: 'segment-edits', key: 'segmentEdits', kind: 'int', help: 'roll the segment every N edits (default 1000)' },
  { flag: 'format', key: 'format', kind: 'boolean', help: 'format the journal if it is not formatted yet' },
  { flag: 'exit-with-parent', key: 'exitWithParent', kind: 'boolean', help: 'stop when the launching process dies' },
  { flag: 'log-level', key: 'logLevel', kind: 'string', help: 'fatal|error|warn|info|debug|trace|silent (default info)' },
];

/** What {@link parseMasterArgs} found. */
export type ParsedMasterArgs = { readonly kind: 'config'; readonly config: MasterConfig } | { readonly kind: 'help'; readonly text: string };

/** Parse `argv` (without node and script) into a validated configuration. */
export function parseMasterArgs(argv: readonly string[]): ParsedMasterArgs {
  const program = new Command('metadata-master')
    .description('A metadata master of the example: a namespace whose every mutation is logged to the quorum journal.')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .allowExcessArguments(false)
    .helpOption('-h, --help', 'show this help')
    .addOption(new Option('--config <file>', 'JSON file with the settings (flags override it)'));
  for (const f of flags) program.addOption(f.kind === 'boolean' ? new Option(`--${f.flag}`, f.help) : new Option(`--${f.flag} <value>`, f.help));
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') return { kind: 'help', text: program.helpInformation() };
      throw new MasterConfigError('arguments', error.message.replace(/^error: /, ''), { cause: error });
    }
    throw error;
  }
  const options = program.opts<Record<string, string | boolean | undefined>>();
  const raw: Record<string, unknown> = typeof options['config'] === 'string' ? readMasterConfigFile(options['config']) : {};
  for (const f of flags) {
    const value = options[f.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
    if (value === undefined) continue;
    if (f.kind === 'int') {
      if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) throw new MasterConfigError(f.key, `'${String(value)}' is not a non-negative integer (--${f.flag})`);
      raw[f.key] = Number(value);
    } else {
      raw[f.key] = value;
    }
  }
  return { kind: 'config', config: validateMasterConfig(raw) };
}

/** Read a JSON configuration file. Throws MasterConfigError('config'). */
export function readMasterConfigFile(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new MasterConfigError('config', `cannot read ${path} as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MasterConfigError('config', `${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}
