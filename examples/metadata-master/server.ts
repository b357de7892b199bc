/**
 * A running metadata master: the HTTP API bound first (its address is the master's identity in
 * the election), then the master started. `stop()` hands over cleanly when active (see
 * MetadataMaster.stop) and closes the HTTP server.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../libqjm/index.ts';
import type { MasterConfig } from './config.ts';
import { createMasterApp } from './http-api.ts';
import { MetadataMaster, advertisedHost } from './master.ts';

/** A started master. */
export interface MetadataMasterHandle {
  readonly master: MetadataMaster;
  /** The bound HTTP address (actual port). */
  readonly boundAddress: string;
  /** The advertised HTTP address (the election candidate; the hint standbys answer with). */
  readonly httpAddress: string;
  /** Stop (idempotent). */
  stop(): Promise<void>;
}

function splitHostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(at + 1)) };
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Bind the HTTP API, start the master. Rejects if the port is taken or the journal refuses. */
export async function startMetadataMaster(config: MasterConfig, log: Logger): Promise<MetadataMasterHandle> {
  const master = new MetadataMaster({
    id: config.id,
    journalNodes: config.journalNodes,
    journalHttp: config.journalHttp,
    journalId: config.journalId,
    format: config.format,
    election: config.election,
    segmentEditsMax: config.segmentEdits,
    log,
  });
  const server: Server = createServer(createMasterApp(master));
  const bind = splitHostPort(config.http);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: bind.host, port: bind.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const boundAddress = formatAddress(bound.address, bound.port);
  const httpAddress = config.advertise ?? formatAddress(advertisedHost(bound.address), bound.port);
  const closeServer = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  try {
    await master.start(httpAddress);
  } catch (error) {
    await master.stop().catch(() => undefined);
    await closeServer();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    master,
    boundAddress,
    httpAddress,
    stop() {
      stopping ??= (async () => {
        await master.stop();
        await closeServer();
      })();
      return stopping;
    },
  };
}
