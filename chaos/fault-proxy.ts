/**
 * The project's own TCP fault proxy, on loopback: every connection between two processes of a
 * test cluster runs through it, and a rule table decides, per directed link `src -> dst`, what
 * happens to it. Two fronts share one {@link FaultNetwork}:
 *
 * - {@link ConnectProxy}: an HTTP CONNECT proxy, one per source process. grpc-js dials through
 *   it when the process runs with `grpc_proxy=http://127.0.0.1:<port>` (a documented grpc-js
 *   feature), so every gRPC link of a JournalNode or a master is faulted without a hook in the
 *   code under test, including links to addresses learned at run time (leader hints, new members).
 * - {@link FaultProxy}: a plain forwarder to one target (one proxy per directed link, dialled
 *   instead of the target), for processes that take explicit dial addresses.
 *
 * Faults of a directed link `src -> dst` (a connection is dialled by `src` to `dst` or the reverse;
 * its bytes flow both ways):
 * - `cut`: connections dialled by `src` to `dst` are reset and new ones refused (a firewall that
 *   rejects `src`'s connection attempts). A symmetric cut is `cut` both ways.
 * - `drop`: bytes travelling from `src` to `dst`, on any connection between them, are discarded
 *   (a silent one-way partition). A connection that lost bytes is torn down when the drop ends:
 *   its byte stream has a hole, as a real connection would time out.
 * - `delayMs`: bytes from `src` to `dst` are held this long, in order (a later, shorter delay
 *   never lets bytes overtake earlier ones), at most {@link PROXY_BUFFER_BYTES_MAX} per
 *   connection direction before the sender is paused.
 * - `corrupt`: one bit flipped in about every `everyBytes` bytes from `src` to `dst` (nothing
 *   lost, nothing added: what a bad NIC or switch does that TCP's 16-bit checksum can miss),
 *   only on connections whose dialer's first byte is `firstByte` when given (the Raft peer
 *   links of a JournalNode start with 'Q', its gRPC connections with 'P').
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { parseHostPort } from '../raft/address.ts';

/** Bytes held per connection direction while delaying before the sending socket is paused. */
export const PROXY_BUFFER_BYTES_MAX = 4 * 1024 * 1024;

/** Longest CONNECT request head (request line and headers) a {@link ConnectProxy} reads. */
export const CONNECT_HEAD_BYTES_MAX = 8 * 1024;

/** Time a {@link ConnectProxy} gives the upstream connect before answering 502, ms. */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 5_000;

/** What a directed link does with its traffic. */
export type LinkMode = 'pass' | 'cut' | 'drop';

/** Bit flips on a directed link (see the module comment). */
export interface CorruptRule {
  /** About one bit flipped per this many bytes (each gap drawn in [everyBytes / 2, 3 * everyBytes / 2]). */
  readonly everyBytes: number;
  /** Only connections whose dialer sent this byte first. */
  readonly firstByte?: number | undefined;
}

/** The rule of one directed link. */
export interface LinkRule {
  readonly mode: LinkMode;
  /** Extra latency of every byte from src to dst, ms (0: none). */
  readonly delayMs: number;
  /** Bit flips on the bytes from src to dst (undefined: none). */
  readonly corrupt?: CorruptRule | undefined;
}

/** Counters of a {@link FaultNetwork}, for the run summary. */
export interface FaultNetworkStats {
  connectionsAccepted: number;
  connectionsRefused: number;
  connectionsReset: number;
  bytesForwarded: number;
  bytesDropped: number;
  bytesDelayed: number;
  bitsFlipped: number;
}

const passRule: LinkRule = { mode: 'pass', delayMs: 0 };

function linkKey(src: string, dst: string): string {
  return `${src}->${dst}`;
}

/** One proxied connection, as the network sees it. */
interface ProxiedConnection {
  readonly dialer: string;
  readonly target: string;
  /** True once bytes were dropped: the stream has a hole. */
  poisoned: boolean;
  /** The first byte the dialer sent through (undefined before it sent any). */
  firstByte?: number | undefined;
  destroy(): void;
}

/**
 * The rule table of every directed link between named endpoints (process ids such as `jn1`,
 * `m1`), and the live connections crossing them. Rule changes apply at once to live
 * connections (a cut resets them, a healed drop tears down the damaged ones).
 */
