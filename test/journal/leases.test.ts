import test from 'ava';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from '../../journalnode/journal-commands.ts';
import { JournalStateMachine } from '../../journalnode/journal-state-machine.ts';
import { LeaseTable, leasesMax } from '../../journalnode/journal-leases.ts';
import { leaseTtlMsMax } from '../../journalnode/protocol/limits.ts';
import { codeOf, Feeder, newMachine, tempDir } from './helpers.ts';

const J = 'jn-1';
const acquire = (candidate: string, nowMs: number, ttlMs = 1000, leaseName = 'active'): Command => ({ type: 'acquireLease', journalId: J, leaseName, candidate, ttlMs, nowMs });
const renew = (candidate: string, token: number, nowMs: number, ttlMs = 1000): Command => ({ type: 'renewLease', journalId: J, leaseName: 'active', candidate, token, ttlMs, nowMs });
const release = (candidate: string, token: number, nowMs: number): Command => ({ type: 'releaseLease', journalId: J, leaseName: 'active', candidate, token, nowMs });

test('journal leases - acquire, held by another, expiry by command time, increasing tokens', async (t) => {
  const { machine, feed } = await newMachine(t);
  const first = await feed.one(acquire('nn1', 10_000));
  t.like(first, { ok: true, released: false, lease: { journalId: J, leaseName: 'active', holder: 'nn1', token: 1, expiresAtMs: 11_000, remainingMs: 1000 } });
  t.is(codeOf(t, await feed.one(acquire('nn2', 10_500))), 'LEASE_HELD');
  t.like(machine.getLease(J, 'active', 10_600), { ok: true, lease: { holder: 'nn1', remainingMs: 400 } });
  t.like(machine.getLease(J, 'active', 11_000), { ok: true, lease: { holder: '', token: 1, remainingMs: 0 } });
  // Expired at 11_000 by the command's clock: nn2 takes it with a larger token.
  const second = await feed.one(acquire('nn2', 11_000));
  t.like(second, { ok: true, lease: { holder: 'nn2', token: 3, expiresAtMs: 12_000 } });
  // Re-acquire by the holder: a new token (a restarted candidate fences its old self).
  t.like(await feed.one(acquire('nn2', 11_100)), { ok: true, lease: { holder: 'nn2', token: 4, expiresAtMs: 12_100 } });
  // Other leases and journals are independent (and need no format).
  t.like(await feed.one(acquire('nn1', 11_100, 1000, 'other')), { ok: true, lease: { holder: 'nn1', token: 5 } });
  t.like(machine.getLease(J, 'none', 0), { ok: true, lease: { holder: '', token: 0 } });
});

test('journal leases - renew by the holder extends, a wrong token or an expired lease is LEASE_EXPIRED', async (t) => {
  const { feed } = await newMachine(t);
  await feed.one(acquire('nn1', 1000)); // token 1, expires 2000
  t.like(await feed.one(renew('nn1', 1, 1900, 500)), { ok: true, lease: { holder: 'nn1', token: 1, expiresAtMs: 2400 } });
  t.is(codeOf(t, await feed.one(renew('nn1', 7, 2000))), 'LEASE_EXPIRED');
  t.is(codeOf(t, await feed.one(renew('nn2', 1, 2000))), 'LEASE_EXPIRED');
  t.is(codeOf(t, await feed.one(renew('nn1', 1, 2400))), 'LEASE_EXPIRED');
  // The holder must acquire again and gets a new token.
  t.like(await feed.one(acquire('nn1', 2500)), { ok: true, lease: { token: 6 } });
});

test('journal leases - release frees the lease only for the holder and token; a stale release is a no-op', async (t) => {
  const { machine, feed } = await newMachine(t);
  await feed.one(acquire('nn1', 1000));
  t.like(await feed.one(release('nn2', 1, 1100)), { ok: true, released: false, lease: { holder: 'nn1' } });
  t.like(await feed.one(release('nn1', 2, 1100)), { ok: true, released: false, lease: { holder: 'nn1' } });
  t.like(await feed.one(release('nn1', 1, 1100)), { ok: true, released: true, lease: { holder: '' } });
  t.like(await feed.one(release('nn1', 1, 1100)), { ok: true, released: false, lease: { holder: '' } });
  t.like(machine.getLease(J, 'active', 1100), { ok: true, lease: { holder: '' } });
  t.like(await feed.one(acquire('nn2', 1200)), { ok: true, lease: { holder: 'nn2', token: 6 } });
});

