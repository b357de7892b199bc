/**
 * Configuration changes (etcd-io/raft's confchange/): computes the configuration and progress
 * map that result from a {@link ConfChange}, on copies, so a refused change leaves the tracker
 * untouched. Simple changes alter at most one voter; anything else goes through a joint
 * configuration (C_old,new), left by an empty change.
 */
import type { Progress } from './progress.ts';
import { cloneTrackerConfig, emptyTrackerConfig, type ProgressTracker, type TrackerConfig } from './tracker.ts';
import type { ConfChange, ConfChangeSingle, ConfState, NodeId } from './types.ts';
import { isValidNodeId } from './validation.ts';

/** A configuration change that cannot be applied to the current configuration. */
export class ConfChangeError extends Error {
  override readonly name = 'ConfChangeError';
}

/** A configuration with its progress map, ready to be installed in the tracker. */
export interface ConfigChangeResult {
  readonly config: TrackerConfig;
  readonly progress: Map<NodeId, Progress>;
}

interface Working {
  config: TrackerConfig;
  progress: Map<NodeId, Progress>;
  /** Index new members are probed at. */
  lastIndex: number;
  tracker: ProgressTracker;
}

/**
 * The configuration `cc` leads to from the tracker's current one. Throws ConfChangeError when
 * the change is invalid here (joint while joint, leave while not joint, no voter left, ...).
 * `lastIndex`: the log's last index, where new members start being probed.
 */
export function planConfChange(tracker: ProgressTracker, lastIndex: number, cc: ConfChange): ConfigChangeResult {
  for (const change of cc.changes) {
    if (!isValidNodeId(change.node)) throw new ConfChangeError(`invalid node id ${JSON.stringify(change.node)}`);
    if (change.type !== 'addVoter' && change.type !== 'removeVoter' && change.type !== 'addLearner') {
      throw new ConfChangeError(`invalid change type ${JSON.stringify(change.type)}`);
    }
  }
  if (cc.transition === 'reset') return planReset(tracker, lastIndex, cc.changes);
  const working = start(tracker, lastIndex);
  if (cc.changes.length === 0) leaveJoint(working);
  else if (cc.transition === 'joint' || cc.changes.length > 1) enterJoint(working, cc.transition === 'auto', cc.changes);
  else simple(working, cc.changes);
  checkInvariants(working.config, working.progress);
  return { config: working.config, progress: working.progress };
}

/** The configuration described by `confState` (from a snapshot or from storage at start). */
export function restoreConfig(tracker: ProgressTracker, lastIndex: number, confState: ConfState): ConfigChangeResult {
  const config: TrackerConfig = {
    incoming: new Set(confState.voters),
    outgoing: new Set(confState.votersOutgoing),
    learners: new Set(confState.learners),
    learnersNext: new Set(confState.learnersNext),
    autoLeave: confState.autoLeave,
  };
  const progress = new Map<NodeId, Progress>();
  for (const id of [...config.incoming, ...config.outgoing]) progress.set(id, tracker.newProgress(lastIndex + 1, false));
  for (const id of config.learners) progress.set(id, tracker.newProgress(lastIndex + 1, true));
  checkInvariants(config, progress);
  return { config, progress };
}

function start(tracker: ProgressTracker, lastIndex: number): Working {
  checkInvariants(tracker.config, tracker.progress);
  const progress = new Map<NodeId, Progress>();
  for (const [id, pr] of tracker.progress) progress.set(id, pr.clone());
  return { config: cloneTrackerConfig(tracker.config), progress, lastIndex, tracker };
}

function enterJoint(working: Working, autoLeave: boolean, changes: readonly ConfChangeSingle[]): void {
  const { config } = working;
  if (config.outgoing.size > 0) throw new ConfChangeError('config is already joint');
  if (config.incoming.size === 0) throw new ConfChangeError("can't make a zero-voter config joint");
  config.outgoing = new Set(config.incoming);
  applyChanges(working, changes);
  config.autoLeave = autoLeave;
}

function leaveJoint(working: Working): void {
  const { config, progress } = working;
  if (config.outgoing.size === 0) throw new ConfChangeError("can't leave a non-joint config");
  for (const id of config.learnersNext) {
    config.learners.add(id);
    progress.get(id)!.isLearner = true;
  }
  config.learnersNext.clear();
  for (const id of config.outgoing) {
    if (!config.incoming.has(id) && !config.learners.has(id)) progress.delete(id);
  }
  config.outgoing.clear();
  config.autoLeave = false;
}

