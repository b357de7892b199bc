/**
 * The local cluster launcher (deploy/launcher.ts): real JournalNode and master processes in a
 * temporary data folder; a second start on the folder reuses it; a folder in use is refused.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LauncherError, freePort, portIsFree, readLayout, startLocalCluster } from '../../deploy/launcher.ts';
import type { LocalCluster } from '../../deploy/launcher.ts';

function temporaryFolder(t: { log(message: string): void; teardown(fn: () => void): void; passed: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'qj-launcher-test-'));
  t.log(`data folder: ${dir}`);
  t.teardown(() => {
    if (t.passed && process.env['QJ_KEEP_DATA'] === undefined) rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

async function create(address: string, path: string): Promise<{ status: number; txid: number | null }> {
  const response = await fetch(`http://${address}/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path }) });
  const body = (await response.json()) as { txid?: number | null };
  return { status: response.status, txid: body.txid ?? null };
}

test('deploy launcher - a second start on the same folder reuses its ports, journal and namespace; a folder in use is refused', async (t) => {
  const dataDir = temporaryFolder(t);
  let cluster: LocalCluster | undefined = await startLocalCluster({ dataDir, journalNodes: 3, masters: 1 });
  t.teardown(() => cluster?.stop());
  t.false(cluster.reused);
  t.deepEqual(readLayout(dataDir), cluster.layout);
  t.true(existsSync(join(dataDir, 'launcher.pid')));
  t.is(readFileSync(join(dataDir, 'launcher.pid'), 'utf8').trim(), String(process.pid));
  for (const id of ['jn1', 'jn2', 'jn3', 'm1']) t.true(existsSync(cluster.logPath(id)), `log of ${id}`);

  // While it runs: its JournalNode ports are taken, and the folder is refused to another launcher.
  t.false(await portIsFree(cluster.layout.host, Number(cluster.rpcAddresses[0]!.split(':')[1])));
  const rpcAddresses = [...cluster.rpcAddresses];
  const master = cluster.masterHttpAddresses[0]!;
  const written = await create(master, '/kept');
  t.is(written.status, 200);

  await cluster.stop();
  for (const child of [...cluster.journalNodes, ...cluster.masters]) t.deepEqual(child.exit, { code: 0, signal: null }, `${child.name} stopped cleanly`);
  t.false(existsSync(join(dataDir, 'launcher.pid')), 'the folder is released');
  await t.throwsAsync(startLocalCluster({ dataDir, journalNodes: 5 }), { instanceOf: LauncherError, message: /holds a cluster of 3 JournalNodes/ });

  cluster = await startLocalCluster({ dataDir });
  t.true(cluster.reused);
  t.deepEqual([...cluster.rpcAddresses], rpcAddresses, 'the JournalNodes keep their rpc addresses (they are in the Raft log)');
  const again = cluster.masterHttpAddresses[0]!;
  const listing = (await (await fetch(`http://${again}/list?path=/`)).json()) as { entries: { name: string }[] };
  t.deepEqual(listing.entries.map((entry) => entry.name), ['kept'], 'the namespace was rebuilt from the journal');
  const next = await create(again, '/kept-too');
  t.is(next.status, 200);
  t.true(next.txid! > written.txid!, 'txids continue');

  await t.throwsAsync(startLocalCluster({ dataDir }), { instanceOf: LauncherError, message: /in use by the launcher/ });
  await cluster.stop();
});

test('deploy launcher - --base-port lays the nodes out on consecutive ports', async (t) => {
  const dataDir = temporaryFolder(t);
  let basePort = 0;
  for (let attempt = 0; attempt < 20 && basePort === 0; attempt += 1) {
    const candidate = await freePort('127.0.0.1');
    if (candidate < 65000 && (await portIsFree('127.0.0.1', candidate + 1)) && (await portIsFree('127.0.0.1', candidate + 2))) basePort = candidate;
  }
  t.not(basePort, 0, 'three consecutive free ports');
  const cluster = await startLocalCluster({ dataDir, journalNodes: 1, masters: 1, basePort });
  t.teardown(() => cluster.stop());
  t.deepEqual(cluster.layout.journalNodes, [{ id: 'jn1', rpc: `127.0.0.1:${basePort}`, http: `127.0.0.1:${basePort + 1}` }]);
  t.deepEqual(cluster.layout.masters, [{ id: 'm1', http: `127.0.0.1:${basePort + 2}` }]);
  t.is((await cluster.masterStatus(0)).role, 'active');
  t.is((await cluster.journalNodeStatus(0)).raft.role, 'leader');
});
