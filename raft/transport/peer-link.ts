/**
 * The wire of a peer message link: one TCP connection per directed peer link, on the peer's
 * gRPC port (the port tells the two apart by the first bytes: see shared-port.ts).
 *
 * Why not a gRPC stream: grpc-js over Node's HTTP/2 sends a stream's frames at the event loop's
 * check phase and copies every message through its reassembly; a plain socket write goes to
 * the kernel at once. On this project's loopback measurements a raw socket's round trip was
 * 0.08-0.11 ms against 0.12-0.17 ms, and its CPU per MiB about half on both ends.
 *
 * Layout, both ways after the dialer's preface:
 * - dialer -> acceptor: {@link PEER_LINK_PREFACE}, then frames holding one batch of messages
 *   each;
 * - acceptor -> dialer: frames holding one acknowledgement each, the first one (sequence 0) at
 *   once, which tells the dialer the link works.
 * A frame is a 4-byte little-endian payload length, then the payload (link-codec.ts).
 *
 * Dialing honours the environment's HTTP CONNECT proxy the way grpc-js does for the gRPC links
 * (`grpc_proxy`, else `https_proxy`, else `http_proxy`, an `http:` URL; `no_grpc_proxy`, else
 * `no_proxy`, a comma-separated list of host-name suffixes and IPv4 CIDR ranges), so one proxy
 * setting covers every connection a node opens.
 */
import { connect, isIPv4, type Socket } from 'node:net';
import { parseHostPort } from '../address.ts';
import { WireFormatError } from './errors.ts';

/** The first bytes of a peer link. Its first byte is never that of HTTP/2's preface ('P'). */
export const PEER_LINK_PREFACE = Buffer.from('QJRAFT1\n', 'latin1');
/** Bytes of a frame's length prefix. */
export const FRAME_HEADER_BYTES = 4;
/** Longest CONNECT answer head a dialer reads from a proxy. */
export const PROXY_ANSWER_BYTES_MAX = 8 * 1024;

/**
 * Write pieces in one writev (cork, writes, uncork). Returns what the last socket.write
 * returns (false: the socket's buffer is over its high-water mark; wait for 'drain').
 */
export function writePieces(socket: Socket, pieces: readonly Uint8Array[]): boolean {
  socket.cork();
  let ok = true;
  for (const piece of pieces) ok = socket.write(piece);
  socket.uncork();
  return ok;
}

/**
 * Write one frame: the length prefix and the payload in one writev. Returns what socket.write
 * returns (false: the socket's buffer is over its high-water mark; wait for 'drain').
 */
export function writeFrame(socket: Socket, payload: Uint8Array): boolean {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  return writePieces(socket, [header, payload]);
}

/** Bytes of a {@link FrameReader}'s buffer for frame headers and frames shorter than it. */
export const FRAME_READ_SCRATCH_BYTES = 64 * 1024;

const NO_PREFACE = Buffer.alloc(0);

/**
 * Cuts a byte stream into frames, choosing where each read goes: {@link nextBuffer} names the
 * buffer for the next read, and {@link filled} takes what landed there; {@link push} takes bytes
 * read elsewhere (a socket's 'data' events). A frame that runs past what one read brought gets a buffer of its own, and the rest
 * of it is read straight into that buffer (no copy). Headers, the preface and short frames
 * go through a scratch buffer of {@link FRAME_READ_SCRATCH_BYTES}; a frame completed inside it
 * is copied out, since the scratch is read into again.
 *
 * With a `preface`, the stream must start with those bytes (WireFormatError otherwise);
 * {@link prefaceComplete} tells when they have all arrived. A declared length above
 * `frameBytesMax` throws WireFormatError before any buffer for it is taken.
 */
export class FrameReader {
  private readonly scratch: Buffer;
  /** Unparsed bytes of the scratch: [start, end). */
  private start = 0;
  private end = 0;
  /** The frame being read straight into its own buffer, and its bytes so far. */
  private frame: Buffer | undefined;
  private frameFilled = 0;
  private prefaceLeft: number;

  constructor(
    private readonly frameBytesMax: number,
    private readonly preface: Buffer = NO_PREFACE,
    scratchBytes = FRAME_READ_SCRATCH_BYTES,
  ) {
    if (!Number.isInteger(scratchBytes) || scratchBytes <= Math.max(FRAME_HEADER_BYTES, preface.length)) {
      throw new RangeError(`frame reader: scratch of ${scratchBytes} bytes leaves no room after a header or the preface`);
    }
    this.scratch = Buffer.allocUnsafeSlow(scratchBytes);
    this.prefaceLeft = preface.length;
  }

  /** True once the whole preface has arrived (at once without one). */
  get prefaceComplete(): boolean {
    return this.prefaceLeft === 0;
  }

  /** Bytes held for frames not yet complete. */
  bufferedBytes(): number {
    return this.end - this.start + this.frameFilled;
  }

