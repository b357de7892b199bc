import test from 'ava';
import { execFileSync } from 'node:child_process';
import { projectRoot } from '../../deploy/launcher.ts';
import { HEAP_GROWING_PERCENT } from '../../journalnode/gc-tuning.ts';

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
