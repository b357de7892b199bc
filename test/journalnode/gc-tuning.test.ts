import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { journalNodeArgs, journalNodeBin, journalNodeProcessEnv, projectRoot } from '../../deploy/launcher.ts';
import { freePort } from '../../deploy/ports.ts';
import { HEAP_GROWING_PERCENT, JOURNALNODE_MALLOC_TUNABLES, journalNodeEnv, JOURNALNODE_NODE_FLAGS, mallocTuned, onGlibc } from '../../journalnode/gc-tuning.ts';
import { spawnChild } from '../support/child.ts';

function tuneIn(nodeFlags: readonly string[]): string {
  const script = "const { tuneGarbageCollector } = await import('./journalnode/gc-tuning.ts'); console.log(String(tuneGarbageCollector()));";
  return execFileSync(process.execPath, [...nodeFlags, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: projectRoot, encoding: 'utf8' }).trim();
}

test('gc tuning - a JournalNode process grows its heap by a factor of 4 before a full collection', (t) => {
  t.is(tuneIn([]), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
});

test('gc tuning - a growing factor given on the node command line is left alone', (t) => {
  t.is(tuneIn(['--heap-growing-percent=50']), 'undefined');
});

test('gc tuning - every way of starting a JournalNode passes the node flags', (t) => {
  const shebang = readFileSync(join(projectRoot, 'bin', 'journalnode'), 'utf8').split('\n', 1)[0]!;
  const unit = readFileSync(join(projectRoot, 'deploy', 'systemd', 'journalnode@.service'), 'utf8');
  const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
  t.true(JOURNALNODE_NODE_FLAGS.length > 0);
  for (const flag of JOURNALNODE_NODE_FLAGS) {
    t.true(shebang.includes(` ${flag}`), `bin/journalnode's #! line lacks ${flag}`);
    t.true(execStart.includes(` ${flag} `), `the systemd unit's ExecStart lacks ${flag}`);
  }
  // The launchers in TypeScript (deploy/, chaos/, the test cluster) build their arguments with journalNodeArgs.
  t.deepEqual(journalNodeArgs(['--id', 'jn1']), [...JOURNALNODE_NODE_FLAGS, journalNodeBin, '--id', 'jn1']);
  for (const file of ['test/support/cluster.ts', 'deploy/launcher.ts', 'chaos/cluster.ts', 'test/deploy/operations.test.ts']) {
    t.true(readFileSync(join(projectRoot, file), 'utf8').includes('journalNodeArgs('), file);
  }
});

test('malloc tuning - the settings come first and an operator\'s own GLIBC_TUNABLES after them (the last value wins)', (t) => {
  t.deepEqual(journalNodeEnv({}), { GLIBC_TUNABLES: JOURNALNODE_MALLOC_TUNABLES });
  t.deepEqual(journalNodeEnv({ GLIBC_TUNABLES: '' }), { GLIBC_TUNABLES: JOURNALNODE_MALLOC_TUNABLES });
  t.deepEqual(journalNodeEnv({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1' }), { GLIBC_TUNABLES: `${JOURNALNODE_MALLOC_TUNABLES}:glibc.malloc.trim_threshold=1` });
  t.true(mallocTuned(journalNodeEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })));
  t.false(mallocTuned({}));
  t.false(mallocTuned({ GLIBC_TUNABLES: JOURNALNODE_MALLOC_TUNABLES.split(':')[0]! }));
  t.is(journalNodeProcessEnv({ GLIBC_TUNABLES: 'x=1', OTHER: 'y' })['OTHER'], 'y');
  t.is(journalNodeProcessEnv({ GLIBC_TUNABLES: 'x=1' })['GLIBC_TUNABLES'], 'x=1', 'a launcher\'s explicit value is kept');
});

test('malloc tuning - every way of starting a JournalNode sets GLIBC_TUNABLES', (t) => {
  const shebang = readFileSync(join(projectRoot, 'bin', 'journalnode'), 'utf8').split('\n', 1)[0]!;
  t.true(shebang.includes(` GLIBC_TUNABLES=${JOURNALNODE_MALLOC_TUNABLES}:\${GLIBC_TUNABLES} `), shebang);
  for (const name of ['journalnode@.service', 'metadata-master@.service']) {
    const unit = readFileSync(join(projectRoot, 'deploy', 'systemd', name), 'utf8');
    t.regex(unit, new RegExp(`^Environment=GLIBC_TUNABLES=${JOURNALNODE_MALLOC_TUNABLES.replaceAll('.', '\\.')}$`, 'm'), name);
  }
  for (const file of ['test/support/cluster.ts', 'deploy/launcher.ts', 'chaos/cluster.ts', 'test/deploy/operations.test.ts']) {
    t.true(readFileSync(join(projectRoot, file), 'utf8').includes('journalNodeProcessEnv('), file);
  }
});

const glibc = onGlibc();

test('malloc tuning - bin/journalnode\'s #! line hands the settings, and the caller\'s own, to node', (t) => {
  // The same #! line on a script that prints what node received.
  const shebang = readFileSync(join(projectRoot, 'bin', 'journalnode'), 'utf8').split('\n', 1)[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'qj-shebang-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'print-env.mjs');
  writeFileSync(script, `${shebang}\nconsole.log(process.env.GLIBC_TUNABLES + ' ' + process.execArgv.join(' '));\n`);
  chmodSync(script, 0o755);
  const env = { ...process.env };
  delete env['GLIBC_TUNABLES'];
  t.is(execFileSync(script, { env, encoding: 'utf8' }).trim(), `${JOURNALNODE_MALLOC_TUNABLES}: ${JOURNALNODE_NODE_FLAGS.join(' ')}`);
  t.is(execFileSync(script, { env: { ...env, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, encoding: 'utf8' }).trim(), `${JOURNALNODE_MALLOC_TUNABLES}:glibc.malloc.arena_max=2 ${JOURNALNODE_NODE_FLAGS.join(' ')}`);
});

/** glibc's dynamic loader, as mapped into this process. */
function dynamicLoader(): string | undefined {
  return /\s(\/\S*\/ld-linux[^/\s]*\.so[.\d]*)$/m.exec(readFileSync('/proc/self/maps', 'utf8'))?.[1];
}

/** The malloc tunables as glibc reads them from `tunables` (ld.so --list-tunables prints what the loader parsed). */
function mallocTunablesSeen(loader: string, tunables: string): Map<string, number> {
  const env = { ...process.env, GLIBC_TUNABLES: tunables };
  const out = execFileSync(loader, ['--list-tunables'], { env, encoding: 'utf8' });
  const seen = new Map<string, number>();
  for (const m of out.matchAll(/^glibc\.malloc\.(\w+): (0x[\da-f]+|\d+)/gm)) seen.set(m[1]!, Number(m[2]));
  return seen;
}

// Page-fault counts were tried here first: they swing tenfold with the collector's timing on a busy machine.
// The loader's own listing is exact. The effect on a node (faults, CPU per edit) is measured in bench/ and the notes.
(glibc ? test : test.skip)('malloc tuning - glibc takes the settings as written: the loader reads both values', (t) => {
  const loader = dynamicLoader();
  if (loader === undefined) return t.fail('no ld-linux loader mapped in this process');
  const expected = new Map(JOURNALNODE_MALLOC_TUNABLES.split(':').map((kv) => {
    const [name, value] = kv.split('=');
    return [name!.replace(/^glibc\.malloc\./, ''), Number(value)] as const;
  }));
  t.deepEqual([...expected.keys()].sort(), ['mmap_threshold', 'trim_threshold']);
  const seen = mallocTunablesSeen(loader, journalNodeEnv({}).GLIBC_TUNABLES!);
  for (const [name, value] of expected) t.is(seen.get(name), value, name);
  // A misspelt tunable is ignored by glibc without a word: the same check would catch it.
  const misspelt = mallocTunablesSeen(loader, JOURNALNODE_MALLOC_TUNABLES.replace('mmap_threshold', 'mmap_treshold'));
  t.not(misspelt.get('mmap_threshold'), expected.get('mmap_threshold'));
});

/** Start a one-node JournalNode with `env`, wait for its ready line, stop it; resolves with what it printed. */
async function outputOfJournalNode(env: NodeJS.ProcessEnv): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'qj-malloc-'));
  try {
    const rpc = `127.0.0.1:${await freePort()}`;
    const args = journalNodeArgs(['--id', 'jn1', '--data', join(dir, 'jn1'), '--rpc', rpc, '--http', '127.0.0.1:0', '--initial-cluster', `jn1=${rpc}`, '--exit-with-parent']);
    const child = spawnChild(process.execPath, args, { cwd: projectRoot, env });
    await child.waitForLine(/^journalnode: id=jn1/, 60_000);
    await child.kill('SIGTERM');
    return child.output();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

(glibc ? test : test.skip)('malloc tuning - a JournalNode started without the settings says so, one started with them does not', async (t) => {
  const env = { ...process.env };
  delete env['GLIBC_TUNABLES'];
  const warning = /started without the malloc settings/;
  t.regex(await outputOfJournalNode(env), warning);
  t.notRegex(await outputOfJournalNode({ ...process.env, ...journalNodeProcessEnv() }), warning);
});
