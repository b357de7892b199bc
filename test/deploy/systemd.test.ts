/**
 * The production files of deploy/: the systemd units are parsed (and checked by
 * `systemd-analyze verify` when it is installed), and their ExecStart command lines are run with
 * the install paths substituted, on the example configurations with loopback addresses: three
 * JournalNodes, the journal formatted with `qjm format` as deploy/README.md says, two masters;
 * one becomes active and takes a write; every process stops cleanly on the unit's KillSignal.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../deploy/launcher.ts';
import { spawnChild } from '../support/child.ts';
import type { Child } from '../support/child.ts';
import { freePorts } from '../support/ports.ts';
import { waitFor } from '../support/wait.ts';

/** A parsed unit file: section -> key -> values (a key may repeat). */
type Unit = Map<string, Map<string, string[]>>;

/** Parse a systemd unit file (comments, sections, `key=value`, backslash continuations). */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header !== null) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (section === undefined || eq <= 0) throw new Error(`not a unit file line: '${line}'`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** Split a command line as systemd does (whitespace, double and single quotes); drop the `-@:+!` prefixes. */
function splitCommand(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3]!);
  if (words.length > 0) words[0] = words[0]!.replace(/^[-@:+!]+/, '');
  return words;
}

/** Expand the specifiers the units use. */
function expandSpecifiers(value: string, instance: string): string {
  return value.replace(/%%|%i|%I/g, (s) => (s === '%%' ? '%' : instance));
}

function one(unit: Unit, section: string, key: string): string {
  const values = unit.get(section)?.get(key);
  if (values === undefined || values.length !== 1) throw new Error(`[${section}] ${key}: expected exactly one value, found ${JSON.stringify(values)}`);
  return values[0]!;
}

const unitsDir = join(projectRoot, 'deploy', 'systemd');
const configDir = join(projectRoot, 'deploy', 'config');

test('deploy systemd - the units parse, say how to run and stop, and pass systemd-analyze verify', (t) => {
  for (const name of ['journalnode@.service', 'metadata-master@.service']) {
    const unit = parseUnit(readFileSync(join(unitsDir, name), 'utf8'));
    t.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install'], name);
    t.is(one(unit, 'Service', 'Type'), 'simple');
    t.is(one(unit, 'Service', 'KillSignal'), 'SIGTERM');
    t.is(one(unit, 'Service', 'Restart'), 'on-failure');
    t.is(one(unit, 'Service', 'RestartPreventExitStatus'), '2', 'a bad configuration is not restarted');
    t.is(one(unit, 'Service', 'WorkingDirectory'), '/opt/quorum-journal');
    t.regex(one(unit, 'Service', 'ExecStart'), /--config \/etc\/quorum-journal\/%i\.json$/);
    t.is(one(unit, 'Install', 'WantedBy'), 'multi-user.target');
  }
  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (analyze.status !== 0) {
    t.log('systemd-analyze is not installed: verify skipped');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'qj-units-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [template, instance] of [['journalnode@.service', 'journalnode@jn1.service'], ['metadata-master@.service', 'metadata-master@m1.service']] as const) {
    copyFileSync(join(unitsDir, template), join(dir, template));
    copyFileSync(join(unitsDir, template), join(dir, instance));
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, instance)], { encoding: 'utf8', timeout: 30_000 });
    t.is(verify.status, 0, `systemd-analyze verify ${instance}: ${verify.stdout}${verify.stderr}`);
  }
});

