/** Counters of one transport, all monotonic since construction. Bytes are wire bytes (protobuf encoded). */
export interface TransportStats {
  /** Messages written to peer streams. */
  sentMessages: number;
  /** MessageBatch writes (one per peer per synchronous run, more when a turn exceeds messageBytesMax). */
  sentBatches: number;
  /** Encoded bytes of every request this transport's clients serialized (batches, snapshot chunks). */
  sentBytes: number;
  /** Messages handed to `onMessages` (stream messages and installed MsgSnaps). */
  receivedMessages: number;
  receivedBatches: number;
  /** Acknowledgements written to peers' streams (cumulative, lazy: see stream-receiver.ts). */
  sentAcks: number;
  /** Encoded bytes of every request the server side received (before decoding). */
  receivedBytes: number;
  /** Outbound messages dropped because the peer's send queue was full. */
  droppedQueueFull: number;
  /** Outbound messages dropped because they alone exceed messageBytesMax. */
  droppedOversize: number;
  /** Outbound messages dropped because the peer had no address, was backing off, or its stream broke. */
  droppedUnreachable: number;
  /** Outbound MsgSnaps dropped because a transfer to that peer was already in flight. */
  droppedSnapshotBusy: number;
  /** Inbound messages dropped because their group id is not ours. */
  droppedWrongGroup: number;
  /** Inbound messages dropped because they are addressed to another node. */
  droppedWrongRecipient: number;
  /** Inbound calls and links refused for malformed or oversized data, or over INBOUND_LINKS_MAX. */
  rejectedInbound: number;
  /** Inbound links closed because a newer link of the same sender delivered. */
  replacedInbound: number;
  /**
   * Inbound links read through 'data' events, each read copied into its frame, because Node
   * would not let its reads be taken over (direct-read.ts). 0 on the Node versions this runs on.
   */
  copiedInbound: number;
  /** Outbound streams that ended with an error. */
  streamFailures: number;
  snapshotsSent: number;
  snapshotSendFailures: number;
  snapshotsReceived: number;
  snapshotReceiveFailures: number;
  /** File bytes sent in snapshot chunks. */
  snapshotBytesSent: number;
  /** File bytes received in snapshot chunks. */
  snapshotBytesReceived: number;
}

/** A fresh set of zero counters. */
export function newTransportStats(): TransportStats {
  return {
    sentMessages: 0,
    sentBatches: 0,
    sentBytes: 0,
    receivedMessages: 0,
    receivedBatches: 0,
    sentAcks: 0,
    receivedBytes: 0,
    droppedQueueFull: 0,
    droppedOversize: 0,
    droppedUnreachable: 0,
    droppedSnapshotBusy: 0,
    droppedWrongGroup: 0,
    droppedWrongRecipient: 0,
    rejectedInbound: 0,
    replacedInbound: 0,
    copiedInbound: 0,
    streamFailures: 0,
    snapshotsSent: 0,
    snapshotSendFailures: 0,
    snapshotsReceived: 0,
    snapshotReceiveFailures: 0,
    snapshotBytesSent: 0,
    snapshotBytesReceived: 0,
  };
}