export class FaultNetwork {
  readonly stats: FaultNetworkStats = {
    connectionsAccepted: 0,
    connectionsRefused: 0,
    connectionsReset: 0,
    bytesForwarded: 0,
    bytesDropped: 0,
    bytesDelayed: 0,
    bitsFlipped: 0,
  };
  private readonly rules = new Map<string, LinkRule>();
  private readonly addressBook = new Map<string, string>();
  private readonly connections = new Set<ProxiedConnection>();

  /** Name the endpoint listening at `address` (`host:port`) so CONNECT targets map to it. */
  setAddress(address: string, endpoint: string): void {
    this.addressBook.set(address, endpoint);
  }

  /** The endpoint listening at `address`; the address itself when unknown. */
  endpointOf(address: string): string {
    return this.addressBook.get(address) ?? address;
  }

  /** The rule of `src -> dst` (pass when none was set). */
  rule(src: string, dst: string): LinkRule {
    return this.rules.get(linkKey(src, dst)) ?? passRule;
  }

  /** Change the rule of `src -> dst` (fields not given keep their value) and apply it to live connections. */
  setLink(src: string, dst: string, change: Partial<LinkRule>): void {
    if (change.delayMs !== undefined && (!Number.isSafeInteger(change.delayMs) || change.delayMs < 0)) {
      throw new RangeError(`delay ${change.delayMs} ms`);
    }
    if (change.corrupt !== undefined && (!Number.isSafeInteger(change.corrupt.everyBytes) || change.corrupt.everyBytes < 2)) {
      throw new RangeError(`corrupt every ${change.corrupt.everyBytes} bytes`);
    }
    const next = { ...this.rule(src, dst), ...change };
    if (next.mode === 'pass' && next.delayMs === 0 && next.corrupt === undefined) this.rules.delete(linkKey(src, dst));
    else this.rules.set(linkKey(src, dst), next);
    this.enforce();
  }

  /** Cut (or drop) every link between the two sides, both ways. */
  partition(sideA: readonly string[], sideB: readonly string[], mode: 'cut' | 'drop' = 'cut'): void {
    for (const a of sideA) {
      for (const b of sideB) {
        this.setLink(a, b, { mode });
        this.setLink(b, a, { mode });
      }
    }
  }

  /** Cut (or drop) only the links from `from` to `to` (an asymmetric partition). */
  partitionOneWay(from: readonly string[], to: readonly string[], mode: 'cut' | 'drop' = 'drop'): void {
    for (const a of from) for (const b of to) this.setLink(a, b, { mode });
  }

  /** Every link back to pass without delay. Damaged connections are torn down. */
  healAll(): void {
    this.rules.clear();
    this.enforce();
  }

  /** Links that are not plain pass, as `src->dst mode +delay` strings (for logs). */
  describe(): string[] {
    return [...this.rules].map(
      ([key, rule]) => `${key} ${rule.mode}${rule.delayMs > 0 ? ` +${rule.delayMs}ms` : ''}${rule.corrupt !== undefined ? ` corrupt/${rule.corrupt.everyBytes}B` : ''}`,
    );
  }

  /** Reset every live connection (a proxy is closing). */
  resetAll(): void {
    for (const connection of [...this.connections]) connection.destroy();
  }

  /** @internal Register a live connection; false (and counted as refused) when its link is cut. */
  admit(connection: ProxiedConnection): boolean {
    if (this.rule(connection.dialer, connection.target).mode === 'cut') {
      this.stats.connectionsRefused += 1;
      return false;
    }
    this.stats.connectionsAccepted += 1;
    this.connections.add(connection);
    return true;
  }

  /** @internal A connection ended. */
  forget(connection: ProxiedConnection): void {
    this.connections.delete(connection);
  }

  private enforce(): void {
    for (const connection of [...this.connections]) {
      const cut = this.rule(connection.dialer, connection.target).mode === 'cut';
      const dropping = this.rule(connection.dialer, connection.target).mode === 'drop' || this.rule(connection.target, connection.dialer).mode === 'drop';
      if (cut || (connection.poisoned && !dropping)) {
        this.stats.connectionsReset += 1;
        connection.destroy();
      }
    }
  }
}

interface Held {
  readonly chunk: Buffer;
  readonly releaseAtMs: number;
}

/**
 * Forward the bytes of `from` to `to` under the rule of `src -> dst`, read on every chunk: drop,
 * delay (ordered, bounded) or pass, with backpressure.
 */
