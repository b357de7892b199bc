/**
 * Connection tuning of gRPC servers and clients: HTTP/2 flow-control windows and TCP_NODELAY.
 *
 * Windows.
 * HTTP/2 lets a receiver accept only as many bytes as its window before the sender must wait
 * for a WINDOW_UPDATE. The default is 64 KiB per stream and per connection: with 1 MiB batches
 * on one stream and an event loop that answers window updates between other work, a stream
 * then moves 64 KiB per turn of the receiver's loop, whatever the network allows (measured in
 * bench/: journal batches of 1,000 1 KiB edits were held near 45,000 edits/s by it).
 *
 * - Client side, grpc-js has a channel option: {@link flowControlChannelOptions}.
 * - Server side, grpc-js 1.14 has none: {@link tuneGrpcServer} sets the HTTP/2 settings the
 *   server's http2 server is created with (`initialWindowSize`, the per-stream window it
 *   advertises) and raises each session's connection window as it opens. It reaches into two
 *   grpc-js internals (`commonServerOptions`, `http2Servers`); it asserts they exist, so a
 *   grpc-js upgrade that renames them fails loudly at start rather than silently slowing down.
 *
 * Nagle. grpc-js turns Nagle's algorithm off on the sockets its clients open, not on those its
 * servers accept: a small answer written while an earlier one is still unacknowledged waits for
 * the peer's ACK (measured: 300-500 µs from a JournalNode writing a Journal answer to the client
 * holding it, with one edit in flight). {@link tuneGrpcServer} turns it off on accepted sockets.
 *
 * Memory: a peer may have up to a window of bytes in flight per stream it opens; the message
 * size limits and the JournalStream's in-flight limits bound what is kept.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Http2Server, Http2Session } from 'node:http2';
import type { Socket } from 'node:net';

/** The receive window per stream and per connection of gRPC servers and clients: 16 MiB. */
export const http2WindowBytes = 16 * 1024 * 1024;

/** HTTP/2 allows windows of at most 2^31 - 1 bytes. */
const http2WindowBytesLimit = 2 ** 31 - 1;

function checkWindow(windowBytes: number): void {
  if (!Number.isSafeInteger(windowBytes) || windowBytes < 65_535 || windowBytes > http2WindowBytesLimit) {
    throw new RangeError(`HTTP/2 window ${windowBytes} outside 65535 .. ${http2WindowBytesLimit}`);
  }
}

/** Channel options giving a grpc-js client `windowBytes` of receive window. */
export function flowControlChannelOptions(windowBytes = http2WindowBytes): grpc.ChannelOptions {
  checkWindow(windowBytes);
  return { 'grpc-node.flow_control_window': windowBytes };
}

interface ServerInternals {
  commonServerOptions?: { settings?: Record<string, unknown> };
  http2Servers?: Map<Http2Server, unknown>;
}

/**
 * Give `server` a receive window of `windowBytes` per stream and per connection, and sockets
 * without Nagle's delay. Call it once, after constructing the server and before `bindAsync` or
 * `SharedPort.listen`; then call the returned function once bound or listening (it tunes every
 * session the server's listeners and connection injectors accept).
 */
export function tuneGrpcServer(server: grpc.Server, windowBytes = http2WindowBytes): () => void {
  checkWindow(windowBytes);
  const internals = server as unknown as ServerInternals;
  if (internals.commonServerOptions === undefined || !(internals.http2Servers instanceof Map)) {
    throw new Error('tuneGrpcServer: this grpc-js version has no commonServerOptions/http2Servers (see raft/transport/grpc-tuning.ts)');
  }
  internals.commonServerOptions.settings = { ...internals.commonServerOptions.settings, initialWindowSize: windowBytes };
  const hooked = new WeakSet<Http2Server>();
  return () => {
    for (const http2Server of internals.http2Servers!.keys()) {
      if (hooked.has(http2Server)) continue;
      hooked.add(http2Server);
      http2Server.on('connection', (socket: Socket) => socket.setNoDelay(true));
      http2Server.on('session', (session: Http2Session) => {
        // Raise the connection window once the session is set up (setLocalWindowSize needs it).
        const raise = (): void => {
          if (session.destroyed) return;
          session.setLocalWindowSize(windowBytes);
        };
        if (session.connecting) session.once('connect', raise);
        else raise();
      });
    }
  };
}
