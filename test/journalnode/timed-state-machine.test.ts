import test from 'ava';
import { timedStateMachine, type StateMachineTimers } from '../../journalnode/server.ts';
import type { SnapshotPrefixes, StateMachine } from '../../raft/state-machine.ts';

function recordingTimers(): { timers: StateMachineTimers; seen: string[] } {
  const seen: string[] = [];
  const timer = (name: string) => ({ observe: (s: number) => void seen.push(`${name}:${s >= 0}`) });
  return { timers: { applySeconds: timer('apply'), snapshotCaptureSeconds: timer('capture'), snapshotSeconds: timer('snapshot') }, seen };
}

test('timed state machine - times applies and snapshots, and hands the completion\'s prefix files through', async (t) => {
  const prefixes: SnapshotPrefixes = new Map([['journals/j/edits_inprogress_1', { bytes: 10, crc32c: 7 }]]);
  const inner: StateMachine = {
    apply: async (entries) => entries.map((e) => e.index),
    snapshot: async () => async () => prefixes,
    restore: async () => undefined,
  };
  const { timers, seen } = recordingTimers();
  const timed = timedStateMachine(inner, () => timers);
  t.deepEqual(await timed.apply([{ index: 4, term: 1, data: new Uint8Array(1) }]), [4]);
  const complete = await timed.snapshot('/nowhere');
  if (complete === undefined) return t.fail('no completion');
  // The runtime publishes with what the completion resolves to: dropping it would make the
  // store read every linked segment back (and record a growing file's whole length).
  t.is(await complete(), prefixes);
  t.deepEqual(seen, ['apply:true', 'capture:true', 'snapshot:true']);
  // A state machine without a completion: the wrapper's completion declares nothing.
  const plain = timedStateMachine({ ...inner, snapshot: async () => undefined }, () => undefined);
  t.is(await (await plain.snapshot('/nowhere'))?.(), undefined);
});
