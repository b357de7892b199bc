/**
 * The inbound half of the peer links: serves peer-link connections (peer-link.ts) handed over
 * by the shared port. Each batch is checked whole (sequence, every field of every message)
 * before any of it is delivered; a malformed frame or batch closes the connection. Messages
 * of another group or for another node are dropped and counted.
 *
 * Acknowledgements are cumulative and lazy: one is written once {@link ACK_BYTES_MIN} payload
 * bytes arrived since the last (at the next turn), or {@link ACK_DELAY_MS} after the first batch
 * it would cover. They release the sender's memory bound (sendQueueBytesMax, 64 MiB by
 * default) and prove the link alive (the sender's ackTimeoutMs), so an answer per batch would
 * be a message per message for nothing: at one small batch per write it was a third of the
 * messages on the link.
 */
import type { Socket } from 'node:net';
import type { Message, NodeId } from '../core/types.ts';
import { WireFormatError } from './errors.ts';
import { decodeBatchFrame, encodeAckFrame } from './link-codec.ts';
import { takeOverReads } from './direct-read.ts';
import { FrameReader, PEER_LINK_PREFACE, writeFrame } from './peer-link.ts';
import type { TransportStats } from './stats.ts';

/** Entry bytes received since the last acknowledgement that make the next one go at once. */
export const ACK_BYTES_MIN = 256 * 1024;
/** Longest wait of a received batch for its acknowledgement, ms. */
export const ACK_DELAY_MS = 20;
/** Bytes a message counts for besides its entries' data (ack accounting only). */
const ACK_MESSAGE_BYTES = 64;
/** Most inbound peer links served at once; more are closed at once (a group has a few members). */
export const INBOUND_LINKS_MAX = 64;

export interface StreamReceiverOptions {
  readonly id: NodeId;
  readonly groupId: string;
  readonly stats: TransportStats;
  /** Largest frame accepted, bytes (the transport's messageBytesMax). */
  readonly frameBytesMax: number;
  /** TCP keepalive probe delay of inbound links, ms (the transport's keepaliveTimeMs). */
  readonly keepaliveTimeMs: number;
  /** Hands checked messages to the core, in arrival order. */
  readonly deliver: (messages: Message[]) => void;
}

export class StreamReceiver {
  private readonly sockets = new Set<Socket>();
  /** The live link of each sender. */
  private readonly linkOf = new Map<NodeId, Socket>();
  private closed = false;

  constructor(private readonly options: StreamReceiverOptions) {}