test('journal leases - the lease clock never runs backwards when a leader with a slower clock proposes', async (t) => {
  const { feed } = await newMachine(t);
  await feed.one(acquire('nn1', 10_000)); // expires 11_000
  // Any lease command stamped 12_000 advances the lease clock.
  t.like(await feed.one(acquire('nn2', 12_000, 5000, 'other')), { ok: true });
  // The clock is now 12_000: a command stamped 10_500 by a lagging leader still sees nn1 expired.
  t.like(await feed.one(acquire('nn3', 10_500)), { ok: true, lease: { holder: 'nn3', expiresAtMs: 13_000 } });
});

test('journal leases - invalid arguments are rejected', async (t) => {
  const { feed } = await newMachine(t);
  t.is(codeOf(t, await feed.one(acquire('nn1', 1, 0))), 'INVALID_ARGUMENT');
  t.is(codeOf(t, await feed.one(acquire('nn1', 1, leaseTtlMsMax + 1))), 'INVALID_ARGUMENT');
  t.is(codeOf(t, await feed.one(acquire('', 1))), 'INVALID_ARGUMENT');
  t.is(codeOf(t, await feed.one(acquire('nn1', 1, 1000, 'bad/name'))), 'INVALID_ARGUMENT');
  t.is(codeOf(t, await feed.one({ type: 'acquireLease', journalId: 'a b', leaseName: 'x', candidate: 'c', ttlMs: 1, nowMs: 1 })), 'INVALID_ARGUMENT');
  t.is(codeOf(t, await feed.one(renew('nn1', 0, 1))), 'INVALID_ARGUMENT');
  t.is(codeOf(t, await feed.one(acquire('nn1', Number.MAX_SAFE_INTEGER))), 'INVALID_ARGUMENT');
});

test('journal leases - expired leases make room when the table is full', (t) => {
  const table = new LeaseTable();
  for (let i = 0; i < leasesMax; i += 1) {
    t.true(table.acquire({ type: 'acquireLease', journalId: 'j', leaseName: `l${i}`, candidate: 'c', ttlMs: i === 3 ? 10 : 100_000, nowMs: 1 }, i + 1).ok);
  }
  const full = table.acquire({ type: 'acquireLease', journalId: 'j', leaseName: 'new', candidate: 'c', ttlMs: 10, nowMs: 5 }, leasesMax + 1);
  t.like(full, { ok: false, error: { code: 'INVALID_ARGUMENT' } });
  const later = table.acquire({ type: 'acquireLease', journalId: 'j', leaseName: 'new', candidate: 'c', ttlMs: 10, nowMs: 50 }, leasesMax + 2);
  t.true(later.ok);
  t.is(table.get('j', 'l3', 50).token, 0); // l3 (expired) was dropped
  t.is(table.get('j', 'l4', 50).token, 5);
});

test('journal leases - leases survive a snapshot and restore', async (t) => {
  const { machine, feed } = await newMachine(t);
  await feed.apply(acquire('nn1', 1000, 60_000), acquire('nn2', 1000, 500, 'other'));
  const dir = join(await tempDir(t, 'snap-'), 's');
  await mkdir(dir);
  await (await machine.snapshot(dir))();
  const restored = new JournalStateMachine({ dataDir: await tempDir(t) });
  t.teardown(() => restored.close());
  await restored.restore(dir, { index: 2, term: 1, confState: { voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } });
  t.deepEqual(restored.getLease(J, 'active', 2000), machine.getLease(J, 'active', 2000));
  const next = new Feeder(restored);
  next.index = 2;
  t.is(codeOf(t, await next.one(acquire('nn3', 2000))), 'LEASE_HELD');
  t.like(await next.one(renew('nn1', 1, 2000)), { ok: true, lease: { token: 1 } });
  t.like(await next.one(acquire('nn3', 2000, 100, 'other')), { ok: true, lease: { token: 5 } });
});
