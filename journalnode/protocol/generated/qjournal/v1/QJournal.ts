// Original file: journalnode/protocol/journal.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AcquireLeaseRequest as _qjournal_v1_AcquireLeaseRequest, AcquireLeaseRequest__Output as _qjournal_v1_AcquireLeaseRequest__Output } from '../../qjournal/v1/AcquireLeaseRequest.ts';
import type { FinalizeRequest as _qjournal_v1_FinalizeRequest, FinalizeRequest__Output as _qjournal_v1_FinalizeRequest__Output } from '../../qjournal/v1/FinalizeRequest.ts';
import type { FinalizeResponse as _qjournal_v1_FinalizeResponse, FinalizeResponse__Output as _qjournal_v1_FinalizeResponse__Output } from '../../qjournal/v1/FinalizeResponse.ts';
import type { FormatRequest as _qjournal_v1_FormatRequest, FormatRequest__Output as _qjournal_v1_FormatRequest__Output } from '../../qjournal/v1/FormatRequest.ts';
import type { FormatResponse as _qjournal_v1_FormatResponse, FormatResponse__Output as _qjournal_v1_FormatResponse__Output } from '../../qjournal/v1/FormatResponse.ts';
import type { GetEditLogManifestRequest as _qjournal_v1_GetEditLogManifestRequest, GetEditLogManifestRequest__Output as _qjournal_v1_GetEditLogManifestRequest__Output } from '../../qjournal/v1/GetEditLogManifestRequest.ts';
import type { GetEditLogManifestResponse as _qjournal_v1_GetEditLogManifestResponse, GetEditLogManifestResponse__Output as _qjournal_v1_GetEditLogManifestResponse__Output } from '../../qjournal/v1/GetEditLogManifestResponse.ts';
import type { GetJournalStateRequest as _qjournal_v1_GetJournalStateRequest, GetJournalStateRequest__Output as _qjournal_v1_GetJournalStateRequest__Output } from '../../qjournal/v1/GetJournalStateRequest.ts';
import type { GetJournalStateResponse as _qjournal_v1_GetJournalStateResponse, GetJournalStateResponse__Output as _qjournal_v1_GetJournalStateResponse__Output } from '../../qjournal/v1/GetJournalStateResponse.ts';
import type { GetJournaledEditsRequest as _qjournal_v1_GetJournaledEditsRequest, GetJournaledEditsRequest__Output as _qjournal_v1_GetJournaledEditsRequest__Output } from '../../qjournal/v1/GetJournaledEditsRequest.ts';
import type { GetJournaledEditsResponse as _qjournal_v1_GetJournaledEditsResponse, GetJournaledEditsResponse__Output as _qjournal_v1_GetJournaledEditsResponse__Output } from '../../qjournal/v1/GetJournaledEditsResponse.ts';
import type { GetLeaseRequest as _qjournal_v1_GetLeaseRequest, GetLeaseRequest__Output as _qjournal_v1_GetLeaseRequest__Output } from '../../qjournal/v1/GetLeaseRequest.ts';
import type { JournalRequest as _qjournal_v1_JournalRequest, JournalRequest__Output as _qjournal_v1_JournalRequest__Output } from '../../qjournal/v1/JournalRequest.ts';
import type { JournalResponse as _qjournal_v1_JournalResponse, JournalResponse__Output as _qjournal_v1_JournalResponse__Output } from '../../qjournal/v1/JournalResponse.ts';
import type { LeaseResponse as _qjournal_v1_LeaseResponse, LeaseResponse__Output as _qjournal_v1_LeaseResponse__Output } from '../../qjournal/v1/LeaseResponse.ts';
import type { NewEpochRequest as _qjournal_v1_NewEpochRequest, NewEpochRequest__Output as _qjournal_v1_NewEpochRequest__Output } from '../../qjournal/v1/NewEpochRequest.ts';
import type { NewEpochResponse as _qjournal_v1_NewEpochResponse, NewEpochResponse__Output as _qjournal_v1_NewEpochResponse__Output } from '../../qjournal/v1/NewEpochResponse.ts';
import type { PurgeRequest as _qjournal_v1_PurgeRequest, PurgeRequest__Output as _qjournal_v1_PurgeRequest__Output } from '../../qjournal/v1/PurgeRequest.ts';
import type { PurgeResponse as _qjournal_v1_PurgeResponse, PurgeResponse__Output as _qjournal_v1_PurgeResponse__Output } from '../../qjournal/v1/PurgeResponse.ts';
import type { ReleaseLeaseRequest as _qjournal_v1_ReleaseLeaseRequest, ReleaseLeaseRequest__Output as _qjournal_v1_ReleaseLeaseRequest__Output } from '../../qjournal/v1/ReleaseLeaseRequest.ts';
import type { RenewLeaseRequest as _qjournal_v1_RenewLeaseRequest, RenewLeaseRequest__Output as _qjournal_v1_RenewLeaseRequest__Output } from '../../qjournal/v1/RenewLeaseRequest.ts';
import type { StartSegmentRequest as _qjournal_v1_StartSegmentRequest, StartSegmentRequest__Output as _qjournal_v1_StartSegmentRequest__Output } from '../../qjournal/v1/StartSegmentRequest.ts';
import type { StartSegmentResponse as _qjournal_v1_StartSegmentResponse, StartSegmentResponse__Output as _qjournal_v1_StartSegmentResponse__Output } from '../../qjournal/v1/StartSegmentResponse.ts';

