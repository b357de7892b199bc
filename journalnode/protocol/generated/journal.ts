import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AcquireLeaseRequest as _qjournal_v1_AcquireLeaseRequest, AcquireLeaseRequest__Output as _qjournal_v1_AcquireLeaseRequest__Output } from './qjournal/v1/AcquireLeaseRequest.ts';
import type { EditLogManifest as _qjournal_v1_EditLogManifest, EditLogManifest__Output as _qjournal_v1_EditLogManifest__Output } from './qjournal/v1/EditLogManifest.ts';
import type { FinalizeRequest as _qjournal_v1_FinalizeRequest, FinalizeRequest__Output as _qjournal_v1_FinalizeRequest__Output } from './qjournal/v1/FinalizeRequest.ts';
import type { FinalizeResponse as _qjournal_v1_FinalizeResponse, FinalizeResponse__Output as _qjournal_v1_FinalizeResponse__Output } from './qjournal/v1/FinalizeResponse.ts';
import type { FinalizeResult as _qjournal_v1_FinalizeResult, FinalizeResult__Output as _qjournal_v1_FinalizeResult__Output } from './qjournal/v1/FinalizeResult.ts';
import type { FormatRequest as _qjournal_v1_FormatRequest, FormatRequest__Output as _qjournal_v1_FormatRequest__Output } from './qjournal/v1/FormatRequest.ts';
import type { FormatResponse as _qjournal_v1_FormatResponse, FormatResponse__Output as _qjournal_v1_FormatResponse__Output } from './qjournal/v1/FormatResponse.ts';
import type { FormatResult as _qjournal_v1_FormatResult, FormatResult__Output as _qjournal_v1_FormatResult__Output } from './qjournal/v1/FormatResult.ts';
import type { GetEditLogManifestRequest as _qjournal_v1_GetEditLogManifestRequest, GetEditLogManifestRequest__Output as _qjournal_v1_GetEditLogManifestRequest__Output } from './qjournal/v1/GetEditLogManifestRequest.ts';
import type { GetEditLogManifestResponse as _qjournal_v1_GetEditLogManifestResponse, GetEditLogManifestResponse__Output as _qjournal_v1_GetEditLogManifestResponse__Output } from './qjournal/v1/GetEditLogManifestResponse.ts';
import type { GetJournalStateRequest as _qjournal_v1_GetJournalStateRequest, GetJournalStateRequest__Output as _qjournal_v1_GetJournalStateRequest__Output } from './qjournal/v1/GetJournalStateRequest.ts';
import type { GetJournalStateResponse as _qjournal_v1_GetJournalStateResponse, GetJournalStateResponse__Output as _qjournal_v1_GetJournalStateResponse__Output } from './qjournal/v1/GetJournalStateResponse.ts';
import type { GetJournaledEditsRequest as _qjournal_v1_GetJournaledEditsRequest, GetJournaledEditsRequest__Output as _qjournal_v1_GetJournaledEditsRequest__Output } from './qjournal/v1/GetJournaledEditsRequest.ts';
import type { GetJournaledEditsResponse as _qjournal_v1_GetJournaledEditsResponse, GetJournaledEditsResponse__Output as _qjournal_v1_GetJournaledEditsResponse__Output } from './qjournal/v1/GetJournaledEditsResponse.ts';
import type { GetLeaseRequest as _qjournal_v1_GetLeaseRequest, GetLeaseRequest__Output as _qjournal_v1_GetLeaseRequest__Output } from './qjournal/v1/GetLeaseRequest.ts';
import type { JournalError as _qjournal_v1_JournalError, JournalError__Output as _qjournal_v1_JournalError__Output } from './qjournal/v1/JournalError.ts';
import type { JournalRequest as _qjournal_v1_JournalRequest, JournalRequest__Output as _qjournal_v1_JournalRequest__Output } from './qjournal/v1/JournalRequest.ts';
import type { JournalResponse as _qjournal_v1_JournalResponse, JournalResponse__Output as _qjournal_v1_JournalResponse__Output } from './qjournal/v1/JournalResponse.ts';
import type { JournalResult as _qjournal_v1_JournalResult, JournalResult__Output as _qjournal_v1_JournalResult__Output } from './qjournal/v1/JournalResult.ts';
import type { JournalState as _qjournal_v1_JournalState, JournalState__Output as _qjournal_v1_JournalState__Output } from './qjournal/v1/JournalState.ts';
import type { JournaledEdits as _qjournal_v1_JournaledEdits, JournaledEdits__Output as _qjournal_v1_JournaledEdits__Output } from './qjournal/v1/JournaledEdits.ts';
import type { Lease as _qjournal_v1_Lease, Lease__Output as _qjournal_v1_Lease__Output } from './qjournal/v1/Lease.ts';
import type { LeaseResponse as _qjournal_v1_LeaseResponse, LeaseResponse__Output as _qjournal_v1_LeaseResponse__Output } from './qjournal/v1/LeaseResponse.ts';
import type { LeaseResult as _qjournal_v1_LeaseResult, LeaseResult__Output as _qjournal_v1_LeaseResult__Output } from './qjournal/v1/LeaseResult.ts';
import type { NamespaceInfo as _qjournal_v1_NamespaceInfo, NamespaceInfo__Output as _qjournal_v1_NamespaceInfo__Output } from './qjournal/v1/NamespaceInfo.ts';
import type { NewEpochRequest as _qjournal_v1_NewEpochRequest, NewEpochRequest__Output as _qjournal_v1_NewEpochRequest__Output } from './qjournal/v1/NewEpochRequest.ts';
import type { NewEpochResponse as _qjournal_v1_NewEpochResponse, NewEpochResponse__Output as _qjournal_v1_NewEpochResponse__Output } from './qjournal/v1/NewEpochResponse.ts';
import type { NewEpochResult as _qjournal_v1_NewEpochResult, NewEpochResult__Output as _qjournal_v1_NewEpochResult__Output } from './qjournal/v1/NewEpochResult.ts';
import type { PurgeRequest as _qjournal_v1_PurgeRequest, PurgeRequest__Output as _qjournal_v1_PurgeRequest__Output } from './qjournal/v1/PurgeRequest.ts';
import type { PurgeResponse as _qjournal_v1_PurgeResponse, PurgeResponse__Output as _qjournal_v1_PurgeResponse__Output } from './qjournal/v1/PurgeResponse.ts';
import type { PurgeResult as _qjournal_v1_PurgeResult, PurgeResult__Output as _qjournal_v1_PurgeResult__Output } from './qjournal/v1/PurgeResult.ts';
import type { QJournalClient as _qjournal_v1_QJournalClient, QJournalDefinition as _qjournal_v1_QJournalDefinition } from './qjournal/v1/QJournal.ts';
import type { ReleaseLeaseRequest as _qjournal_v1_ReleaseLeaseRequest, ReleaseLeaseRequest__Output as _qjournal_v1_ReleaseLeaseRequest__Output } from './qjournal/v1/ReleaseLeaseRequest.ts';
import type { RenewLeaseRequest as _qjournal_v1_RenewLeaseRequest, RenewLeaseRequest__Output as _qjournal_v1_RenewLeaseRequest__Output } from './qjournal/v1/RenewLeaseRequest.ts';
import type { SegmentInfo as _qjournal_v1_SegmentInfo, SegmentInfo__Output as _qjournal_v1_SegmentInfo__Output } from './qjournal/v1/SegmentInfo.ts';
import type { StartSegmentRequest as _qjournal_v1_StartSegmentRequest, StartSegmentRequest__Output as _qjournal_v1_StartSegmentRequest__Output } from './qjournal/v1/StartSegmentRequest.ts';
import type { StartSegmentResponse as _qjournal_v1_StartSegmentResponse, StartSegmentResponse__Output as _qjournal_v1_StartSegmentResponse__Output } from './qjournal/v1/StartSegmentResponse.ts';
import type { StartSegmentResult as _qjournal_v1_StartSegmentResult, StartSegmentResult__Output as _qjournal_v1_StartSegmentResult__Output } from './qjournal/v1/StartSegmentResult.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  qjournal: {
    v1: {
      AcquireLeaseRequest: MessageTypeDefinition<_qjournal_v1_AcquireLeaseRequest, _qjournal_v1_AcquireLeaseRequest__Output>
      EditLogManifest: MessageTypeDefinition<_qjournal_v1_EditLogManifest, _qjournal_v1_EditLogManifest__Output>
      FinalizeRequest: MessageTypeDefinition<_qjournal_v1_FinalizeRequest, _qjournal_v1_FinalizeRequest__Output>
      FinalizeResponse: MessageTypeDefinition<_qjournal_v1_FinalizeResponse, _qjournal_v1_FinalizeResponse__Output>
      FinalizeResult: MessageTypeDefinition<_qjournal_v1_FinalizeResult, _qjournal_v1_FinalizeResult__Output>
      FormatRequest: MessageTypeDefinition<_qjournal_v1_FormatRequest, _qjournal_v1_FormatRequest__Output>
      FormatResponse: MessageTypeDefinition<_qjournal_v1_FormatResponse, _qjournal_v1_FormatResponse__Output>
      FormatResult: MessageTypeDefinition<_qjournal_v1_FormatResult, _qjournal_v1_FormatResult__Output>
      GetEditLogManifestRequest: MessageTypeDefinition<_qjournal_v1_GetEditLogManifestRequest, _qjournal_v1_GetEditLogManifestRequest__Output>
      GetEditLogManifestResponse: MessageTypeDefinition<_qjournal_v1_GetEditLogManifestResponse, _qjournal_v1_GetEditLogManifestResponse__Output>
      GetJournalStateRequest: MessageTypeDefinition<_qjournal_v1_GetJournalStateRequest, _qjournal_v1_GetJournalStateRequest__Output>
      GetJournalStateResponse: MessageTypeDefinition<_qjournal_v1_GetJournalStateResponse, _qjournal_v1_GetJournalStateResponse__Output>
      GetJournaledEditsRequest: MessageTypeDefinition<_qjournal_v1_GetJournaledEditsRequest, _qjournal_v1_GetJournaledEditsRequest__Output>
      GetJournaledEditsResponse: MessageTypeDefinition<_qjournal_v1_GetJournaledEditsResponse, _qjournal_v1_GetJournaledEditsResponse__Output>
      GetLeaseRequest: MessageTypeDefinition<_qjournal_v1_GetLeaseRequest, _qjournal_v1_GetLeaseRequest__Output>
      JournalError: MessageTypeDefinition<_qjournal_v1_JournalError, _qjournal_v1_JournalError__Output>
      JournalErrorCode: EnumTypeDefinition
      JournalRequest: MessageTypeDefinition<_qjournal_v1_JournalRequest, _qjournal_v1_JournalRequest__Output>
      JournalResponse: MessageTypeDefinition<_qjournal_v1_JournalResponse, _qjournal_v1_JournalResponse__Output>
      JournalResult: MessageTypeDefinition<_qjournal_v1_JournalResult, _qjournal_v1_JournalResult__Output>
      JournalState: MessageTypeDefinition<_qjournal_v1_JournalState, _qjournal_v1_JournalState__Output>
      JournaledEdits: MessageTypeDefinition<_qjournal_v1_JournaledEdits, _qjournal_v1_JournaledEdits__Output>
      Lease: MessageTypeDefinition<_qjournal_v1_Lease, _qjournal_v1_Lease__Output>
      LeaseResponse: MessageTypeDefinition<_qjournal_v1_LeaseResponse, _qjournal_v1_LeaseResponse__Output>
      LeaseResult: MessageTypeDefinition<_qjournal_v1_LeaseResult, _qjournal_v1_LeaseResult__Output>
      NamespaceInfo: MessageTypeDefinition<_qjournal_v1_NamespaceInfo, _qjournal_v1_NamespaceInfo__Output>
      NewEpochRequest: MessageTypeDefinition<_qjournal_v1_NewEpochRequest, _qjournal_v1_NewEpochRequest__Output>
      NewEpochResponse: MessageTypeDefinition<_qjournal_v1_NewEpochResponse, _qjournal_v1_NewEpochResponse__Output>
      NewEpochResult: MessageTypeDefinition<_qjournal_v1_NewEpochResult, _qjournal_v1_NewEpochResult__Output>
      PurgeRequest: MessageTypeDefinition<_qjournal_v1_PurgeRequest, _qjournal_v1_PurgeRequest__Output>
      PurgeResponse: MessageTypeDefinition<_qjournal_v1_PurgeResponse, _qjournal_v1_PurgeResponse__Output>
      PurgeResult: MessageTypeDefinition<_qjournal_v1_PurgeResult, _qjournal_v1_PurgeResult__Output>
      QJournal: SubtypeConstructor<typeof grpc.Client, _qjournal_v1_QJournalClient> & { service: _qjournal_v1_QJournalDefinition }
      ReleaseLeaseRequest: MessageTypeDefinition<_qjournal_v1_ReleaseLeaseRequest, _qjournal_v1_ReleaseLeaseRequest__Output>
      RenewLeaseRequest: MessageTypeDefinition<_qjournal_v1_RenewLeaseRequest, _qjournal_v1_RenewLeaseRequest__Output>
      SegmentInfo: MessageTypeDefinition<_qjournal_v1_SegmentInfo, _qjournal_v1_SegmentInfo__Output>
      StartSegmentRequest: MessageTypeDefinition<_qjournal_v1_StartSegmentRequest, _qjournal_v1_StartSegmentRequest__Output>
      StartSegmentResponse: MessageTypeDefinition<_qjournal_v1_StartSegmentResponse, _qjournal_v1_StartSegmentResponse__Output>
      StartSegmentResult: MessageTypeDefinition<_qjournal_v1_StartSegmentResult, _qjournal_v1_StartSegmentResult__Output>
    }
  }
}

