/**
 * Checks on data entering the core from the network: a malformed message is dropped (and
 * counted), never trusted. Data from storage is asserted instead (see log.ts).
 */
import type { Entry, Message, MessageType, NodeId } from './types.ts';

const NODE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** A node id is a short printable string: `[A-Za-z0-9_.-]{1,64}`. */
export function isValidNodeId(id: unknown): id is NodeId {
  return typeof id === 'string' && NODE_ID.test(id);
}

const MESSAGE_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  'MsgApp', 'MsgAppResp', 'MsgVote', 'MsgVoteResp', 'MsgPreVote', 'MsgPreVoteResp', 'MsgHeartbeat',
  'MsgHeartbeatResp', 'MsgSnap', 'MsgProp', 'MsgTransferLeader', 'MsgTimeoutNow', 'MsgReadIndex', 'MsgReadIndexResp',
]);

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isEntry(entry: Entry): boolean {
  return (
    isIndex(entry.index) && entry.index >= 1 && isIndex(entry.term) && entry.term >= 1 &&
    (entry.type === 'normal' || entry.type === 'confChange') && entry.data instanceof Uint8Array
  );
}

/**
 * Why `m` must be dropped by node `selfId` of group `groupId`, or null when it is acceptable.
 * Checks shape, destination, group, and that MsgApp entries follow `index` contiguously with
 * non-decreasing terms no newer than the message's term.
 */
export function messageProblem(m: Message, selfId: NodeId, groupId: string): string | null {
  if (m.groupId !== groupId) return `group ${m.groupId} is not ${groupId}`;
  if (m.to !== selfId) return `addressed to ${m.to}`;
  if (!MESSAGE_TYPES.has(m.type)) return `unknown type ${String(m.type)}`;
  if (!isValidNodeId(m.from) || m.from === selfId) return `bad sender ${String(m.from)}`;
  if (!isIndex(m.term) || !isIndex(m.logTerm) || !isIndex(m.index) || !isIndex(m.commit) || !isIndex(m.rejectHint)) {
    return 'bad numbers';
  }
  if (!(m.context instanceof Uint8Array) || !Array.isArray(m.entries) || typeof m.commitOnly !== 'boolean') return 'bad fields';
  if (m.commitOnly && (m.type !== 'MsgApp' || m.entries.length > 0)) return 'commit-only on a message that is not an empty MsgApp';
  if (m.term === 0 && m.type !== 'MsgProp' && m.type !== 'MsgReadIndex') return `${m.type} without a term`;
  for (const entry of m.entries) if (!isEntry(entry)) return 'bad entry';
  if (m.type === 'MsgApp') {
    let previousTerm = m.logTerm;
    for (let i = 0; i < m.entries.length; i++) {
      const entry = m.entries[i]!;
      if (entry.index !== m.index + 1 + i) return 'entries not contiguous';
      if (entry.term < previousTerm || entry.term > m.term) return 'entry terms out of order';
      previousTerm = entry.term;
    }
  }
  if (m.type === 'MsgSnap') {
    const snapshot = m.snapshot;
    if (snapshot === null || !isIndex(snapshot.meta.index) || snapshot.meta.index < 1 || !isIndex(snapshot.meta.term)) {
      return 'MsgSnap without a snapshot';
    }
    const { confState } = snapshot.meta;
    const lists = [confState.voters, confState.votersOutgoing, confState.learners, confState.learnersNext];
    if (!lists.every((ids) => Array.isArray(ids) && ids.every(isValidNodeId)) || typeof confState.autoLeave !== 'boolean') {
      return 'MsgSnap with a malformed configuration';
    }
    if (!(snapshot.data instanceof Uint8Array)) return 'MsgSnap without data';
  }
  return null;
}
