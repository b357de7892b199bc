/**
 * Reads of an accepted connection into buffers of the reader's choosing.
 *
 * Node lets a socket read into a caller's buffers (the `onread` option of `net.Socket`) only
 * when it creates the socket itself; an accepted socket reads each time into a fresh 64 KiB
 * buffer, which a peer link then copied into its frame. On a follower that copy, and the
 * buffers behind it, were the largest share of its event loop's work after the WAL. Here the
 * accepted socket's handle is wrapped in a new `net.Socket` with `onread`, the way Node's own
 * server wraps the handles it accepts, so the kernel copies a frame's bytes straight into the
 * frame's buffer (peer-link.ts's FrameReader).
 *
 * That uses two undocumented parts of Node's `net` (the constructor's `handle` option and the
 * socket's `_handle`), unchanged since Node 12. Where either is missing, {@link takeOverReads}
 * returns undefined and the caller keeps the socket it has, reading it by 'data' events.
 */
import { Socket } from 'node:net';

interface StreamHandle {
  reading: boolean;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
}

function handleOf(socket: Socket): StreamHandle | undefined {
  const handle: unknown = (socket as unknown as { _handle?: unknown })._handle;
  if (typeof handle !== 'object' || handle === null) return undefined;
  const h = handle as Partial<StreamHandle>;
  if (typeof h.readStart !== 'function' || typeof h.readStop !== 'function' || typeof h.useUserBuffer !== 'function') return undefined;
  return h as StreamHandle;
}

/**
 * Stop `socket` reading from the kernel. `pause()` alone stops its 'data' events but lets it
 * go on reading into its own buffer. Call it from a 'data' handler, when Node holds nothing
 * buffered; `resume()` starts the reads again.
 */
export function stopReads(socket: Socket): void {
  socket.pause();
  const handle = handleOf(socket);
  if (handle?.reading === true) {
    handle.reading = false;
    handle.readStop();
  }
}

/** Where reads go, and what to do with them (Node's `onread`): return false to stop reading. */
export interface DirectReads {
  buffer(): Uint8Array;
  callback(bytes: number, buffer: Uint8Array): boolean;
}

/**
 * A socket that reads `socket`'s connection through `reads`, or undefined (then `socket` is as
 * it was) where Node's internals are not as expected, or `socket` holds unread bytes or is
 * closed. `socket` should have been stopped with {@link stopReads}. It lets go of the
 * connection and closes, so its server stops counting it; the new socket owns the connection.
 */
export function takeOverReads(socket: Socket, reads: DirectReads): Socket | undefined {
  const handle = handleOf(socket);
  if (handle === undefined || socket.destroyed || socket.readableLength > 0) return undefined;
  let taken: Socket;
  try {
    taken = new Socket({ handle, onread: reads, allowHalfOpen: false, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
  } catch {
    return undefined;
  }
  (socket as unknown as { _handle: unknown })._handle = null;
  socket.destroy();
  return taken;
}
