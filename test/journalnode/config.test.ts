/**
 * JournalNode configuration: flags, JSON file, validation naming the field, exit code 2.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, parseArgs, readConfigFile, validateConfig, type JournalNodeConfig } from '../../journalnode/config.ts';
import { projectRoot } from '../support/cluster.ts';
import { journalNodeBin } from '../../deploy/launcher.ts';

const run = promisify(execFile);

function config(argv: string[]): JournalNodeConfig {
  const parsed = parseArgs(argv);
  if (parsed.kind !== 'config') throw new Error('expected a configuration');
  return parsed.config;
}

function refusedField(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (error) {
    if (error instanceof ConfigError) return error.field;
    throw error;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

const base = ['--id', 'jn1', '--data', '/tmp/qj-config-test', '--http', '127.0.0.1:0'];
const cluster = '--initial-cluster=jn1=127.0.0.1:7001,jn2=127.0.0.1:7002,jn3=127.0.0.1:7003';

test('journalnode config - flags give a validated configuration with defaults', (t) => {
  const c = config([...base, cluster, '--tick-ms', '50', '--election-ticks', '20']);
  t.is(c.id, 'jn1');
  t.is(c.rpc, '127.0.0.1:7001', 'rpc defaults to this node in the initial cluster');
  t.deepEqual([...c.initialCluster], [
    ['jn1', '127.0.0.1:7001'],
    ['jn2', '127.0.0.1:7002'],
    ['jn3', '127.0.0.1:7003'],
  ]);
  t.false(c.singleNode);
  t.false(c.join);
  t.is(c.tickMs, 50);
  t.is(c.electionTicks, 20);
  t.is(c.groupId, 'journal');
  t.is(c.streamInflightRequestsMax, 64);
  t.is(c.snapshotBytes, 512 * 1024 * 1024);
  t.is(config([...base, cluster, '--snapshot-bytes', String(64 * 1024 * 1024)]).snapshotBytes, 64 * 1024 * 1024);
});

test('journalnode config - rpc may bind a wildcard host on this node port; port 0 only for a single node', (t) => {
  t.is(config([...base, cluster, '--rpc', '0.0.0.0:7001']).rpc, '0.0.0.0:7001');
  t.is(refusedField([...base, cluster, '--rpc', '127.0.0.1:7009']), 'rpc');
  t.is(refusedField([...base, cluster, '--rpc', '127.0.0.1:0']), 'rpc');
  const single = config([...base, '--rpc', '127.0.0.1:0']);
  t.true(single.singleNode);
  t.is(refusedField([...base, '--rpc', '127.0.0.1:0', '--join']), 'initialCluster');
  // A new member joins with the running members' addresses; its own rpc is then required.
  const joining = config(['--id', 'jn4', '--data', '/tmp/x', '--http', '127.0.0.1:0', '--join', '--rpc', '127.0.0.1:7004', cluster]);
  t.true(joining.join);
  t.is(joining.rpc, '127.0.0.1:7004');
  t.is(refusedField(['--id', 'jn4', '--data', '/tmp/x', '--http', '127.0.0.1:0', '--join', cluster]), 'rpc');
});

test('journalnode config - a bad setting is refused naming the field', (t) => {
  t.is(refusedField(['--data', '/tmp/x', '--http', '127.0.0.1:0', cluster]), 'id');
  t.is(refusedField([...base.slice(0, 4), cluster]), 'http');
  t.is(refusedField([...base, '--initial-cluster', 'jn1=127.0.0.1:7001,jn2=nope']), 'initialCluster');
  t.is(refusedField([...base, '--initial-cluster', 'jn2=127.0.0.1:7002']), 'initialCluster');
  t.is(refusedField([...base, '--initial-cluster', 'jn1=127.0.0.1:0']), 'initialCluster');
  t.is(refusedField([...base, '--initial-cluster', 'jn1=0.0.0.0:7001']), 'initialCluster');
  t.is(refusedField([...base, cluster, '--tick-ms', 'fast']), 'tickMs');
  t.is(refusedField([...base, cluster, '--tick-ms', '0']), 'tickMs');
  t.is(refusedField([...base, cluster, '--election-ticks', '1', '--heartbeat-ticks', '1']), 'electionTicks');
  t.is(refusedField([...base, cluster, '--raft-message-bytes-max', '1048576']), 'raftMessageBytesMax');
  t.is(refusedField([...base, cluster, '--snapshot-bytes', '1000']), 'snapshotBytes');
  t.is(refusedField([...base, cluster, '--log-level', 'loud']), 'logLevel');
  t.is(refusedField([...base, cluster, '--no-such-flag']), '--no-such-flag');
  t.is(refusedField([...base, cluster, 'extra']), 'arguments');
});

test('journalnode config - a JSON file, overridden by flags; unknown keys refused', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qj-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'jn.json');
  writeFileSync(file, JSON.stringify({ id: 'jn2', dataDir: dir, http: '127.0.0.1:0', initialCluster: { jn1: '127.0.0.1:7001', jn2: '127.0.0.1:7002' }, tickMs: 20 }));
  const c = config(['--config', file, '--tick-ms', '30']);
  t.is(c.id, 'jn2');
  t.is(c.rpc, '127.0.0.1:7002');
  t.is(c.tickMs, 30);
  t.is(c.dataDir, dir);
  writeFileSync(file, JSON.stringify({ id: 'jn2', dataDir: dir, http: '127.0.0.1:0', rpc: '127.0.0.1:0', tickMS: 20 }));
  t.is(refusedField(['--config', file]), 'tickMS');
  writeFileSync(file, '{ not json');
  t.is(refusedField(['--config', file]), 'config');
  t.is(refusedField(['--config', join(dir, 'missing.json')]), 'config');
});

test('journalnode - a bad configuration exits 2 with a message naming the field', async (t) => {
  const error = await t.throwsAsync(run(journalNodeBin, ['--id', 'jn1', '--data', '/tmp/qj-config-test', '--http', '127.0.0.1:0', '--initial-cluster', 'jn1=127.0.0.1:7001', '--election-ticks', 'many'], { cwd: projectRoot }));
  const failure = error as unknown as { code: number; stderr: string };
  t.is(failure.code, 2);
  t.regex(failure.stderr, /invalid configuration: electionTicks: /);
});

test('journalnode config - the example configurations in deploy/config are valid', (t) => {
  for (const name of ['jn1', 'jn2', 'jn3']) {
    const c = validateConfig(readConfigFile(join(projectRoot, 'deploy', 'config', `${name}.json`)));
    t.is(c.id, name);
    t.is(c.snapshotBytes, 512 * 1024 * 1024);
  }
});
