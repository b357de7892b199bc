/**
 * HAController: its state machine (pure), and transitions against the fake service with a
 * manual election (the test decides who wins and when leadership is lost) and with the
 * embedded JournalElection.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { HAController, canTransition, haTransitions } from '../../libqjm/ha-controller.ts';
import type { HAState, HATransition, StandbyReason } from '../../libqjm/ha-controller.ts';
import type { ElectionHook, Leadership } from '../../libqjm/election.ts';
import { JournalElection } from '../../libqjm/journal-election.ts';
import type { JournalWriter } from '../../libqjm/writer.ts';
import type { QuorumJournalManager } from '../../libqjm/qjm.ts';
import { AbortedError, EpochFencedError, WriterClosedError } from '../../libqjm/errors.ts';
import { deferred } from '../../libqjm/clock.ts';
import type { Deferred } from '../../libqjm/clock.ts';
import { waitFor } from '../support/wait.ts';
import { editText, makeEdits, startFake, testNamespace } from './helpers.ts';

/** An election decided by the test: `grant(candidate, token)` elects, `revoke()` takes it away. */
class ManualElection implements ElectionHook {
  private readonly waiting = new Map<string, Deferred<Leadership>>();
  private holder: { candidate: string; lost: Deferred<void> } | undefined;

  campaign(candidate: string, signal?: AbortSignal): Promise<Leadership> {
    const pending = deferred<Leadership>();
    this.waiting.set(candidate, pending);
    signal?.addEventListener('abort', () => {
      this.waiting.delete(candidate);
      pending.reject(new AbortedError('campaign aborted'));
    }, { once: true });
    return pending.promise;
  }

  async leader(): Promise<string | undefined> {
    return this.holder?.candidate;
  }

  /** True while `candidate` campaigns. */
  campaigning(candidate: string): boolean {
    return this.waiting.has(candidate);
  }

  grant(candidate: string, token: number): void {
    const pending = this.waiting.get(candidate);
    if (pending === undefined) throw new Error(`${candidate} is not campaigning`);
    this.waiting.delete(candidate);
    const lost = deferred<void>();
    const holder = { candidate, lost };
    this.holder = holder;
    pending.resolve({
      token,
      lost: lost.promise,
      resign: async () => {
        if (this.holder === holder) this.holder = undefined;
        lost.resolve();
      },
    });
  }

  /** The holder loses its leadership without being asked. */
  revoke(): void {
    this.holder?.lost.resolve();
    this.holder = undefined;
  }
}

/** A master: applies edits to an array; records transitions and callbacks. */
function master(t: ExecutionContext, qjm: QuorumJournalManager, election: ElectionHook, candidate: string, extra: { failAt?: number } = {}) {
  const applied: string[] = [];
  const transitions: Array<[HAState, HAState, string]> = [];
  const standbyReasons: StandbyReason[] = [];
  let writer: JournalWriter | undefined;
  let activeLastTxId = -1;
  const controller = new HAController({
    qjm,
    election,
    candidate,
    retryDelayMs: 20,
    tail: { pollIntervalMs: 20 },
    apply: (edit) => {
      if (edit.txid === extra.failAt) throw new Error(`cannot apply ${edit.txid}`);
      applied.push(editText(edit.data));
    },
    onActive: (activeWriter, lastTxId) => {
      writer = activeWriter;
      activeLastTxId = lastTxId;
    },
    onStandby: (reason) => {
      standbyReasons.push(reason);
    },
  });
  controller.on('transition', (transition: HATransition) => transitions.push([transition.from, transition.to, transition.reason]));
  t.teardown(() => controller.stop());
  return {
    controller,
    applied,
    transitions,
    standbyReasons,
    get writer(): JournalWriter | undefined {
      return writer;
    },
    get activeLastTxId(): number {
      return activeLastTxId;
    },
  };
}

/** Write `count` edits from the writer's next txid (starting a segment if none is open). */
async function writeEdits(writer: JournalWriter, count: number): Promise<void> {
  if (writer.openSegmentFirstTxId === undefined) await writer.startLogSegment(writer.nextTxId);
  await writer.write(writer.nextTxId, makeEdits(writer.nextTxId, count));
}

function expected(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `edit-${from + i}`);
}

test('ha controller - the transition table allows only the documented moves', (t) => {
  t.true(canTransition('initial', 'standby'));
  t.true(canTransition('standby', 'catching-up'));
  t.true(canTransition('catching-up', 'active'));
  t.true(canTransition('active', 'standby'));
  t.true(canTransition('failed', 'closed'));
  t.false(canTransition('standby', 'active'), 'no activity without catching up');
  t.false(canTransition('initial', 'active'));
  t.false(canTransition('closed', 'standby'), 'closed is final');
  t.false(canTransition('failed', 'standby'));
  t.deepEqual(haTransitions.closed, []);
});

test('ha controller - standbys apply the log; the elected one recovers, catches up and becomes active at the right txid', async (t) => {
  const { manager } = await startFake(t);
  const setup = manager();
  await setup.format(testNamespace);
  const old = await setup.openForWrite({ epoch: 1 });
  await writeEdits(old, 10);
  old.abort(); // the previous active died mid-segment

  const election = new ManualElection();
  const a = master(t, manager(), election, 'master-a');
  const b = master(t, manager(), election, 'master-b');
  a.controller.start();
  b.controller.start();
  t.throws(() => a.controller.start(), { message: /illegal transition standby -> standby/ });
  await waitFor(() => a.applied.length === 10 && b.applied.length === 10, { what: 'standbys applied the backlog' });
  await waitFor(() => election.campaigning('master-a'), { what: 'a campaigns' });

  election.grant('master-a', 5);
  await waitFor(() => a.controller.state === 'active', { what: 'a active' });
  t.deepEqual(a.transitions.map(([from, to]) => `${from}->${to}`), ['initial->standby', 'standby->catching-up', 'catching-up->active']);
  t.is(a.activeLastTxId, 10);
  t.is(a.controller.token, 5);
  t.is(a.writer?.epoch, 5, 'epoch = token');

  await writeEdits(a.writer!, 10);
  await waitFor(() => b.applied.length === 20, { what: 'b tails the new edits' });
  t.deepEqual(b.applied, expected(1, 20), "the standby's state equals the log");
  t.is(b.controller.state, 'standby');
});