export interface QJournalClient extends grpc.Client {
  /**
   * Embedded election: a lease per (journal_id, lease_name), held by one candidate for a TTL
   * measured on the Raft leader's clock. token = the Raft index of the acquire: it strictly
   * increases from one holding to the next and is meant to be used as the writer's epoch.
   */
  AcquireLease(argument: _qjournal_v1_AcquireLeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  AcquireLease(argument: _qjournal_v1_AcquireLeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  AcquireLease(argument: _qjournal_v1_AcquireLeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  AcquireLease(argument: _qjournal_v1_AcquireLeaseRequest, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Embedded election: a lease per (journal_id, lease_name), held by one candidate for a TTL
   * measured on the Raft leader's clock. token = the Raft index of the acquire: it strictly
   * increases from one holding to the next and is meant to be used as the writer's epoch.
   */
  acquireLease(argument: _qjournal_v1_AcquireLeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  acquireLease(argument: _qjournal_v1_AcquireLeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  acquireLease(argument: _qjournal_v1_AcquireLeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  acquireLease(argument: _qjournal_v1_AcquireLeaseRequest, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Close the open segment at its last txid (an empty one is dropped).
   */
  Finalize(argument: _qjournal_v1_FinalizeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_FinalizeResponse__Output>): grpc.ClientUnaryCall;
  Finalize(argument: _qjournal_v1_FinalizeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_FinalizeResponse__Output>): grpc.ClientUnaryCall;
  Finalize(argument: _qjournal_v1_FinalizeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_FinalizeResponse__Output>): grpc.ClientUnaryCall;
  Finalize(argument: _qjournal_v1_FinalizeRequest, callback: grpc.requestCallback<_qjournal_v1_FinalizeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Close the open segment at its last txid (an empty one is dropped).
   */
  finalize(argument: _qjournal_v1_FinalizeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_FinalizeResponse__Output>): grpc.ClientUnaryCall;
  finalize(argument: _qjournal_v1_FinalizeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_FinalizeResponse__Output>): grpc.ClientUnaryCall;
  finalize(argument: _qjournal_v1_FinalizeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_FinalizeResponse__Output>): grpc.ClientUnaryCall;
  finalize(argument: _qjournal_v1_FinalizeRequest, callback: grpc.requestCallback<_qjournal_v1_FinalizeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Sets the namespace of a journal. Refused (ALREADY_FORMATTED) when the journal exists,
   * unless `force`; a retry of an identical format of a journal that holds no data is acknowledged.
   */
  Format(argument: _qjournal_v1_FormatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_FormatResponse__Output>): grpc.ClientUnaryCall;
  Format(argument: _qjournal_v1_FormatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_FormatResponse__Output>): grpc.ClientUnaryCall;
  Format(argument: _qjournal_v1_FormatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_FormatResponse__Output>): grpc.ClientUnaryCall;
  Format(argument: _qjournal_v1_FormatRequest, callback: grpc.requestCallback<_qjournal_v1_FormatResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Sets the namespace of a journal. Refused (ALREADY_FORMATTED) when the journal exists,
   * unless `force`; a retry of an identical format of a journal that holds no data is acknowledged.
   */
  format(argument: _qjournal_v1_FormatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_FormatResponse__Output>): grpc.ClientUnaryCall;
  format(argument: _qjournal_v1_FormatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_FormatResponse__Output>): grpc.ClientUnaryCall;
  format(argument: _qjournal_v1_FormatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_FormatResponse__Output>): grpc.ClientUnaryCall;
  format(argument: _qjournal_v1_FormatRequest, callback: grpc.requestCallback<_qjournal_v1_FormatResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Segments holding txids >= since_tx_id: finalized ones, then the in-progress one.
   */
  GetEditLogManifest(argument: _qjournal_v1_GetEditLogManifestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_GetEditLogManifestResponse__Output>): grpc.ClientUnaryCall;
  GetEditLogManifest(argument: _qjournal_v1_GetEditLogManifestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_GetEditLogManifestResponse__Output>): grpc.ClientUnaryCall;
  GetEditLogManifest(argument: _qjournal_v1_GetEditLogManifestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_GetEditLogManifestResponse__Output>): grpc.ClientUnaryCall;
  GetEditLogManifest(argument: _qjournal_v1_GetEditLogManifestRequest, callback: grpc.requestCallback<_qjournal_v1_GetEditLogManifestResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Segments holding txids >= since_tx_id: finalized ones, then the in-progress one.
   */
  getEditLogManifest(argument: _qjournal_v1_GetEditLogManifestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_GetEditLogManifestResponse__Output>): grpc.ClientUnaryCall;
  getEditLogManifest(argument: _qjournal_v1_GetEditLogManifestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_GetEditLogManifestResponse__Output>): grpc.ClientUnaryCall;
  getEditLogManifest(argument: _qjournal_v1_GetEditLogManifestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_GetEditLogManifestResponse__Output>): grpc.ClientUnaryCall;
  getEditLogManifest(argument: _qjournal_v1_GetEditLogManifestRequest, callback: grpc.requestCallback<_qjournal_v1_GetEditLogManifestResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The journal's epochs, namespace and txid range.
   */
  GetJournalState(argument: _qjournal_v1_GetJournalStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_GetJournalStateResponse__Output>): grpc.ClientUnaryCall;
  GetJournalState(argument: _qjournal_v1_GetJournalStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_GetJournalStateResponse__Output>): grpc.ClientUnaryCall;
  GetJournalState(argument: _qjournal_v1_GetJournalStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_GetJournalStateResponse__Output>): grpc.ClientUnaryCall;
  GetJournalState(argument: _qjournal_v1_GetJournalStateRequest, callback: grpc.requestCallback<_qjournal_v1_GetJournalStateResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The journal's epochs, namespace and txid range.
   */
  getJournalState(argument: _qjournal_v1_GetJournalStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_GetJournalStateResponse__Output>): grpc.ClientUnaryCall;
  getJournalState(argument: _qjournal_v1_GetJournalStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_GetJournalStateResponse__Output>): grpc.ClientUnaryCall;
  getJournalState(argument: _qjournal_v1_GetJournalStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_GetJournalStateResponse__Output>): grpc.ClientUnaryCall;
  getJournalState(argument: _qjournal_v1_GetJournalStateRequest, callback: grpc.requestCallback<_qjournal_v1_GetJournalStateResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Committed records from from_tx_id, bounded by max_count and max_bytes, across segments.
   */
  GetJournaledEdits(argument: _qjournal_v1_GetJournaledEditsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_GetJournaledEditsResponse__Output>): grpc.ClientUnaryCall;
  GetJournaledEdits(argument: _qjournal_v1_GetJournaledEditsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_GetJournaledEditsResponse__Output>): grpc.ClientUnaryCall;
  GetJournaledEdits(argument: _qjournal_v1_GetJournaledEditsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_GetJournaledEditsResponse__Output>): grpc.ClientUnaryCall;
  GetJournaledEdits(argument: _qjournal_v1_GetJournaledEditsRequest, callback: grpc.requestCallback<_qjournal_v1_GetJournaledEditsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Committed records from from_tx_id, bounded by max_count and max_bytes, across segments.
   */
  getJournaledEdits(argument: _qjournal_v1_GetJournaledEditsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_GetJournaledEditsResponse__Output>): grpc.ClientUnaryCall;
  getJournaledEdits(argument: _qjournal_v1_GetJournaledEditsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_GetJournaledEditsResponse__Output>): grpc.ClientUnaryCall;
  getJournaledEdits(argument: _qjournal_v1_GetJournaledEditsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_GetJournaledEditsResponse__Output>): grpc.ClientUnaryCall;
  getJournaledEdits(argument: _qjournal_v1_GetJournaledEditsRequest, callback: grpc.requestCallback<_qjournal_v1_GetJournaledEditsResponse__Output>): grpc.ClientUnaryCall;
  
  GetLease(argument: _qjournal_v1_GetLeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  GetLease(argument: _qjournal_v1_GetLeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  GetLease(argument: _qjournal_v1_GetLeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  GetLease(argument: _qjournal_v1_GetLeaseRequest, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  getLease(argument: _qjournal_v1_GetLeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  getLease(argument: _qjournal_v1_GetLeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  getLease(argument: _qjournal_v1_GetLeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  getLease(argument: _qjournal_v1_GetLeaseRequest, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Append one batch of framed records to the open segment.
   */
  Journal(argument: _qjournal_v1_JournalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_JournalResponse__Output>): grpc.ClientUnaryCall;
  Journal(argument: _qjournal_v1_JournalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_JournalResponse__Output>): grpc.ClientUnaryCall;
  Journal(argument: _qjournal_v1_JournalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_JournalResponse__Output>): grpc.ClientUnaryCall;
  Journal(argument: _qjournal_v1_JournalRequest, callback: grpc.requestCallback<_qjournal_v1_JournalResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Append one batch of framed records to the open segment.
   */
  journal(argument: _qjournal_v1_JournalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_JournalResponse__Output>): grpc.ClientUnaryCall;
  journal(argument: _qjournal_v1_JournalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_JournalResponse__Output>): grpc.ClientUnaryCall;
  journal(argument: _qjournal_v1_JournalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_JournalResponse__Output>): grpc.ClientUnaryCall;
  journal(argument: _qjournal_v1_JournalRequest, callback: grpc.requestCallback<_qjournal_v1_JournalResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Pipelined writes: send JournalRequests with increasing `sequence` without waiting; the
   * server applies them in stream order and answers each, in the same order, echoing `sequence`.
   * After an error response the client must not assume later requests of the stream succeeded:
   * each carries its own response.
   */
  JournalStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_qjournal_v1_JournalRequest, _qjournal_v1_JournalResponse__Output>;
  JournalStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_qjournal_v1_JournalRequest, _qjournal_v1_JournalResponse__Output>;
  /**
   * Pipelined writes: send JournalRequests with increasing `sequence` without waiting; the
   * server applies them in stream order and answers each, in the same order, echoing `sequence`.
   * After an error response the client must not assume later requests of the stream succeeded:
   * each carries its own response.
   */
  journalStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_qjournal_v1_JournalRequest, _qjournal_v1_JournalResponse__Output>;
  journalStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_qjournal_v1_JournalRequest, _qjournal_v1_JournalResponse__Output>;
  
  /**
   * Promise `epoch` (must exceed the promised epoch): fences every writer of a lower epoch.
   * Returns the last segment so the new writer can recover it.
   */
  NewEpoch(argument: _qjournal_v1_NewEpochRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_NewEpochResponse__Output>): grpc.ClientUnaryCall;
  NewEpoch(argument: _qjournal_v1_NewEpochRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_NewEpochResponse__Output>): grpc.ClientUnaryCall;
  NewEpoch(argument: _qjournal_v1_NewEpochRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_NewEpochResponse__Output>): grpc.ClientUnaryCall;
  NewEpoch(argument: _qjournal_v1_NewEpochRequest, callback: grpc.requestCallback<_qjournal_v1_NewEpochResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Promise `epoch` (must exceed the promised epoch): fences every writer of a lower epoch.
   * Returns the last segment so the new writer can recover it.
   */
  newEpoch(argument: _qjournal_v1_NewEpochRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_NewEpochResponse__Output>): grpc.ClientUnaryCall;
  newEpoch(argument: _qjournal_v1_NewEpochRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_NewEpochResponse__Output>): grpc.ClientUnaryCall;
  newEpoch(argument: _qjournal_v1_NewEpochRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_NewEpochResponse__Output>): grpc.ClientUnaryCall;
  newEpoch(argument: _qjournal_v1_NewEpochRequest, callback: grpc.requestCallback<_qjournal_v1_NewEpochResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Delete finalized segments that end before min_tx_id_to_keep.
   */
  Purge(argument: _qjournal_v1_PurgeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_PurgeResponse__Output>): grpc.ClientUnaryCall;
  Purge(argument: _qjournal_v1_PurgeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_PurgeResponse__Output>): grpc.ClientUnaryCall;
  Purge(argument: _qjournal_v1_PurgeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_PurgeResponse__Output>): grpc.ClientUnaryCall;
  Purge(argument: _qjournal_v1_PurgeRequest, callback: grpc.requestCallback<_qjournal_v1_PurgeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Delete finalized segments that end before min_tx_id_to_keep.
   */
  purge(argument: _qjournal_v1_PurgeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_PurgeResponse__Output>): grpc.ClientUnaryCall;
  purge(argument: _qjournal_v1_PurgeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_PurgeResponse__Output>): grpc.ClientUnaryCall;
  purge(argument: _qjournal_v1_PurgeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_PurgeResponse__Output>): grpc.ClientUnaryCall;
  purge(argument: _qjournal_v1_PurgeRequest, callback: grpc.requestCallback<_qjournal_v1_PurgeResponse__Output>): grpc.ClientUnaryCall;
  
  ReleaseLease(argument: _qjournal_v1_ReleaseLeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  ReleaseLease(argument: _qjournal_v1_ReleaseLeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  ReleaseLease(argument: _qjournal_v1_ReleaseLeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  ReleaseLease(argument: _qjournal_v1_ReleaseLeaseRequest, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  releaseLease(argument: _qjournal_v1_ReleaseLeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  releaseLease(argument: _qjournal_v1_ReleaseLeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  releaseLease(argument: _qjournal_v1_ReleaseLeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  releaseLease(argument: _qjournal_v1_ReleaseLeaseRequest, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  
  RenewLease(argument: _qjournal_v1_RenewLeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  RenewLease(argument: _qjournal_v1_RenewLeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  RenewLease(argument: _qjournal_v1_RenewLeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  RenewLease(argument: _qjournal_v1_RenewLeaseRequest, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  renewLease(argument: _qjournal_v1_RenewLeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  renewLease(argument: _qjournal_v1_RenewLeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  renewLease(argument: _qjournal_v1_RenewLeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  renewLease(argument: _qjournal_v1_RenewLeaseRequest, callback: grpc.requestCallback<_qjournal_v1_LeaseResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Open segment `edits_inprogress_<tx_id>`; tx_id must be the journal's last txid + 1.
   */
  StartSegment(argument: _qjournal_v1_StartSegmentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_StartSegmentResponse__Output>): grpc.ClientUnaryCall;
  StartSegment(argument: _qjournal_v1_StartSegmentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_StartSegmentResponse__Output>): grpc.ClientUnaryCall;
  StartSegment(argument: _qjournal_v1_StartSegmentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_StartSegmentResponse__Output>): grpc.ClientUnaryCall;
  StartSegment(argument: _qjournal_v1_StartSegmentRequest, callback: grpc.requestCallback<_qjournal_v1_StartSegmentResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Open segment `edits_inprogress_<tx_id>`; tx_id must be the journal's last txid + 1.
   */
  startSegment(argument: _qjournal_v1_StartSegmentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_StartSegmentResponse__Output>): grpc.ClientUnaryCall;
  startSegment(argument: _qjournal_v1_StartSegmentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_qjournal_v1_StartSegmentResponse__Output>): grpc.ClientUnaryCall;
  startSegment(argument: _qjournal_v1_StartSegmentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_qjournal_v1_StartSegmentResponse__Output>): grpc.ClientUnaryCall;
  startSegment(argument: _qjournal_v1_StartSegmentRequest, callback: grpc.requestCallback<_qjournal_v1_StartSegmentResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface QJournalHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Embedded election: a lease per (journal_id, lease_name), held by one candidate for a TTL
   * measured on the Raft leader's clock. token = the Raft index of the acquire: it strictly
   * increases from one holding to the next and is meant to be used as the writer's epoch.
   */
  AcquireLease: grpc.handleUnaryCall<_qjournal_v1_AcquireLeaseRequest__Output, _qjournal_v1_LeaseResponse>;
  
  /**
   * Close the open segment at its last txid (an empty one is dropped).
   */
  Finalize: grpc.handleUnaryCall<_qjournal_v1_FinalizeRequest__Output, _qjournal_v1_FinalizeResponse>;
  
  /**
   * Sets the namespace of a journal. Refused (ALREADY_FORMATTED) when the journal exists,
   * unless `force`; a retry of an identical format of a journal that holds no data is acknowledged.
   */
  Format: grpc.handleUnaryCall<_qjournal_v1_FormatRequest__Output, _qjournal_v1_FormatResponse>;
  
  /**
   * Segments holding txids >= since_tx_id: finalized ones, then the in-progress one.
   */
  GetEditLogManifest: grpc.handleUnaryCall<_qjournal_v1_GetEditLogManifestRequest__Output, _qjournal_v1_GetEditLogManifestResponse>;
  
  /**
   * The journal's epochs, namespace and txid range.
   */
  GetJournalState: grpc.handleUnaryCall<_qjournal_v1_GetJournalStateRequest__Output, _qjournal_v1_GetJournalStateResponse>;
  
  /**
   * Committed records from from_tx_id, bounded by max_count and max_bytes, across segments.
   */
  GetJournaledEdits: grpc.handleUnaryCall<_qjournal_v1_GetJournaledEditsRequest__Output, _qjournal_v1_GetJournaledEditsResponse>;
  
  GetLease: grpc.handleUnaryCall<_qjournal_v1_GetLeaseRequest__Output, _qjournal_v1_LeaseResponse>;
  
  /**
   * Append one batch of framed records to the open segment.
   */
  Journal: grpc.handleUnaryCall<_qjournal_v1_JournalRequest__Output, _qjournal_v1_JournalResponse>;
  
  /**
   * Pipelined writes: send JournalRequests with increasing `sequence` without waiting; the
   * server applies them in stream order and answers each, in the same order, echoing `sequence`.
   * After an error response the client must not assume later requests of the stream succeeded:
   * each carries its own response.
   */
  JournalStream: grpc.handleBidiStreamingCall<_qjournal_v1_JournalRequest__Output, _qjournal_v1_JournalResponse>;
  
  /**
   * Promise `epoch` (must exceed the promised epoch): fences every writer of a lower epoch.
   * Returns the last segment so the new writer can recover it.
   */
  NewEpoch: grpc.handleUnaryCall<_qjournal_v1_NewEpochRequest__Output, _qjournal_v1_NewEpochResponse>;
  
  /**
   * Delete finalized segments that end before min_tx_id_to_keep.
   */
  Purge: grpc.handleUnaryCall<_qjournal_v1_PurgeRequest__Output, _qjournal_v1_PurgeResponse>;
  
  ReleaseLease: grpc.handleUnaryCall<_qjournal_v1_ReleaseLeaseRequest__Output, _qjournal_v1_LeaseResponse>;
  
  RenewLease: grpc.handleUnaryCall<_qjournal_v1_RenewLeaseRequest__Output, _qjournal_v1_LeaseResponse>;
  
  /**
   * Open segment `edits_inprogress_<tx_id>`; tx_id must be the journal's last txid + 1.
   */
  StartSegment: grpc.handleUnaryCall<_qjournal_v1_StartSegmentRequest__Output, _qjournal_v1_StartSegmentResponse>;
  
}

export interface QJournalDefinition extends grpc.ServiceDefinition {
  AcquireLease: MethodDefinition<_qjournal_v1_AcquireLeaseRequest, _qjournal_v1_LeaseResponse, _qjournal_v1_AcquireLeaseRequest__Output, _qjournal_v1_LeaseResponse__Output>
  Finalize: MethodDefinition<_qjournal_v1_FinalizeRequest, _qjournal_v1_FinalizeResponse, _qjournal_v1_FinalizeRequest__Output, _qjournal_v1_FinalizeResponse__Output>
  Format: MethodDefinition<_qjournal_v1_FormatRequest, _qjournal_v1_FormatResponse, _qjournal_v1_FormatRequest__Output, _qjournal_v1_FormatResponse__Output>
  GetEditLogManifest: MethodDefinition<_qjournal_v1_GetEditLogManifestRequest, _qjournal_v1_GetEditLogManifestResponse, _qjournal_v1_GetEditLogManifestRequest__Output, _qjournal_v1_GetEditLogManifestResponse__Output>
  GetJournalState: MethodDefinition<_qjournal_v1_GetJournalStateRequest, _qjournal_v1_GetJournalStateResponse, _qjournal_v1_GetJournalStateRequest__Output, _qjournal_v1_GetJournalStateResponse__Output>
  GetJournaledEdits: MethodDefinition<_qjournal_v1_GetJournaledEditsRequest, _qjournal_v1_GetJournaledEditsResponse, _qjournal_v1_GetJournaledEditsRequest__Output, _qjournal_v1_GetJournaledEditsResponse__Output>
  GetLease: MethodDefinition<_qjournal_v1_GetLeaseRequest, _qjournal_v1_LeaseResponse, _qjournal_v1_GetLeaseRequest__Output, _qjournal_v1_LeaseResponse__Output>
  Journal: MethodDefinition<_qjournal_v1_JournalRequest, _qjournal_v1_JournalResponse, _qjournal_v1_JournalRequest__Output, _qjournal_v1_JournalResponse__Output>
  JournalStream: MethodDefinition<_qjournal_v1_JournalRequest, _qjournal_v1_JournalResponse, _qjournal_v1_JournalRequest__Output, _qjournal_v1_JournalResponse__Output>
  NewEpoch: MethodDefinition<_qjournal_v1_NewEpochRequest, _qjournal_v1_NewEpochResponse, _qjournal_v1_NewEpochRequest__Output, _qjournal_v1_NewEpochResponse__Output>
  Purge: MethodDefinition<_qjournal_v1_PurgeRequest, _qjournal_v1_PurgeResponse, _qjournal_v1_PurgeRequest__Output, _qjournal_v1_PurgeResponse__Output>
  ReleaseLease: MethodDefinition<_qjournal_v1_ReleaseLeaseRequest, _qjournal_v1_LeaseResponse, _qjournal_v1_ReleaseLeaseRequest__Output, _qjournal_v1_LeaseResponse__Output>
  RenewLease: MethodDefinition<_qjournal_v1_RenewLeaseRequest, _qjournal_v1_LeaseResponse, _qjournal_v1_RenewLeaseRequest__Output, _qjournal_v1_LeaseResponse__Output>
  StartSegment: MethodDefinition<_qjournal_v1_StartSegmentRequest, _qjournal_v1_StartSegmentResponse, _qjournal_v1_StartSegmentRequest__Output, _qjournal_v1_StartSegmentResponse__Output>
}
