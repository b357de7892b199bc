// Original file: journalnode/protocol/journal.proto

import type { Long } from '@grpc/proto-loader';

export interface JournalRequest {
  /**
   * Client sequence number on JournalStream (echoed in the response); ignored by the unary call.
   */
  'sequence'?: (number | string | Long);
  'journalId'?: (string);
  'epoch'?: (number | string | Long);
  'firstTxId'?: (number | string | Long);
  'count'?: (number);
  /**
   * `count` framed records (see the header of this file).
   */
  'records'?: (Buffer | Uint8Array | string);
  /**
   * CRC-32C of `records`.
   */
  'crc32c'?: (number);
  /**
   * Ignored bytes a writer may place right before `records` (libqjm sends 16): the JournalNode
   * that leads writes its Raft entry's header over them and the fields before, so that the
   * entry is the received message itself, not a copy of the batch (journal-request.ts).
   */
  'headroom'?: (Buffer | Uint8Array | string);
}

export interface JournalRequest__Output {
  /**
   * Client sequence number on JournalStream (echoed in the response); ignored by the unary call.
   */
  'sequence': (number);
  'journalId': (string);
  'epoch': (number);
  'firstTxId': (number);
  'count': (number);
  /**
   * `count` framed records (see the header of this file).
   */
  'records': (Buffer);
  /**
   * CRC-32C of `records`.
   */
  'crc32c': (number);
  /**
   * Ignored bytes a writer may place right before `records` (libqjm sends 16): the JournalNode
   * that leads writes its Raft entry's header over them and the fields before, so that the
   * entry is the received message itself, not a copy of the batch (journal-request.ts).
   */
  'headroom': (Buffer);
}
