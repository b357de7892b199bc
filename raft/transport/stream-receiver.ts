/**
 * The inbound half of the peer links: serves `Stream` calls. Each batch is checked whole
 * (sequence, every field of every message) before any of it is delivered; a malformed batch
 * ends the call with INVALID_ARGUMENT. Messages of another group or for another node are
 * dropped and counted.
 *
 * Acknowledgements are cumulative and lazy: one is written once {@link ACK_BYTES_MIN} payload
 * bytes arrived since the last (at the next turn), or {@link ACK_DELAY_MS} after the first batch
 * it would cover. They only release the sender's memory bound (sendQueueBytesMax, 64 MiB by
 * default), so an answer per batch would be a message per message for nothing: at one small
 * batch per write it was a third of the messages on the link.
 */
import * as grpc from '@grpc/grpc-js';
import type { Message, NodeId } from '../core/types.ts';
import { decodeMessage, decodeUint64 } from './codec.ts';
import { WireFormatError } from './errors.ts';
import type { MessageBatch__Output } from './generated/qjournal/raft/v1/MessageBatch.ts';
import type { StreamAck } from './generated/qjournal/raft/v1/StreamAck.ts';
import type { TransportStats } from './stats.ts';

type ServerStreamCall = grpc.ServerDuplexStream<MessageBatch__Output, StreamAck>;

/** Entry bytes received since the last acknowledgement that make the next one go at once. */
export const ACK_BYTES_MIN = 256 * 1024;
/** Longest wait of a received batch for its acknowledgement, ms. */
export const ACK_DELAY_MS = 20;
/** Bytes a message counts for besides its entries' data (ack accounting only). */
const ACK_MESSAGE_BYTES = 64;

export interface StreamReceiverOptions {
  readonly id: NodeId;
  readonly groupId: string;
  readonly stats: TransportStats;
  /** Hands checked messages to the core, in arrival order. */
  readonly deliver: (messages: Message[]) => void;
}

export class StreamReceiver {
  private readonly calls = new Set<ServerStreamCall>();
  private closed = false;

  constructor(private readonly options: StreamReceiverOptions) {}

  /** The grpc-js handler of `Stream`. */
  handle(call: ServerStreamCall): void {
    if (this.closed) {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'raft transport closed' });
      return;
    }
    this.calls.add(call);
    // Answer the headers now: the sender learns the link works without waiting for an ack.
    call.sendMetadata(new grpc.Metadata());
    let expectedSequence = 1;
    let failed = false;
    let ackSequence = 0;
    let ackedSequence = 0;
    let unackedBytes = 0;
    let ackImmediate: NodeJS.Immediate | undefined;
    let ackTimer: NodeJS.Timeout | undefined;
    const sendAck = (): void => {
      if (ackImmediate !== undefined) clearImmediate(ackImmediate);
      if (ackTimer !== undefined) clearTimeout(ackTimer);
      ackImmediate = undefined;
      ackTimer = undefined;
      if (failed || call.writableEnded || call.destroyed || ackSequence === ackedSequence) return;
      unackedBytes = 0;
      ackedSequence = ackSequence;
      this.options.stats.sentAcks += 1;
      call.write({ sequence: ackSequence });
    };
    call.on('data', (batch: MessageBatch__Output) => {
      if (failed) return;
      let accepted: Message[];
      try {
        const sequence = decodeUint64(batch.sequence, 'batch.sequence');
        if (sequence !== expectedSequence) throw new WireFormatError('batch.sequence', `expected ${expectedSequence}, got ${sequence}`);
        accepted = this.check(batch);
        expectedSequence += 1;
        ackSequence = sequence;
      } catch (e) {
        failed = true;
        this.options.stats.rejectedInbound += 1;
        call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: e instanceof Error ? e.message : String(e) });
        return;
      }
      this.options.stats.receivedBatches += 1;
      for (const m of accepted) {
        unackedBytes += ACK_MESSAGE_BYTES;
        for (const e of m.entries) unackedBytes += e.data.length;
      }
      if (unackedBytes >= ACK_BYTES_MIN) ackImmediate ??= setImmediate(sendAck);
      else ackTimer ??= setTimeout(sendAck, ACK_DELAY_MS);
      if (accepted.length > 0) {
        this.options.stats.receivedMessages += accepted.length;
        this.options.deliver(accepted);
      }
    });
    call.on('end', () => {
      if (!call.writableEnded) call.end();
    });
    call.on('error', () => {
      failed = true;
    });
    call.on('close', () => {
      failed = true;
      if (ackImmediate !== undefined) clearImmediate(ackImmediate);
      if (ackTimer !== undefined) clearTimeout(ackTimer);
      this.calls.delete(call);
    });
  }

  /** End every inbound call (status OK) and refuse new ones. */
  close(): void {
    this.closed = true;
    for (const call of this.calls) if (!call.writableEnded) call.end();
    this.calls.clear();
  }

  /** Decode every message of the batch; keep those of our group addressed to us. */
  private check(batch: MessageBatch__Output): Message[] {
    const wireMessages: unknown = batch.messages;
    if (!Array.isArray(wireMessages)) throw new WireFormatError('batch.messages', 'not a list');
    const decoded = (wireMessages as MessageBatch__Output['messages']).map((w, i) => decodeMessage(w, `batch.messages[${i}]`));
    const accepted: Message[] = [];
    for (const m of decoded) {
      if (m.type === 'MsgSnap') throw new WireFormatError('message.type', 'MsgSnap travels by InstallSnapshot only');
      if (m.groupId !== this.options.groupId) this.options.stats.droppedWrongGroup += 1;
      else if (m.to !== this.options.id) this.options.stats.droppedWrongRecipient += 1;
      else accepted.push(m);
    }
    return accepted;
  }
}
