// Original file: raft/transport/raft.proto

/**
 * Mirrors raft/core/types.ts MessageType. UNSPECIFIED is never valid on the wire.
 */
export const MessageType = {
  MESSAGE_TYPE_UNSPECIFIED: 'MESSAGE_TYPE_UNSPECIFIED',
  MSG_APP: 'MSG_APP',
  MSG_APP_RESP: 'MSG_APP_RESP',
  MSG_VOTE: 'MSG_VOTE',
  MSG_VOTE_RESP: 'MSG_VOTE_RESP',
  MSG_PRE_VOTE: 'MSG_PRE_VOTE',
  MSG_PRE_VOTE_RESP: 'MSG_PRE_VOTE_RESP',
  MSG_HEARTBEAT: 'MSG_HEARTBEAT',
  MSG_HEARTBEAT_RESP: 'MSG_HEARTBEAT_RESP',
  MSG_SNAP: 'MSG_SNAP',
  MSG_PROP: 'MSG_PROP',
  MSG_TRANSFER_LEADER: 'MSG_TRANSFER_LEADER',
  MSG_TIMEOUT_NOW: 'MSG_TIMEOUT_NOW',
  MSG_READ_INDEX: 'MSG_READ_INDEX',
  MSG_READ_INDEX_RESP: 'MSG_READ_INDEX_RESP',
} as const;

/**
 * Mirrors raft/core/types.ts MessageType. UNSPECIFIED is never valid on the wire.
 */
export type MessageType =
  | 'MESSAGE_TYPE_UNSPECIFIED'
  | 0
  | 'MSG_APP'
  | 1
  | 'MSG_APP_RESP'
  | 2
  | 'MSG_VOTE'
  | 3
  | 'MSG_VOTE_RESP'
  | 4
  | 'MSG_PRE_VOTE'
  | 5
  | 'MSG_PRE_VOTE_RESP'
  | 6
  | 'MSG_HEARTBEAT'
  | 7
  | 'MSG_HEARTBEAT_RESP'
  | 8
  | 'MSG_SNAP'
  | 9
  | 'MSG_PROP'
  | 10
  | 'MSG_TRANSFER_LEADER'
  | 11
  | 'MSG_TIMEOUT_NOW'
  | 12
  | 'MSG_READ_INDEX'
  | 13
  | 'MSG_READ_INDEX_RESP'
  | 14

/**
 * Mirrors raft/core/types.ts MessageType. UNSPECIFIED is never valid on the wire.
 */
export type MessageType__Output = typeof MessageType[keyof typeof MessageType]
