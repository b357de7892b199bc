import test from 'ava';
import { decodeConfChange } from '../../raft/core/index.ts';
import { bytes, Cluster } from './harness.ts';

test('raft-core - resetPeers (UNSAFE): a lone survivor forced to [self] becomes leader and commits', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.propose('a', 'x');
  // a and b are lost for good; c alone cannot elect anyone.
  c.isolate('a', 'b');
  c.tick('c', 40);
  t.deepEqual(c.leaders(), ['a']);
  c.node('c').resetPeers(['c']);
  t.deepEqual(c.node('c').status().confState.voters, ['c']);
  c.tick('c', 20);
  t.is(c.node('c').status().softState.role, 'leader');
  const result = c.node('c').propose(bytes('after-reset'));
  t.true(result.ok);
  c.settle();
  t.deepEqual(c.appliedData('c'), ['x', 'after-reset']);
  // The forced configuration was made durable as a 'reset' configuration entry.
  const resets = c.get('c').applied.filter((e) => e.type === 'confChange').map((e) => decodeConfChange(e.data));
  t.is(resets.length, 1);
  t.is(resets[0]!.transition, 'reset');
  t.deepEqual(c.get('c').confStates.at(-1)?.voters, ['c']);
  // A restart keeps it (the configuration as of the applied index).
  const member = c.restart('c');
  t.deepEqual(member.node.status().confState.voters, ['c']);
});

test('raft-core - resetPeers ignores older configuration entries until its own applies', (t) => {
  const c = new Cluster(['a', 'b', 'c', 'd'], { voters: ['a', 'b', 'c'], empty: ['d'] });
  c.elect('a');
  const a = c.node('a');
  t.true(a.proposeConfChange({ changes: [{ type: 'addVoter', node: 'd' }], transition: 'joint', context: new Uint8Array(0) }).ok);
  c.settle();
  t.deepEqual(c.node('c').status().confState.votersOutgoing, ['a', 'b', 'c']);
  // The leave entry reaches c, but c never learns it committed; then a, b, d are lost.
  c.drop = (m) => m.to === 'c' && m.entries.length === 0;
  t.true(a.proposeConfChange({ changes: [], transition: 'auto', context: new Uint8Array(0) }).ok);
  c.settle();
  c.isolate('a', 'b', 'd');
  c.node('c').resetPeers(['c']);
  c.tick('c', 20);
  c.node('c').propose(bytes('y'));
  c.settle();
  // The stale 'leave joint' applied on the forced (non-joint) configuration would be invalid:
  // it is ignored, then the reset entry applies.
  const history = c.get('c').confStates.map((cs) => `${cs.voters.join(',')}|${cs.votersOutgoing.join(',')}`);
  t.deepEqual(history, ['a,b,c,d|a,b,c', 'c|', 'c|']);
  t.deepEqual(c.appliedData('c'), ['y']);
});

test('raft-core - resetPeers on two survivors: the reset is applied once and never re-appended', (t) => {
  const c = new Cluster(['a', 'b', 'c', 'd', 'e'], { voters: ['a', 'b', 'c', 'd'], empty: ['e'] });
  c.elect('a');
  c.isolate('a', 'b', 'e');
  c.node('c').resetPeers(['c', 'd']);
  c.node('d').resetPeers(['c', 'd']);
  c.elect('c');
  t.deepEqual(c.leaders().filter((id) => id !== 'a'), ['c']);
  c.drop = (m) => ['a', 'b'].includes(m.from) || ['a', 'b'].includes(m.to);
  t.true(c.node('c').proposeConfChange({ changes: [{ type: 'addVoter', node: 'e' }], transition: 'auto', context: new Uint8Array(0) }).ok);
  c.settle();
  t.deepEqual(c.node('d').status().confState.voters, ['c', 'd', 'e']);
  // d takes over: it must not append its old forced configuration again.
  c.node('c').transferLeader('d');
  c.settle();
  t.deepEqual(c.leaders().filter((id) => id !== 'a'), ['d']);
  c.propose('d', 'z');
  for (const id of ['c', 'd', 'e']) t.deepEqual(c.node(id).status().confState.voters, ['c', 'd', 'e'], id);
  const resets = c.get('e').applied.filter((e) => e.type === 'confChange').length;
  t.is(resets, 2, 'one reset and one addVoter');
});
