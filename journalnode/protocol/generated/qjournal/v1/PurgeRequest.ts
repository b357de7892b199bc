// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface PurgeRequest {
  'journalId'?: (string);
  /**
   * The writer's epoch (must equal the promised epoch), or 0 for an operator's purge.
   */
  'epoch'?: (number | string | Long);
  'minTxIdToKeep'?: (number | string | Long);
}

export interface PurgeRequest__Output {
  'journalId': (string);
  /**
   * The writer's epoch (must equal the promised epoch), or 0 for an operator's purge.
   */
  'epoch': (number);
  'minTxIdToKeep': (number);
}
