// Original file: raft/transport/raft.proto

import type { Message as _qjournal_raft_v1_Message, Message__Output as _qjournal_raft_v1_Message__Output } from '../../../qjournal/raft/v1/Message.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Every message queued for one peer in one event-loop turn (bounded by messageBytesMax).
 * `sequence` starts at 1 on each stream and grows by one per batch.
 */
export interface MessageBatch {
  'sequence'?: (number | string | Long);
  'messages'?: (_qjournal_raft_v1_Message)[];
}

/**
 * Every message queued for one peer in one event-loop turn (bounded by messageBytesMax).
 * `sequence` starts at 1 on each stream and grows by one per batch.
 */
export interface MessageBatch__Output {
  'sequence': (number);
  'messages': (_qjournal_raft_v1_Message__Output)[];
}