function forward(network: FaultNetwork, connection: ProxiedConnection, from: Socket, to: Socket, src: string, dst: string): void {
  const held: Held[] = [];
  let heldBytes = 0;
  let lastReleaseAtMs = 0;
  let timer: NodeJS.Timeout | undefined;
  let waitingDrain = false;
  /** Bytes to pass before the next flipped bit, while a corrupt rule applies. */
  let untilFlip = -1;

  /** Flip bits in `chunk` (in place: it is this proxy's own buffer) as the rule asks. */
  const corrupt = (chunk: Buffer, rule: CorruptRule): void => {
    if (rule.firstByte !== undefined && connection.firstByte !== rule.firstByte) return;
    const gap = (): number => Math.floor(rule.everyBytes / 2 + Math.random() * rule.everyBytes);
    if (untilFlip < 0) untilFlip = gap();
    let at = untilFlip;
    while (at < chunk.byteLength) {
      chunk[at]! ^= 1 << Math.floor(Math.random() * 8);
      network.stats.bitsFlipped += 1;
      at += 1 + gap();
    }
    untilFlip = at - chunk.byteLength;
  };

  // The sender reads on while the receiver drains and the hold is below its limit.
  const updateFlow = (): void => {
    const stop = waitingDrain || heldBytes >= PROXY_BUFFER_BYTES_MAX;
    if (stop && !from.isPaused()) from.pause();
    else if (!stop && from.isPaused()) from.resume();
  };

  const writeOut = (chunk: Buffer): void => {
    if (to.destroyed) return;
    network.stats.bytesForwarded += chunk.byteLength;
    if (!to.write(chunk) && !waitingDrain) {
      waitingDrain = true;
      to.once('drain', () => {
        waitingDrain = false;
        updateFlow();
      });
    }
  };

  const release = (): void => {
    timer = undefined;
    const now = Date.now();
    while (held.length > 0 && held[0]!.releaseAtMs <= now) {
      const head = held.shift()!;
      heldBytes -= head.chunk.byteLength;
      // A drop that started while the bytes were held still applies.
      if (network.rule(src, dst).mode === 'drop') {
        network.stats.bytesDropped += head.chunk.byteLength;
        connection.poisoned = true;
      } else {
        writeOut(head.chunk);
      }
    }
    updateFlow();
    if (held.length > 0) timer = setTimeout(release, Math.max(0, held[0]!.releaseAtMs - now));
  };

  from.on('data', (chunk: Buffer) => {
    if (src === connection.dialer && connection.firstByte === undefined && chunk.byteLength > 0) connection.firstByte = chunk[0];
    const rule = network.rule(src, dst);
    if (rule.corrupt !== undefined) corrupt(chunk, rule.corrupt);
    if (rule.mode === 'drop') {
      network.stats.bytesDropped += chunk.byteLength;
      connection.poisoned = true;
      return;
    }
    if (rule.delayMs === 0 && held.length === 0) {
      writeOut(chunk);
      updateFlow();
      return;
    }
    const releaseAtMs = Math.max(Date.now() + rule.delayMs, lastReleaseAtMs);
    lastReleaseAtMs = releaseAtMs;
    held.push({ chunk, releaseAtMs });
    heldBytes += chunk.byteLength;
    network.stats.bytesDelayed += chunk.byteLength;
    updateFlow();
    if (timer === undefined) timer = setTimeout(release, Math.max(0, releaseAtMs - Date.now()));
  });
  from.once('close', () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    held.length = 0;
  });
}

/** Splice `client` (dialled by `dialer`) and `upstream` (at `target`) under the network's rules. */
function splice(network: FaultNetwork, connection: ProxiedConnection, client: Socket, upstream: Socket, head: Buffer): void {
  forward(network, connection, client, upstream, connection.dialer, connection.target);
  forward(network, connection, upstream, client, connection.target, connection.dialer);
  if (head.byteLength > 0) client.unshift(head);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

function closeServer(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => (server?.listening === true ? server.close(() => resolve()) : resolve()));
}

/**
 * An HTTP CONNECT proxy for the outgoing connections of one endpoint (`source`). A CONNECT to
 * `host:port` is admitted under the rule of `source -> endpointOf(host:port)`: refused (403)
 * when cut, otherwise spliced to the target with the link's drop and delay rules applied to
 * each direction. Only loopback targets are accepted.
 */
