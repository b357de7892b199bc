/**
 * The RaftAdmin gRPC service: thin handlers that validate, call the RaftNode, and encode.
 * Errors are answers (`AdminError`), never thrown through gRPC, so clients can follow
 * `leader_hint` on NOT_LEADER.
 */
import type * as grpc from '@grpc/grpc-js';
import type { NodeId } from '../core/types.ts';
import { isAddress, type RaftNode } from '../node.ts';
import { RaftError, NotLeaderError, InvalidArgumentError, RaftTimeoutError } from '../errors.ts';
import { loadAdminProtocol } from './proto.ts';
import type { AdminError } from './generated/qjournal/raft/admin/v1/AdminError.ts';
import type { Configuration } from './generated/qjournal/raft/admin/v1/Configuration.ts';
import type { NodeStatus } from './generated/qjournal/raft/admin/v1/NodeStatus.ts';
import type { Peer__Output } from './generated/qjournal/raft/admin/v1/Peer.ts';
import type { RaftAdminHandlers } from './generated/qjournal/raft/admin/v1/RaftAdmin.ts';

/** Default deadline of membership changes and transfers when the request gives none. */
export const ADMIN_TIMEOUT_MS_DEFAULT = 60_000;
/** Upper bound of a requested timeout. */
export const ADMIN_TIMEOUT_MS_MAX = 10 * 60_000;
/** Most peers in one ChangePeers / ResetPeer request. */
export const ADMIN_PEERS_MAX = 64;

const NODE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Translate an exception of the runtime into the wire error (once, at the boundary). */
export function toAdminError(e: unknown): AdminError {
  if (e instanceof NotLeaderError) return { code: 'NOT_LEADER', message: e.message, leaderHint: e.leaderAddress, retryable: true };
  if (e instanceof InvalidArgumentError) return { code: 'INVALID_ARGUMENT', message: e.message, retryable: false };
  if (e instanceof RaftTimeoutError) return { code: 'TIMEOUT', message: e.message, retryable: true };
  if (e instanceof RaftError) return { code: 'REFUSED', message: e.message, retryable: e.retryable };
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e), retryable: false };
}

function configurationOf(node: RaftNode): Configuration {
  const s = node.status();
  return {
    voters: [...s.confState.voters],
    votersOutgoing: [...s.confState.votersOutgoing],
    learners: [...s.confState.learners],
    peers: Object.entries(s.peers).map(([id, address]) => ({ id, address })),
  };
}

/** The wire status of `node`. */
export function nodeStatusOf(node: RaftNode): NodeStatus {
  const s = node.status();
  return {
    id: s.id,
    groupId: s.groupId,
    role: s.softState.role,
    term: s.hardState.term,
    vote: s.hardState.vote,
    leaderId: s.softState.leader,
    leaderAddress: s.leaderAddress,
    commit: s.hardState.commit,
    applied: s.applied,
    lastIndex: s.lastIndex,
    snapshotIndex: s.snapshotIndex,
    configuration: configurationOf(node),
    progress: Object.entries(s.progress ?? {}).map(([id, p]) => ({
      id,
      match: p.match,
      next: p.next,
      state: p.state,
      recentActive: p.recentActive,
      learner: p.learner,
    })),
    leadTransferee: s.leadTransferee,
    fsyncs: s.walStats['fsyncs'] ?? 0,
  };
}

function timeoutOf(requested: number): number {
  if (!Number.isSafeInteger(requested) || requested <= 0) return ADMIN_TIMEOUT_MS_DEFAULT;
  return Math.min(requested, ADMIN_TIMEOUT_MS_MAX);
}

function peersOf(peers: readonly Peer__Output[]): Map<NodeId, string> {
  if (peers.length === 0) throw new InvalidArgumentError('no peers given');
  if (peers.length > ADMIN_PEERS_MAX) throw new InvalidArgumentError(`at most ${ADMIN_PEERS_MAX} peers`);
  const out = new Map<NodeId, string>();
  for (const p of peers) {
    if (!NODE_ID.test(p.id)) throw new InvalidArgumentError(`bad peer id '${p.id}'`);
    if (!isAddress(p.address)) throw new InvalidArgumentError(`bad address '${p.address}' for ${p.id}`);
    if (out.has(p.id)) throw new InvalidArgumentError(`peer ${p.id} given twice`);
    out.set(p.id, p.address);
  }
  return out;
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

/**
 * Register RaftAdmin on `server`. `nodeFor(groupId)` finds the local node of a group ('' is the
 * default group); an unknown group is answered with UNKNOWN_GROUP.
 */
export function addAdminService(server: grpc.Server, nodeFor: (groupId: string) => RaftNode | undefined): void {
  const admin = loadAdminProtocol();
  // Every handler: find the node, run `fn`, answer success or a typed error.
  function handle<Req extends { groupId: string }, Ok>(fn: (node: RaftNode, req: Req) => Promise<Ok> | Ok): Unary<Req, { success?: Ok; error?: AdminError }> {
    return (call, callback) => {
      const node = nodeFor(call.request.groupId);
      if (node === undefined) {
        callback(null, { error: { code: 'UNKNOWN_GROUP', message: `no group '${call.request.groupId}' here`, retryable: false } });
        return;
      }
      Promise.resolve()
        .then(() => fn(node, call.request))
        .then(
          (success) => callback(null, { success }),
          (e: unknown) => callback(null, { error: toAdminError(e) }),
        );
    };
  }
  const handlers: RaftAdminHandlers = {
    Status: handle((node) => nodeStatusOf(node)),
    AddPeer: handle(async (node, req) => {
      const peers = peersOf(req.peer ? [req.peer] : []);
      const [id, address] = [...peers][0]!;
      await node.addPeer(id, address, { learner: req.learner, timeoutMs: timeoutOf(req.timeoutMs) });
      return configurationOf(node);
    }),
    RemovePeer: handle(async (node, req) => {
      if (!NODE_ID.test(req.id)) throw new InvalidArgumentError(`bad peer id '${req.id}'`);
      await node.removePeer(req.id);
      return configurationOf(node);
    }),
    ChangePeers: handle(async (node, req) => {
      await node.changePeers(peersOf(req.peers), timeoutOf(req.timeoutMs));
      return configurationOf(node);
    }),
    ResetPeer: handle((node, req) => {
      if (!req.force) throw new InvalidArgumentError('reset-peer is unsafe (it can lose committed entries and split the group): refused without force');
      node.resetPeers(peersOf(req.peers));
      return configurationOf(node);
    }),
    Snapshot: handle(async (node) => ({ index: await node.snapshotNow() })),
    TransferLeader: handle(async (node, req) => {
      if (!NODE_ID.test(req.id)) throw new InvalidArgumentError(`bad peer id '${req.id}'`);
      await node.transferLeader(req.id, timeoutOf(req.timeoutMs));
      return { leaderId: node.leaderInfo().id };
    }),
  } as RaftAdminHandlers;
  server.addService(admin.RaftAdmin.service, handlers as unknown as grpc.UntypedServiceImplementation);
}