  /**
   * Serve a peer link: `socket` was accepted and `head` is what was read from it so far (it
   * starts with the preface's first byte). Every later byte is read here.
   */
  handle(socket: Socket, head: Buffer): void {
    if (this.closed || this.sockets.size >= INBOUND_LINKS_MAX) {
      if (!this.closed) this.options.stats.rejectedInbound += 1;
      socket.destroy();
      return;
    }
    const stats = this.options.stats;
    const reader = new FrameReader(this.options.frameBytesMax, PEER_LINK_PREFACE);
    /** The socket of this link: `socket`, or the one that took its reads over. */
    let link: Socket = socket;
    /** The node this link carries messages from (the `from` of its first message; all must match). */
    let sender: NodeId | undefined;
    let expectedSequence = 1;
    let failed = false;
    let ackSequence = 0;
    let ackedSequence = 0;
    let unackedBytes = 0;
    let ackImmediate: NodeJS.Immediate | undefined;
    let ackTimer: NodeJS.Timeout | undefined;
    const fail = (): void => {
      failed = true;
      stats.rejectedInbound += 1;
      link.destroy();
    };
    const sendAck = (): void => {
      if (ackImmediate !== undefined) clearImmediate(ackImmediate);
      if (ackTimer !== undefined) clearTimeout(ackTimer);
      ackImmediate = undefined;
      ackTimer = undefined;
      if (failed || link.destroyed || ackSequence === ackedSequence) return;
      unackedBytes = 0;
      ackedSequence = ackSequence;
      stats.sentAcks += 1;
      writeFrame(link, encodeAckFrame(ackSequence));
    };
    const onFrame = (frame: Buffer): void => {
      let accepted: Message[];
      try {
        const batch = decodeBatchFrame(frame);
        const sequence = batch.sequence;
        if (sequence !== expectedSequence) throw new WireFormatError('batch.sequence', `expected ${expectedSequence}, got ${sequence}`);
        accepted = this.check(batch.messages, sender);
        // Only a batch that passed every check speaks for its sender.
        if (sender === undefined && batch.messages.length > 0) sender = this.takeSender(batch.messages[0]!.from, link);
        expectedSequence += 1;
        ackSequence = sequence;
      } catch {
        fail();
        return;
      }
      stats.receivedBatches += 1;
      for (const m of accepted) {
        unackedBytes += ACK_MESSAGE_BYTES;
        for (const e of m.entries) unackedBytes += e.data.length;
      }
      if (unackedBytes >= ACK_BYTES_MIN) ackImmediate ??= setImmediate(sendAck);
      else ackTimer ??= setTimeout(sendAck, ACK_DELAY_MS);
      if (accepted.length > 0) {
        stats.receivedMessages += accepted.length;
        this.options.deliver(accepted);
      }
    };
    let greeted = false;
    /** Take the frames a read completed; false once the link failed. */
    const onFrames = (read: () => Buffer[]): boolean => {
      if (failed) return false;
      let frames: Buffer[];
      let damaged = false;
      try {
        frames = read();
      } catch {
        frames = [];
        damaged = true;
      }
      // The link is taken: say so at once (the sender resets its reconnect backoff), also when
      // what follows the preface is refused.
      if (!greeted && reader.prefaceComplete) {
        greeted = true;
        writeFrame(link, encodeAckFrame(0));
      }
      if (damaged) {
        fail();
        return false;
      }
      for (const frame of frames) {
        if (failed) return false;
        onFrame(frame);
      }
      return !failed;
    };
    // The head goes into the reader before the takeover asks it where the first read goes.
    let fromHead: () => Buffer[];
    try {
      const frames = reader.push(head);
      fromHead = () => frames;
    } catch (error) {
      fromHead = () => {
        throw error;
      };
    }
    // Reads go straight into the frames' buffers where Node allows it (direct-read.ts).
    const direct = takeOverReads(socket, {
      buffer: () => reader.nextBuffer(),
      callback: (bytes) => {
        stats.receivedBytes += bytes;
        return onFrames(() => reader.filled(bytes));
      },
    });
    if (direct === undefined) {
      stats.copiedInbound += 1;
      socket.on('data', (chunk: Buffer) => {
        stats.receivedBytes += chunk.length;
        onFrames(() => reader.push(chunk));
      });
    } else {
      link = direct;
    }
    this.sockets.add(link);
    link.setKeepAlive(true, this.options.keepaliveTimeMs);
    link.on('error', () => {
      failed = true;
    });
    link.on('close', () => {
      failed = true;
      if (ackImmediate !== undefined) clearImmediate(ackImmediate);
      if (ackTimer !== undefined) clearTimeout(ackTimer);
      this.sockets.delete(link);
      if (sender !== undefined && this.linkOf.get(sender) === link) this.linkOf.delete(sender);
    });
    stats.receivedBytes += head.length;
    onFrames(fromHead);
    if (direct === undefined) socket.resume();
  }

  /**
   * `socket` now carries `sender`'s messages: an older link of the same sender is closed. A
   * sender dials again only once it gave its last link up, so the older one is dead, perhaps
   * without its close having reached us (a silent path): without this, such links would stay
   * open until TCP keepalive gave up on them, minutes later, and count against
   * INBOUND_LINKS_MAX meanwhile.
   */
  private takeSender(sender: NodeId, socket: Socket): NodeId {
    const previous = this.linkOf.get(sender);
    if (previous !== undefined && previous !== socket) {
      this.options.stats.replacedInbound += 1;
      previous.destroy();
    }
    this.linkOf.set(sender, socket);
    return sender;
  }

  /** Close every inbound link and refuse new ones. */
  close(): void {
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.linkOf.clear();
  }

  /**
   * Keep the messages of our group addressed to us. A MsgSnap, or a message from another node
   * than the link's `sender` (the first message's, on a link's first batch), is a protocol error.
   */
  private check(decoded: readonly Message[], sender: NodeId | undefined): Message[] {
    const accepted: Message[] = [];
    const from = sender ?? decoded[0]?.from;
    for (const m of decoded) {
      if (m.type === 'MsgSnap') throw new WireFormatError('message.type', 'MsgSnap travels by InstallSnapshot only');
      if (m.from !== from) throw new WireFormatError('message.from', `${m.from} on the link of ${from}`);
      if (m.groupId !== this.options.groupId) this.options.stats.droppedWrongGroup += 1;
      else if (m.to !== this.options.id) this.options.stats.droppedWrongRecipient += 1;
      else accepted.push(m);
    }
    return accepted;
  }
}
