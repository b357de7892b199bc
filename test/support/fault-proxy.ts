/**
 * A TCP fault proxy on loopback: forwards connections to a target and can cut, black-hole
 * (accept but never forward: a silent partition) or delay them. One proxy per directed link
 * (A dials B through proxy A->B), so a partition is "cut every proxy crossing it" and a one-way
 * cut is cutting only one direction's proxy.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'cut' | 'blackhole';

/** Bytes held per connection while delaying or black-holing before the socket is paused. */
export const PROXY_BUFFER_BYTES_MAX = 4 * 1024 * 1024;

export class FaultProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  private mode: ProxyMode = 'pass';
  private delayMs = 0;
  port = 0;

  constructor(private readonly targetHost: string, private readonly targetPort: number) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    return this.port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** 'cut' also destroys the live connections; 'blackhole' freezes them. */
  setMode(mode: ProxyMode): void {
    this.mode = mode;
    if (mode === 'cut') this.destroyAll();
  }

  setDelayMs(delayMs: number): void {
    this.delayMs = delayMs;
  }

  async close(): Promise<void> {
    this.destroyAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private destroyAll(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
  }

  private accept(client: Socket): void {
    if (this.mode === 'cut') {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (this.mode === 'blackhole') return; // swallowed: the link is silent
        if (this.delayMs > 0) {
          setTimeout(() => to.writable && to.write(chunk), this.delayMs).unref();
        } else if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const end = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  }
}