  /** The buffer the next read goes into (never empty): the rest of a frame, or the scratch's free part. */
  nextBuffer(): Buffer {
    if (this.frame !== undefined) return this.frame.subarray(this.frameFilled);
    if (this.start > 0) {
      this.scratch.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    return this.scratch.subarray(this.end);
  }

  /** `bytes` were read into the last {@link nextBuffer}; returns the frames they completed. */
  filled(bytes: number): Buffer[] {
    if (this.frame !== undefined) {
      this.frameFilled += bytes;
      if (this.frameFilled > this.frame.length) throw new Error(`frame reader: ${this.frameFilled} bytes read into a frame of ${this.frame.length}`);
      if (this.frameFilled < this.frame.length) return [];
      const frame = this.frame;
      this.frame = undefined;
      this.frameFilled = 0;
      return [frame];
    }
    this.end += bytes;
    if (this.end > this.scratch.length) throw new Error(`frame reader: ${this.end} bytes in a scratch of ${this.scratch.length}`);
    return this.parse();
  }

  /** Take `chunk` (read elsewhere) as if read: it is copied. Returns the frames it completed. */
  push(chunk: Uint8Array): Buffer[] {
    const frames: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      const target = this.nextBuffer();
      const n = Math.min(target.length, chunk.length - at);
      target.set(chunk.subarray(at, at + n));
      at += n;
      for (const frame of this.filled(n)) frames.push(frame);
    }
    return frames;
  }

  private parse(): Buffer[] {
    const frames: Buffer[] = [];
    if (this.prefaceLeft > 0) {
      const n = Math.min(this.prefaceLeft, this.end - this.start);
      const from = this.preface.length - this.prefaceLeft;
      if (this.scratch.compare(this.preface, from, from + n, this.start, this.start + n) !== 0) {
        throw new WireFormatError('preface', 'the stream does not start with the peer link preface');
      }
      this.prefaceLeft -= n;
      this.start += n;
    }
    while (this.prefaceLeft === 0 && this.end - this.start >= FRAME_HEADER_BYTES) {
      const length = this.scratch.readUInt32LE(this.start);
      if (length > this.frameBytesMax) throw new WireFormatError('frame.length', `${length} bytes exceeds ${this.frameBytesMax}`);
      const bodyAt = this.start + FRAME_HEADER_BYTES;
      const have = this.end - bodyAt;
      if (have >= length) {
        frames.push(Buffer.from(this.scratch.subarray(bodyAt, bodyAt + length)));
        this.start = bodyAt + length;
        continue;
      }
      // The frame goes on past this read: its own buffer, the rest read straight into it.
      const frame = Buffer.allocUnsafe(length);
      this.scratch.copy(frame, 0, bodyAt, this.end);
      this.frame = frame;
      this.frameFilled = have;
      this.start = 0;
      this.end = 0;
      break;
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
    return frames;
  }
}

/** The CONNECT proxy to use for `host`, from the environment (see the module comment), or null. */
export function proxyFor(host: string, env: NodeJS.ProcessEnv = process.env): { host: string; port: number } | null {
  const value = env['grpc_proxy'] || env['https_proxy'] || env['http_proxy'];
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null; // grpc-js logs and dials directly too
  }
  if (url.protocol !== 'http:') return null;
  const noProxy = (env['no_grpc_proxy'] || env['no_proxy'] || '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (noProxy.some((entry) => noProxyMatches(entry, host))) return null;
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 80 : Number(url.port) };
}

/** grpc-js's no-proxy rule: an IPv4 CIDR range holding `host`, or a suffix of `host`. */
function noProxyMatches(entry: string, host: string): boolean {
  const cidr = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(entry);
  if (cidr !== null && isIPv4(host) && isIPv4(cidr[1]!)) {
    const prefix = Number(cidr[2]);
    if (prefix > 32) return false;
    const mask = prefix === 0 ? 0 : (-1 << (32 - prefix)) >>> 0;
    return ((ipv4ToInt(host) & mask) >>> 0) === ((ipv4ToInt(cidr[1]!) & mask) >>> 0);
  }
  return host.endsWith(entry);
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
}

/**
 * Dial a peer link to `address`: directly, or through the environment's CONNECT proxy. Once
 * the connection (and tunnel) is up, the preface is written and `onReady` called; from then on
 * the caller writes frames. Until then, writes are the caller's mistake (the proxy would take
 * them for its request). Failures (refused, a proxy's non-200 answer, no connection within
 * `connectTimeoutMs`) destroy the socket with an error: watch its 'close'.
 */
export function dialPeerLink(address: string, connectTimeoutMs: number, onReady: () => void, env: NodeJS.ProcessEnv = process.env): Socket {
  const target = parseHostPort(address);
  if (target === undefined) throw new RangeError(`peer link: address ${JSON.stringify(address)} is not host:port`);
  const proxy = proxyFor(target.host, env);
  const socket = connect({ host: proxy?.host ?? target.host, port: proxy?.port ?? target.port, noDelay: true });
  socket.setTimeout(connectTimeoutMs, () => socket.destroy(new Error(`peer link to ${address}: no connection within ${connectTimeoutMs} ms`)));
  const ready = (): void => {
    socket.setTimeout(0);
    socket.write(PEER_LINK_PREFACE);
    onReady();
  };
  if (proxy === null) {
    socket.once('connect', ready);
    return socket;
  }
  socket.once('connect', () => socket.write(`CONNECT ${address} HTTP/1.1\r\nHost: ${address}\r\n\r\n`));
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > PROXY_ANSWER_BYTES_MAX) socket.destroy(new Error(`proxy ${proxy.host}:${proxy.port}: answer head too long`));
      return;
    }
    socket.off('data', onData);
    const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
    if (!/^HTTP\/1\.[01] 200\b/.test(statusLine)) {
      socket.destroy(new Error(`proxy ${proxy.host}:${proxy.port} refused CONNECT ${address}: ${statusLine}`));
      return;
    }
    // The acceptor speaks only after our preface, so nothing follows the answer head.
    if (end + 4 < head.length) {
      socket.destroy(new Error(`proxy ${proxy.host}:${proxy.port}: bytes after the CONNECT answer`));
      return;
    }
    ready();
  };
  socket.on('data', onData);
  return socket;
}