export class ConnectProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly network: FaultNetwork,
    readonly source: string,
  ) {}

  /** Listen on 127.0.0.1 (`port` 0: any free port); resolves with the port. */
  async start(port = 0): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    this.port = await listen(this.server, port);
    return this.port;
  }

  /** The `grpc_proxy` value that routes a process's gRPC connections through this proxy. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stop listening and reset the connections this proxy carries. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await closeServer(this.server);
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.byteLength > CONNECT_HEAD_BYTES_MAX) client.end('HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n');
        return;
      }
      client.off('data', onData);
      client.pause();
      const head = buffered.subarray(end + 4);
      const requestLine = buffered.toString('latin1', 0, buffered.indexOf('\r\n'));
      this.connect(client, requestLine, head);
    };
    client.on('data', onData);
  }

  private connect(client: Socket, requestLine: string, head: Buffer): void {
    const m = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(requestLine);
    const target = m === null ? undefined : parseHostPort(m[1]!);
    if (target === undefined || !/^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/.test(target.host)) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const targetEndpoint = this.network.endpointOf(m![1]!);
    const ends: { upstream: Socket | undefined } = { upstream: undefined };
    const connection: ProxiedConnection = {
      dialer: this.source,
      target: targetEndpoint,
      poisoned: false,
      destroy: () => {
        client.destroy();
        ends.upstream?.destroy();
      },
    };
    if (!this.network.admit(connection)) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = createConnection({ host: target.host, port: target.port });
    ends.upstream = upstream;
    this.sockets.add(upstream);
    const connectTimer = setTimeout(() => upstream.destroy(new Error('upstream connect timeout')), UPSTREAM_CONNECT_TIMEOUT_MS);
    let established = false;
    upstream.once('connect', () => {
      clearTimeout(connectTimer);
      established = true;
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      splice(this.network, connection, client, upstream, head);
      client.resume();
    });
    const end = (): void => {
      clearTimeout(connectTimer);
      this.network.forget(connection);
      if (!established && !client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      else client.destroy();
      upstream.destroy();
    };
    upstream.on('error', end).once('close', () => {
      this.sockets.delete(upstream);
      end();
    });
    client.once('close', end);
  }
}

/**
 * A plain TCP forwarder to one target, dialled instead of the target. Its connections belong to
 * the link `source -> target` of its network (by default a private network with endpoints
 * `client` and `server`, steered with {@link FaultProxy.setMode} and {@link FaultProxy.setDelayMs}).
 */
export class FaultProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  readonly network: FaultNetwork;
  private readonly source: string;
  private readonly target: string;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
    options: { network?: FaultNetwork; source?: string; target?: string } = {},
  ) {
    this.network = options.network ?? new FaultNetwork();
    this.source = options.source ?? 'client';
    this.target = options.target ?? 'server';
  }

  /** Listen on 127.0.0.1 (`port` 0: any free port); resolves with the port. */
  async start(port = 0): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    this.port = await listen(this.server, port);
    return this.port;
  }

  /** The address to dial instead of the target. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * Both directions of this proxy's link: 'cut' resets the connections and refuses new ones,
   * 'blackhole' silently drops every byte (connections are torn down when it ends), 'pass' heals.
   */
  setMode(mode: 'pass' | 'cut' | 'blackhole'): void {
    const linkMode: LinkMode = mode === 'blackhole' ? 'drop' : mode;
    this.network.setLink(this.source, this.target, { mode: linkMode });
    this.network.setLink(this.target, this.source, { mode: linkMode === 'cut' ? 'pass' : linkMode });
  }

  /** Delay every byte, both directions, by `delayMs` (0: none). */
  setDelayMs(delayMs: number): void {
    this.network.setLink(this.source, this.target, { delayMs });
    this.network.setLink(this.target, this.source, { delayMs });
  }

  /** Stop listening and reset this proxy's connections. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await closeServer(this.server);
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    const ends: { upstream: Socket | undefined } = { upstream: undefined };
    const connection: ProxiedConnection = {
      dialer: this.source,
      target: this.target,
      poisoned: false,
      destroy: () => {
        client.destroy();
        ends.upstream?.destroy();
      },
    };
    if (!this.network.admit(connection)) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    ends.upstream = upstream;
    this.sockets.add(upstream);
    splice(this.network, connection, client, upstream, Buffer.alloc(0));
    const end = (): void => {
      this.network.forget(connection);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', end).once('close', () => {
      this.sockets.delete(upstream);
      end();
    });
    client.once('close', end);
  }
}
