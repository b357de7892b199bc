/**
 * The main job as a new user runs it: a fresh clone of the repository at HEAD, its own install
 * (`npm ci`, from the npm cache when it holds the packages), then `npm start`. The test waits
 * until the progress line shows edits flowing, sends SIGINT to the process group (what Ctrl-C
 * in a terminal does), and checks that it exits 0 and leaves no process behind.
 *
 * A clone holds only committed work. To try uncommitted work, set QJ_MAIN_JOB_SOURCE=worktree:
 * the working tree is copied instead (without node_modules, .git and .data).
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { projectRoot } from '../../deploy/launcher.ts';
import { waitFor } from '../support/wait.ts';

/** Time for the install, ms. */
const installTimeoutMs = 150_000;

/** The environment of a new user's shell: none of the variables npm sets for a running script. */
function userEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('npm_') || key === 'INIT_CWD' || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return env;
}

/** Pids of live processes whose command line mentions `text`. */
function processesMentioning(text: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (command.includes(text)) found.push({ pid: Number(name), command });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

test('deploy main job - a fresh clone runs `npm install && npm start`: edits flow, SIGINT stops everything, exit 0, no process left', async (t) => {
  t.timeout(300_000);
  const workDir = mkdtempSync(join(tmpdir(), 'qj-main-job-'));
  const checkout = join(workDir, 'quorum-journal');
  t.teardown(() => {
    if (t.passed && process.env['QJ_KEEP_DATA'] === undefined) rmSync(workDir, { recursive: true, force: true });
  });
  t.log(`checkout: ${checkout}`);

  if (process.env['QJ_MAIN_JOB_SOURCE'] === 'worktree') {
    cpSync(projectRoot, checkout, {
      recursive: true,
      filter: (source) => {
        const path = relative(projectRoot, source);
        return !/^(node_modules|\.git|\.data)(\/|$)/.test(path);
      },
    });
    t.log('source: the working tree (QJ_MAIN_JOB_SOURCE=worktree)');
  } else {
    const clone = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', projectRoot, checkout], { encoding: 'utf8', timeout: 60_000 });
    t.is(clone.status, 0, `git clone: ${clone.stderr}`);
    const head = spawnSync('git', ['-C', checkout, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
    t.log(`source: a clone of HEAD (${head.stdout.trim()})`);
  }

  // npm ci empties node_modules first: never let it reach another tree through a committed symlink.
  const existing = lstatSync(join(checkout, 'node_modules'), { throwIfNoEntry: false });
  t.is(existing, undefined, 'the checkout must not hold node_modules (a committed symlink would let npm ci empty its target)');
  if (existing !== undefined) return;
  const env = userEnvironment();
  const installStartMs = performance.now();
  const install = spawnSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: checkout, env, encoding: 'utf8', timeout: installTimeoutMs });
  t.is(install.status, 0, `npm ci: ${install.stderr.slice(-2000)}`);
  t.log(`npm ci: ${((performance.now() - installStartMs) / 1000).toFixed(1)} s`);
  const startMs = performance.now();

  // `npm start` in a process group of its own, as a shell runs a foreground job.
  const child = spawn('npm', ['start'], { cwd: checkout, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
  });
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone: the expected case
    }
  });

  // Edits flow: two progress lines whose last txid grows, with a positive rate.
  const progress = /^progress: (\d+) edits\/s \| last txid (\d+) \| active (m\d)/gm;
  await waitFor(
    () => {
      if (exitedEarly) throw new Error(`npm start exited early:\n${output}`);
      const samples = [...output.matchAll(progress)].map((m) => ({ rate: Number(m[1]), lastTxId: Number(m[2]) }));
      const last = samples.at(-1);
      return samples.length >= 3 && last !== undefined && last.rate > 0 && last.lastTxId > samples[0]!.lastTxId;
    },
    { timeoutMs: 120_000, intervalMs: 200, what: `edits flowing in the progress line; output so far:\n${output}` },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- output ---\n${output}`);
  });
  t.log(`npm start to edits flowing: ${((performance.now() - startMs) / 1000).toFixed(1)} s`);
  t.regex(output, /JournalNode jn1 +rpc 127\.0\.0\.1:\d+ +status http:\/\/127\.0\.0\.1:\d+\/status/);
  t.regex(output, /master +m2 +api http:\/\/127\.0\.0\.1:\d+/);
  t.regex(output, new RegExp(`local cluster in ${join(checkout, '.data', 'local-cluster').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(new\\)`));

  process.kill(-child.pid!, 'SIGINT');
  const stopMs = performance.now();
  const exit = await exited;
  t.log(`SIGINT to exit: ${((performance.now() - stopMs) / 1000).toFixed(1)} s`);
  t.deepEqual(exit, { code: 0, signal: null }, output.slice(-3000));
  t.regex(output, /quorum-journal: stopped\./);
  let groupAlive = true;
  try {
    process.kill(-child.pid!, 0);
  } catch {
    groupAlive = false;
  }
  t.false(groupAlive, 'no process is left in the group');
  t.deepEqual(processesMentioning(checkout), [], 'no process of the checkout is left');
});
