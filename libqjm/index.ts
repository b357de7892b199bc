/**
 * libqjm: the client library a metadata master links (design sections 5 and 6). The public API,
 * exported explicitly; everything else in libqjm/ is internal.
 */
export { QuorumJournalManager, readAttemptsMax } from './qjm.ts';
export type { QuorumJournalManagerOptions, OpenForWriteOptions, ReadEditsResult } from './qjm.ts';
export { JournalWriter, splitIntoBatches } from './writer.ts';
export type { WriterState, WriterEnd, BatchLimits, BatchSlice } from './writer.ts';
export type { TailOptions, EditsPage } from './tail.ts';
export { tailUrl, parseTailControl, acceptRecords } from './tail-protocol.ts';
export type { TailControlMessage, AcceptedRecords } from './tail-protocol.ts';
export {
  RouteTable,
  initialRouteState,
  pickTarget,
  afterLeaderSuccess,
  afterNotLeader,
  afterUnreachable,
  classifyFailure,
  backoffDelayMs,
  defaultBackoffPolicy,
} from './route-table.ts';
export type { RouteState, BackoffPolicy, AttemptOutcome, RouteTableOptions } from './route-table.ts';
export { grpcChannelOptions } from './channel.ts';
export type { ChannelOptions } from './channel.ts';
export type { ElectionHook, Leadership } from './election.ts';
export { checkToken } from './election.ts';
export { EtcdElection } from './etcd-election.ts';
export type { EtcdElectionOptions } from './etcd-election.ts';
export { JournalElection } from './journal-election.ts';
export type { JournalElectionOptions } from './journal-election.ts';
export { HAController, canTransition, haTransitions } from './ha-controller.ts';
export type { HAControllerOptions, HAState, HATransition, StandbyReason } from './ha-controller.ts';
export type { Logger } from './log.ts';
export { silentLogger } from './log.ts';
export type { Clock } from './clock.ts';
export { monotonicClock } from './clock.ts';
export * from './errors.ts';
export type { EditRecord } from '../journalnode/protocol/records.ts';
export type { NamespaceInfo } from '../journalnode/protocol/generated/qjournal/v1/NamespaceInfo.ts';
export type { JournalState__Output as JournalState } from '../journalnode/protocol/generated/qjournal/v1/JournalState.ts';
export type { SegmentInfo__Output as SegmentInfo } from '../journalnode/protocol/generated/qjournal/v1/SegmentInfo.ts';
export type { EditLogManifest__Output as EditLogManifest } from '../journalnode/protocol/generated/qjournal/v1/EditLogManifest.ts';
export type { FormatResult__Output as FormatResult } from '../journalnode/protocol/generated/qjournal/v1/FormatResult.ts';
export type { FinalizeResult__Output as FinalizeResult } from '../journalnode/protocol/generated/qjournal/v1/FinalizeResult.ts';
export type { PurgeResult__Output as PurgeResult } from '../journalnode/protocol/generated/qjournal/v1/PurgeResult.ts';
export type { Lease__Output as Lease, } from '../journalnode/protocol/generated/qjournal/v1/Lease.ts';
