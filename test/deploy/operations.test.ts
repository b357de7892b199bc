/**
 * The operator's procedures of deploy/README.md, run as written against a local cluster with a
 * master writing: add a JournalNode (`--join`, then `qjm add-peer`), retire one
 * (`qjm remove-peer`), all without downtime; then lose a quorum and recover with
 * `qjm reset-peer` on the survivor.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, journalNodeArgs, journalNodeProcessEnv, projectRoot, startLocalCluster } from '../../deploy/launcher.ts';
import type { LocalCluster } from '../../deploy/launcher.ts';
import { ManagedProcess } from '../../deploy/managed-process.ts';
import { NamespaceLoad } from '../../deploy/load.ts';
import { waitFor } from '../support/wait.ts';

/** Run `./bin/qjm` as an operator would. */
function qjm(args: readonly string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [join(projectRoot, 'bin', 'qjm'), ...args], { cwd: projectRoot, encoding: 'utf8', timeout: 90_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

async function filesUnder(address: string, root: string): Promise<string[]> {
  const response = await fetch(`http://${address}/tree?path=${encodeURIComponent(root)}`);
  const body = (await response.json()) as { paths: string[] };
  return body.paths.filter((path) => !path.endsWith('/'));
}

test('deploy operations - add-peer and remove-peer without downtime; reset-peer after a lost quorum', async (t) => {
  t.timeout(240_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'qj-operations-'));
  t.log(`data folder: ${dataDir}`);
  const extra: ManagedProcess[] = [];
  const holder: { cluster?: LocalCluster } = {};
  const loads: NamespaceLoad[] = [];
  t.teardown(async () => {
    for (const load of loads) await load.stop(1_000);
    await Promise.all(extra.map((p) => p.kill()));
    await holder.cluster?.stop();
    if (t.passed) rmSync(dataDir, { recursive: true, force: true });
  });
  const c = await startLocalCluster({ dataDir, journalNodes: 3, masters: 1, leaseTtlMs: 2000, segmentEdits: 50 });
  holder.cluster = c;
  const master = c.masterHttpAddresses[0]!;
  const members = new Map(c.layout.journalNodes.map((jn) => [jn.id, jn.rpc]));
  const clusterFlag = (): string => [...members.values()].join(',');

  const load = new NamespaceLoad({ masters: [master], root: '/ops', ratePerSecond: 50, concurrencyMax: 4 });
  loads.push(load);
  await load.start();
  const flowing = async (more: number, what: string): Promise<void> => {
    const target = load.snapshot.acknowledged + more;
    await waitFor(() => load.snapshot.acknowledged >= target, { timeoutMs: 60_000, what });
  };
  await flowing(30, 'writes flowing');

  // Add jn4: start it with --join (it waits for the leader), then add-peer.
  const rpc4 = `127.0.0.1:${await freePort('127.0.0.1')}`;
  const http4 = `127.0.0.1:${await freePort('127.0.0.1')}`;
  const jn4 = new ManagedProcess({
    name: 'jn4',
    command: process.execPath,
    args: journalNodeArgs(['--id', 'jn4', '--data', join(dataDir, 'jn4'), '--rpc', rpc4, '--http', http4,
      '--initial-cluster', [...[...members].map(([id, address]) => `${id}=${address}`), `jn4=${rpc4}`].join(','), '--join', '--tick-ms', '50', '--exit-with-parent']),
    cwd: projectRoot,
    env: journalNodeProcessEnv(),
    logPath: join(dataDir, 'logs', 'jn4.log'),
    readyLine: /^journalnode: id=jn4 /m,
    startTimeoutMs: 60_000,
  });
  extra.push(jn4);
  await jn4.start();
  const added = qjm(['--cluster', clusterFlag(), 'add-peer', `jn4=${rpc4}`]);
  t.is(added.status, 0, added.output);
  t.regex(added.output, /voters: .*jn4/);
  members.set('jn4', rpc4);
  await flowing(30, 'writes flowing after add-peer');

  // Retire a follower: remove-peer, then stop it.
  const leader = await c.waitForJournalLeader();
  const retired = [0, 1, 2].find((i) => i !== leader)!;
  const retiredId = c.layout.journalNodes[retired]!.id;
  const removed = qjm(['--cluster', clusterFlag(), 'remove-peer', retiredId]);
  t.is(removed.status, 0, removed.output);
  t.notRegex(removed.output, new RegExp(`voters: .*${retiredId}\\b`));
  members.delete(retiredId);
  await c.journalNodes[retired]!.stop(10_000);
  await flowing(30, 'writes flowing after remove-peer');
  t.is(load.snapshot.unexpected, 0);
  // Members never warn that they were removed (the bootstrap adds them one by one).
  for (const [id] of members) t.notRegex(readFileSync(join(dataDir, 'logs', `${id}.log`), 'utf8'), /this node was removed from the configuration/, id);

  // Lose a quorum: stop writing, let every member apply everything, keep one survivor.
  await load.stop();
  const expected = load.expectedFiles();
  const statusOf = async (address: string): Promise<{ id: string; commit: number; applied: number }[]> => {
    const result = qjm(['--cluster', address, '--json', 'status']);
    return (JSON.parse(result.output) as { status?: { id: string; commit: number; applied: number } }[]).flatMap((n) => (n.status === undefined ? [] : [n.status]));
  };
  await waitFor(
    async () => {
      const all = await statusOf(clusterFlag());
      return all.length === 3 && all.every((s) => s.applied === all[0]!.applied && s.commit === all[0]!.commit);
    },
    { timeoutMs: 30_000, what: 'the three members in step' },
  );
  // The survivor must be one the master knows (its --journal-nodes): an original member.
  const survivor = [0, 1, 2].find((i) => i !== retired)!;
  const survivorId = c.layout.journalNodes[survivor]!.id;
  const survivorRpc = c.rpcAddresses[survivor]!;
  await jn4.kill();
  for (const i of [0, 1, 2]) if (i !== survivor && i !== retired) await c.journalNodes[i]!.kill();
  const reset = qjm(['reset-peer', `${survivorId}=${survivorRpc}`, '--node', survivorRpc, '--force']);
  t.is(reset.status, 0, reset.output);
  t.regex(reset.output, new RegExp(`voters: ${survivorId}$`, 'm'));

  // The master finds the survivor through leader hints and takes its lease again; writes resume.
  const after = new NamespaceLoad({ masters: [master], root: '/ops-after-reset', ratePerSecond: 50, concurrencyMax: 4 });
  loads.push(after);
  await after.start();
  await waitFor(() => after.snapshot.acknowledged >= 20, { timeoutMs: 90_000, what: 'writes after reset-peer' });
  await after.stop();
  t.deepEqual(await filesUnder(master, '/ops'), expected, 'every acknowledged edit survived');
  t.deepEqual(await filesUnder(master, '/ops-after-reset'), after.expectedFiles());
});
