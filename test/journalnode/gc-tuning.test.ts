import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { journalNodeArgs, journalNodeBin, projectRoot } from '../../deploy/launcher.ts';
import { HEAP_GROWING_PERCENT, JOURNALNODE_NODE_FLAGS } from '../../journalnode/gc-tuning.ts';

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
