/**
 * One TCP port for a node's gRPC services and its inbound Raft peer links. Each accepted
 * connection is told apart by its first byte: HTTP/2's preface starts with 'P', a peer link's
 * with 'Q' (peer-link.ts). gRPC connections go to the grpc-js server through its connection
 * injector; peer links to the handler the Raft transport registers.
 */
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server, type Socket } from 'node:net';
import { parseHostPort } from '../address.ts';
import { stopReads } from './direct-read.ts';
import { PEER_LINK_PREFACE } from './peer-link.ts';

/** A connection that sends nothing for this long after it was accepted is closed, ms. */
export const FIRST_BYTE_TIMEOUT_MS = 10_000;

/**
 * Handler of an accepted peer link: `head` holds the bytes read so far (the preface's start).
 * The socket reads nothing more until the handler resumes it or takes its reads over
 * (direct-read.ts).
 */
export type PeerLinkHandler = (socket: Socket, head: Buffer) => void;

export class SharedPort {
  private peerLinkHandler: PeerLinkHandler | null = null;
  private readonly pending = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly injector: grpc.ConnectionInjector,
    /** The bound port. */
    readonly port: number,
  ) {}

  /**
   * Listen on `host:port` (0: any free port) for `grpcServer` (which must not be bound itself)
   * and for peer links. Peer links arriving before `onPeerLink` is set are closed.
   */
  static async listen(grpcServer: grpc.Server, host: string, port: number): Promise<SharedPort> {
    const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const server = createServer({ noDelay: true });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      injector.destroy(); // the port is taken (or the host unknown): the grpc-js server forgets it
      throw error;
    }
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('shared port: no TCP address');
    const shared = new SharedPort(server, injector, address.port);
    server.on('connection', (socket) => shared.accept(socket));
    return shared;
  }

  /** {@link listen} on `address` (`host:port`, IPv6 in brackets). */
  static listenAt(grpcServer: grpc.Server, address: string): Promise<SharedPort> {
    const hostPort = parseHostPort(address);
    if (hostPort === undefined) return Promise.reject(new RangeError(`shared port: address ${JSON.stringify(address)} is not host:port`));
    return SharedPort.listen(grpcServer, hostPort.host, hostPort.port);
  }

  /** Where peer links go from now on (null: closed on arrival). */
  onPeerLink(handler: PeerLinkHandler | null): void {
    this.peerLinkHandler = handler;
  }

  /** Stop accepting; connections already handed over are their owners' to close. */
  close(): Promise<void> {
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
    this.peerLinkHandler = null;
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.pending.add(socket);
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => {});
    socket.once('close', () => this.pending.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      this.pending.delete(socket);
      socket.setTimeout(0);
      if (chunk[0] === PEER_LINK_PREFACE[0]) {
        // Nothing more is read until the handler says where to (it may take over the reads).
        stopReads(socket);
        const handler = this.peerLinkHandler;
        if (handler === null) socket.destroy();
        else handler(socket, chunk);
        return;
      }
      // Node's HTTP/2 session reads what is already buffered in the socket first.
      socket.pause();
      socket.unshift(chunk);
      this.injector.injectConnection(socket);
    });
  }
}