test('ha controller - on lost the active stops writing at once and the next one continues at the right txid', async (t) => {
  const { cluster, manager } = await startFake(t);
  await manager().format(testNamespace);
  const election = new ManualElection();
  const a = master(t, manager(), election, 'master-a');
  const b = master(t, manager(), election, 'master-b');
  a.controller.start();
  b.controller.start();
  await waitFor(() => election.campaigning('master-a'), { what: 'a campaigns' });
  election.grant('master-a', 3);
  await waitFor(() => a.controller.state === 'active', { what: 'a active' });
  const writerA = a.writer!;
  await writeEdits(writerA, 12);

  election.revoke();
  await waitFor(() => a.controller.state === 'standby', { what: 'a standby' });
  t.deepEqual(a.standbyReasons, ['lost']);
  t.is(writerA.state, 'closed');
  await t.throwsAsync(writerA.write(13, makeEdits(13, 1)), { instanceOf: WriterClosedError });
  t.is(a.controller.lastAppliedTxId, 12);

  await waitFor(() => election.campaigning('master-b'), { what: 'b campaigns' });
  election.grant('master-b', 4);
  await waitFor(() => b.controller.state === 'active', { what: 'b active' });
  t.is(b.activeLastTxId, 12);
  t.deepEqual(b.applied, expected(1, 12));
  await writeEdits(b.writer!, 5);
  await waitFor(() => a.applied.length === 5, { what: 'a tails what b writes' });
  t.deepEqual(a.applied, expected(13, 17), 'a resumes after its own acknowledged edits');
  t.deepEqual(cluster.editsOf('j1').map((e) => editText(e.data)), expected(1, 17));
});

test('ha controller - an active fenced by a newer epoch becomes standby with reason fenced', async (t) => {
  const { manager } = await startFake(t);
  await manager().format(testNamespace);
  const election = new ManualElection();
  const a = master(t, manager(), election, 'master-a');
  a.controller.start();
  await waitFor(() => election.campaigning('master-a'), { what: 'a campaigns' });
  election.grant('master-a', 2);
  await waitFor(() => a.controller.state === 'active', { what: 'a active' });
  await writeEdits(a.writer!, 3);
  // Another master got a higher token; a does not know yet.
  const usurper = await manager().openForWrite({ epoch: 9 });
  t.is(usurper.lastTxId, 3);
  await t.throwsAsync(writeEdits(a.writer!, 1), { instanceOf: EpochFencedError });
  await waitFor(() => a.controller.state === 'standby', { what: 'a standby' });
  t.deepEqual(a.standbyReasons, ['fenced']);
  t.is(a.controller.lastAppliedTxId, 3);
});

test('ha controller - apply throwing is fatal: the controller fails and stops campaigning', async (t) => {
  const { manager } = await startFake(t);
  const setup = manager();
  await setup.format(testNamespace);
  await writeEdits(await setup.openForWrite(), 5);
  const election = new ManualElection();
  const a = master(t, manager(), election, 'master-a', { failAt: 3 });
  const failed = new Promise<Error>((resolve) => a.controller.on('failed', resolve));
  a.controller.start();
  const error = await failed;
  t.regex(error.message, /cannot apply 3/);
  t.is(a.controller.state, 'failed');
  t.deepEqual(a.applied, expected(1, 2));
  t.false(election.campaigning('master-a'));
  await a.controller.stop();
  t.is(a.controller.state, 'closed');
});

test('ha controller - with the embedded election, an expired lease hands the journal to the other master', async (t) => {
  const { cluster, manager } = await startFake(t);
  await manager().format(testNamespace);
  const qjmA = manager();
  const qjmB = manager();
  const a = master(t, qjmA, new JournalElection({ qjm: qjmA, ttlMs: 3000, renewIntervalMs: 50, retryIntervalMs: 20 }), 'master-a');
  a.controller.start();
  await waitFor(() => a.controller.state === 'active', { what: 'a active' });
  const b = master(t, qjmB, new JournalElection({ qjm: qjmB, ttlMs: 3000, renewIntervalMs: 50, retryIntervalMs: 20 }), 'master-b');
  b.controller.start();
  await writeEdits(a.writer!, 8);
  const tokenA = a.controller.token!;

  cluster.expireLease('j1', 'leader');
  await waitFor(() => b.controller.state === 'active', { what: 'b active' });
  t.true(b.controller.token! > tokenA);
  t.is(b.activeLastTxId, 8);
  t.deepEqual(b.applied, expected(1, 8));
  await waitFor(() => a.controller.state === 'standby', { what: 'a standby' });
  t.true(a.standbyReasons[0] === 'lost' || a.standbyReasons[0] === 'fenced');
  await writeEdits(b.writer!, 2);
  await waitFor(() => a.applied.length === 2, { what: 'a applies b edits' });
  t.deepEqual(a.applied, expected(9, 10));
});
