// Original file: journalnode/protocol/journal.proto

import type { NamespaceInfo as _qjournal_v1_NamespaceInfo, NamespaceInfo__Output as _qjournal_v1_NamespaceInfo__Output } from '../../qjournal/v1/NamespaceInfo.ts';
import type { Long } from '@grpc/proto-loader';

export interface NewEpochRequest {
  'journalId'?: (string);
  'namespace'?: (_qjournal_v1_NamespaceInfo | null);
  'epoch'?: (number | string | Long);
  /**
   * Optional identity of the writer (e.g. host:pid:random). A retry of NewEpoch with the same
   * epoch and the same non-empty writer_id is acknowledged instead of being fenced.
   */
  'writerId'?: (string);
}

export interface NewEpochRequest__Output {
  'journalId': (string);
  'namespace': (_qjournal_v1_NamespaceInfo__Output | null);
  'epoch': (number);
  /**
   * Optional identity of the writer (e.g. host:pid:random). A retry of NewEpoch with the same
   * epoch and the same non-empty writer_id is acknowledged instead of being fenced.
   */
  'writerId': (string);
}
