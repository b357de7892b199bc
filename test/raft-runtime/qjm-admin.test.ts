import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KvCluster } from '../support/kv-cluster.ts';

const exec = promisify(execFile);

async function qjm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec('./bin/qjm', args, { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test('qjm - bad arguments exit 2 with a clear message', async (t) => {
  const cases: [string[], RegExp][] = [
    [['status'], /--cluster is required/],
    [['status', '--cluster', 'nohostport'], /not host:port/],
    [['add-peer', 'n9', '--cluster', '127.0.0.1:1'], /ID=HOST:PORT/],
    [['reset-peer', 'n1=127.0.0.1:1', '--node', '127.0.0.1:1', '--cluster', '127.0.0.1:1'], /unsafe.*--force/],
    [['transfer-leader', 'bad id!', '--cluster', '127.0.0.1:1'], /not a node id/],
    [['cat', '--from', '-3', '--dir', '.'], /not a txid/],
    [['no-such-verb'], /unknown/],
  ];
  for (const [args, re] of cases) {
    const r = await qjm(args);
    t.is(r.code, 2, `${args.join(' ')} -> ${r.code}`);
    t.regex(r.stderr, re, args.join(' '));
  }
});

test.serial('qjm - status, snapshot and transfer-leader against a live raft group', async (t) => {
  const cluster = await KvCluster.start({ nodes: 3 });
  t.teardown(() => cluster.stop());
  for (let i = 0; i < 20; i++) await cluster.put(`k${i}`, String(i));
  const nodes = cluster.nodes.map((n) => n.rpc).join(',');

  const status = await qjm(['status', '--cluster', nodes, '--group', 'kv', '--json']);
  t.is(status.code, 0, status.stderr);
  const all = JSON.parse(status.stdout) as { status: { role: string; id: string; commit: number; progress: unknown[] } }[];
  t.is(all.length, 3);
  t.is(all.filter((n) => n.status.role === 'leader').length, 1);
  const leader = all.find((n) => n.status.role === 'leader')!.status;
  t.true(leader.commit >= 20);
  t.is(leader.progress.length, 3);

  const snap = await qjm(['snapshot', '--cluster', nodes, '--group', 'kv', '--json']);
  t.is(snap.code, 0, snap.stderr);
  t.true((JSON.parse(snap.stdout) as { index: number }).index >= 20);

  const target = all.find((n) => n.status.role !== 'leader')!.status.id;
  const transfer = await qjm(['transfer-leader', target, '--cluster', nodes, '--group', 'kv', '--json']);
  t.is(transfer.code, 0, transfer.stderr);
  t.is((JSON.parse(transfer.stdout) as { leaderId: string }).leaderId, target);
  const i = cluster.nodes.findIndex((n) => n.id === target);
  t.is((await cluster.status(i)).softState.role, 'leader');

  // Writes still work after the transfer, and the text output names the leader.
  await cluster.put('after', 'transfer');
  const text = await qjm(['status', '--cluster', nodes, '--group', 'kv']);
  t.regex(text.stdout, new RegExp(`${target}: leader`));
});

test.serial('qjm - remove-peer of an unknown node is refused with exit 1', async (t) => {
  const cluster = await KvCluster.start({ nodes: 3 });
  t.teardown(() => cluster.stop());
  const nodes = cluster.nodes.map((n) => n.rpc).join(',');
  const r = await qjm(['remove-peer', 'n42', '--cluster', nodes, '--group', 'kv']);
  t.is(r.code, 1);
  t.regex(r.stderr, /INVALID_ARGUMENT.*not a member/);
});