test('deploy systemd - the ExecStart lines run the example configurations: 3 JournalNodes and 2 masters start, serve and stop cleanly', async (t) => {
  t.timeout(150_000);
  const root = mkdtempSync(join(tmpdir(), 'qj-systemd-'));
  t.log(`root: ${root}`);
  const etc = join(root, 'etc');
  mkdirSync(etc);
  const children: Child[] = [];
  t.teardown(async () => {
    await Promise.all(children.map((child) => child.kill('SIGKILL')));
    if (t.passed) rmSync(root, { recursive: true, force: true });
  });

  // The example configurations, on loopback ports and a temporary state directory.
  const ports = await freePorts(3 * 2 + 2);
  const rpc = (k: number): string => `127.0.0.1:${ports[2 * (k - 1)]}`;
  const http = (k: number): string => `127.0.0.1:${ports[2 * (k - 1) + 1]}`;
  const loopback = (address: string): string => {
    const m = /^jn(\d)\.example\.internal:(8485|8480)$/.exec(address);
    if (m === null) throw new Error(`unexpected address in an example configuration: ${address}`);
    return m[2] === '8485' ? rpc(Number(m[1])) : http(Number(m[1]));
  };
  for (const k of [1, 2, 3]) {
    const config = JSON.parse(readFileSync(join(configDir, `jn${k}.json`), 'utf8')) as Record<string, unknown>;
    t.is(config['id'], `jn${k}`);
    t.is(config['dataDir'], `/var/lib/quorum-journal/jn${k}`, 'state under the unit\'s StateDirectory');
    const cluster = config['initialCluster'] as Record<string, string>;
    writeFileSync(join(etc, `jn${k}.json`), JSON.stringify({
      ...config,
      dataDir: join(root, 'var', `jn${k}`),
      rpc: rpc(k),
      http: http(k),
      initialCluster: Object.fromEntries(Object.entries(cluster).map(([id, address]) => [id, loopback(address)])),
    }));
  }
  for (const k of [1, 2]) {
    const config = JSON.parse(readFileSync(join(configDir, `m${k}.json`), 'utf8')) as Record<string, unknown>;
    t.is(config['id'], `m${k}`);
    const address = `127.0.0.1:${ports[6 + k - 1]}`;
    writeFileSync(join(etc, `m${k}.json`), JSON.stringify({
      ...config,
      http: address,
      advertise: address,
      journalNodes: (config['journalNodes'] as string[]).map(loopback),
      journalHttp: (config['journalHttp'] as string[]).map(loopback),
    }));
  }

  /** Run a unit's ExecStart for `instance` with the install paths substituted. */
  const runUnit = (name: string, instance: string): Child => {
    const unit = parseUnit(readFileSync(join(unitsDir, name), 'utf8'));
    const substitute = (value: string): string =>
      expandSpecifiers(value, instance).replaceAll('/opt/quorum-journal', projectRoot).replaceAll('/etc/quorum-journal', etc).replace(/^\/usr\/bin\/node$/, process.execPath);
    const [command, ...args] = splitCommand(one(unit, 'Service', 'ExecStart')).map(substitute);
    const env: Record<string, string> = {};
    for (const assignment of unit.get('Service')?.get('Environment') ?? []) {
      for (const word of splitCommand(assignment)) {
        const eq = word.indexOf('=');
        env[word.slice(0, eq)] = word.slice(eq + 1);
      }
    }
    t.true(existsSync(command!), `${name}: ${command} exists`);
    const child = spawnChild(command!, args, { cwd: substitute(one(unit, 'Service', 'WorkingDirectory')), env: { ...process.env, ...env } });
    children.push(child);
    return child;
  };

  const journalNodes = [1, 2, 3].map((k) => runUnit('journalnode@.service', `jn${k}`));
  await Promise.all(journalNodes.map((child) => child.waitForLine(/^journalnode: id=jn\d rpc=\S+ http=\S+$/, 60_000)));
  await waitFor(
    async () => {
      const roles = await Promise.all([1, 2, 3].map((k) => fetch(`http://${http(k)}/status`).then(async (r) => ((await r.json()) as { raft: { role: string } }).raft.role, () => 'down')));
      return roles.includes('leader');
    },
    { timeoutMs: 30_000, what: 'a JournalNode leader' },
  );

  // As deploy/README.md says: format the journal once, before the first master starts.
  const master1 = JSON.parse(readFileSync(join(configDir, 'm1.json'), 'utf8')) as { journalId: string };
  const format = spawnSync(process.execPath, [join(projectRoot, 'bin', 'qjm'), '--cluster', [1, 2, 3].map(rpc).join(','), 'format', '--journal', master1.journalId, '--ns-id', 'prod-namespace', '--cluster-id', 'prod'], { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 });
  t.is(format.status, 0, `qjm format: ${format.stdout}${format.stderr}`);

  const masters = [1, 2].map((k) => runUnit('metadata-master@.service', `m${k}`));
  await Promise.all(masters.map((child, i) => child.waitForLine(new RegExp(`^metadata-master: id=m${i + 1} http=127\\.0\\.0\\.1:${ports[6 + i]}$`), 60_000)));
  const active = await waitFor(
    async () => {
      const roles = await Promise.all([0, 1].map((i) => fetch(`http://127.0.0.1:${ports[6 + i]}/status`).then(async (r) => ((await r.json()) as { role: string }).role, () => 'down')));
      const index = roles.indexOf('active');
      return index < 0 ? undefined : index + 1;
    },
    { timeoutMs: 60_000, what: 'an active master' },
  );
  const written = await fetch(`http://127.0.0.1:${ports[6 + active - 1]}/mkdir`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: '/from-systemd', parents: true }) });
  t.is(written.status, 200);

  // systemctl stop: the unit's KillSignal, then the exit status (TimeoutStopSec bounds the wait).
  for (const [name, group] of [['metadata-master@.service', masters], ['journalnode@.service', journalNodes]] as const) {
    const unit = parseUnit(readFileSync(join(unitsDir, name), 'utf8'));
    const signal = one(unit, 'Service', 'KillSignal') as NodeJS.Signals;
    const timeoutMs = Number(one(unit, 'Service', 'TimeoutStopSec')) * 1000;
    for (const child of group) child.process.kill(signal);
    const exits = await Promise.all(group.map((child) => Promise.race([child.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref())])));
    for (const [i, exit] of exits.entries()) t.deepEqual(exit, { code: 0, signal: null }, `${name} instance ${i + 1}: ${group[i]!.output().slice(-1500)}`);
  }
});