function simple(working: Working, changes: readonly ConfChangeSingle[]): void {
  if (working.config.outgoing.size > 0) throw new ConfChangeError("can't apply a simple config change in a joint config");
  const before = new Set(working.config.incoming);
  applyChanges(working, changes);
  const after = working.config.incoming;
  let changed = 0;
  for (const id of before) if (!after.has(id)) changed++;
  for (const id of after) if (!before.has(id)) changed++;
  if (changed > 1) throw new ConfChangeError('more than one voter changed without entering a joint config');
}

function applyChanges(working: Working, changes: readonly ConfChangeSingle[]): void {
  for (const change of changes) {
    if (change.type === 'addVoter') makeVoter(working, change.node);
    else if (change.type === 'addLearner') makeLearner(working, change.node);
    else remove(working, change.node);
  }
  if (working.config.incoming.size === 0) throw new ConfChangeError('removed all voters');
}

function initProgress(working: Working, id: NodeId, isLearner: boolean): void {
  if (isLearner) working.config.learners.add(id);
  else working.config.incoming.add(id);
  working.progress.set(id, working.tracker.newProgress(Math.max(working.lastIndex, 1), isLearner));
}

function makeVoter(working: Working, id: NodeId): void {
  const pr = working.progress.get(id);
  if (pr === undefined) {
    initProgress(working, id, false);
    return;
  }
  pr.isLearner = false;
  working.config.learners.delete(id);
  working.config.learnersNext.delete(id);
  working.config.incoming.add(id);
}

function makeLearner(working: Working, id: NodeId): void {
  const pr = working.progress.get(id);
  if (pr === undefined) {
    initProgress(working, id, true);
    return;
  }
  if (pr.isLearner) return;
  remove(working, id);
  working.progress.set(id, pr);
  // A voter of the outgoing half stays a voter until the joint config is left.
  if (working.config.outgoing.has(id)) {
    working.config.learnersNext.add(id);
  } else {
    pr.isLearner = true;
    working.config.learners.add(id);
  }
}

function remove(working: Working, id: NodeId): void {
  if (!working.progress.has(id)) return;
  working.config.incoming.delete(id);
  working.config.learners.delete(id);
  working.config.learnersNext.delete(id);
  // A voter of the outgoing half keeps its progress: it still counts.
  if (!working.config.outgoing.has(id)) working.progress.delete(id);
}

function planReset(tracker: ProgressTracker, lastIndex: number, changes: readonly ConfChangeSingle[]): ConfigChangeResult {
  const config = emptyTrackerConfig();
  for (const change of changes) {
    if (change.type === 'addVoter') config.incoming.add(change.node);
    else if (change.type === 'addLearner') config.learners.add(change.node);
    else throw new ConfChangeError('a reset lists only addVoter and addLearner');
  }
  for (const id of config.incoming) config.learners.delete(id);
  if (config.incoming.size === 0) throw new ConfChangeError('a reset needs at least one voter');
  const progress = new Map<NodeId, Progress>();
  for (const id of [...config.incoming, ...config.learners]) {
    const existing = tracker.progress.get(id);
    const pr = existing === undefined ? tracker.newProgress(Math.max(lastIndex, 1), false) : existing.clone();
    pr.isLearner = config.learners.has(id);
    progress.set(id, pr);
  }
  checkInvariants(config, progress);
  return { config, progress };
}

/** Throws ConfChangeError when a configuration breaks the invariants written on TrackerConfig. */
export function checkInvariants(config: TrackerConfig, progress: ReadonlyMap<NodeId, Progress>): void {
  for (const set of [config.incoming, config.outgoing, config.learners, config.learnersNext]) {
    for (const id of set) if (!progress.has(id)) throw new ConfChangeError(`no progress for ${id}`);
  }
  for (const id of config.learnersNext) {
    if (!config.outgoing.has(id)) throw new ConfChangeError(`${id} is in learnersNext but not an outgoing voter`);
    if (progress.get(id)!.isLearner) throw new ConfChangeError(`${id} is in learnersNext but marked a learner`);
  }
  for (const id of config.learners) {
    if (config.incoming.has(id) || config.outgoing.has(id)) throw new ConfChangeError(`${id} is both a learner and a voter`);
    if (!progress.get(id)!.isLearner) throw new ConfChangeError(`${id} is a learner not marked as one`);
  }
  if (config.outgoing.size === 0) {
    if (config.learnersNext.size > 0) throw new ConfChangeError('learnersNext outside a joint config');
    if (config.autoLeave) throw new ConfChangeError('autoLeave outside a joint config');
  }
}
