/**
 * The JournalNode process: a journal state machine under a Raft node, one gRPC server (QJournal,
 * the Raft transport and the Raft admin service on one port) and one HTTP server (express
 * endpoints and the WebSocket tail on one port).
 *
 * `startJournalNode(config)` runs it in this process (tests may run several); `main.ts` wraps
 * it with argument parsing and signals. Shutdown (`stop()`): stop accepting (HTTP, WebSocket,
 * gRPC), stop Raft (pending calls answered UNAVAILABLE), close the segment files, release the
 * data directory lock.
 *
 * Data directory layout: `<dataDir>/raft/` (WAL, snapshots, hard state), `<dataDir>/journals/`
 * (segment files, owned by the state machine), `<dataDir>/LOCK` (the pid of the owner).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino, type Logger } from 'pino';
import { RaftNode } from '../raft/node.ts';
import type { StateMachine } from '../raft/state-machine.ts';
import { addAdminService } from '../raft/admin/service.ts';
import type { JournalNodeConfig } from './config.ts';
import { formatHostPort, isWildcardHost, parseHostPort } from './config.ts';
import { JournalStateMachine } from './journal-state-machine.ts';
import { JournalNodeMetrics } from './metrics.ts';
import { createQJournalHandlers, qjournalServiceDefinition } from './qjournal-service.ts';
import { createHttpApp } from './http.ts';
import { TailServer } from './tail.ts';
import { grpcMessageBytesMax } from './protocol/limits.ts';
import { FaultyFileSystem } from '../raft/storage/fs.ts';
import { SharedPort, tuneGrpcServer } from '../raft/transport/index.ts';
import { acquirePidLock, PidLockHeldError } from './pid-lock.ts';
import { watchFaultyFsControl, type TestHooks } from './test-hooks.ts';
import { skipLinkChecksumsForTest } from '../raft/transport/link-codec.ts';

/** Time pending gRPC calls get to finish at shutdown before they are cancelled, ms. */
export const shutdownGraceMs = 2_000;

/** Options beyond the configuration (for in-process use). */
export interface StartOptions {
  /** Logger; default: pino to stderr at `config.logLevel`. */
  readonly log?: Logger;
  /**
   * Called once when the node fails (storage error): the node is already stopping. Default:
   * log and exit the process with code 1.
   */
  readonly onFatal?: (error: Error) => void;
  /** TEST ONLY (chaos runs): canaries and the fault-injecting file layer; see test-hooks.ts. */
  readonly testHooks?: TestHooks;
}

/** A running JournalNode. */
export interface JournalNodeHandle {
  readonly id: string;
  readonly config: JournalNodeConfig;
  /** The rpc address peers and clients use (this node's entry in the cluster). */
  readonly rpcAddress: string;
  /** The bound HTTP address (actual port). */
  readonly httpAddress: string;
  readonly node: RaftNode;
  readonly stateMachine: JournalStateMachine;
  readonly metrics: JournalNodeMetrics;
  readonly log: Logger;
  /** Resolves once stopped; with the error when the node failed. */
  readonly stopped: Promise<Error | undefined>;
  /** Stop cleanly (idempotent). */
  stop(): Promise<void>;
}

/** Longest wait at start for a read index from the leader before QJournal is served. */
export const CATCH_UP_AT_START_MS_MAX = 5000;

/** Another process (or this one) already runs a JournalNode on the data directory. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(dir: string, pid: number) {
    super(`${dir} is in use by process ${pid}`);
  }
}

/** Take `<dir>/LOCK` (pid inside). A lock left by a dead process is taken over. */
function lockDataDir(dir: string): () => void {
  try {
    return acquirePidLock(join(dir, 'LOCK'));
  } catch (error) {
    if (error instanceof PidLockHeldError) throw new DataDirLockedError(dir, error.pid);
    throw error;
  }
}

function listenHttp(server: HttpServer, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Start a JournalNode. Resolves once it listens on both ports and Raft runs. */
export async function startJournalNode(config: JournalNodeConfig, options: StartOptions = {}): Promise<JournalNodeHandle> {
  const log = options.log ?? pino({ level: config.logLevel, base: { jn: config.id } }, pino.destination({ dest: 2, sync: true }));
  await mkdir(config.dataDir, { recursive: true });
  const unlock = lockDataDir(config.dataDir);

  let running = false;
  let stopping: Promise<void> | undefined;
  let resolveStopped!: (error: Error | undefined) => void;
  const stopped = new Promise<Error | undefined>((resolve) => (resolveStopped = resolve));
  let fatalError: Error | undefined;

  const messageBytesMax = Math.max(config.raftMessageBytesMax, grpcMessageBytesMax);
  const grpcServer = new grpc.Server({
    'grpc.max_receive_message_length': messageBytesMax,
    'grpc.max_send_message_length': messageBytesMax,
  });
  const tuneAcceptedConnections = tuneGrpcServer(grpcServer);
  let httpServer: HttpServer | undefined;
  let tail: TailServer | undefined;
  let stateMachine: JournalStateMachine | undefined;
  let node: RaftNode | undefined;
  let rpcListener: SharedPort | undefined;
  // TEST ONLY: the chaos run's hooks (test-hooks.ts); none in production.
  const hooks = options.testHooks ?? {};
  let stopFaultyFsControl: (() => void) | undefined;

  try {
    // 1. The RPC port first (gRPC and Raft peer links): a single node on port 0 needs it for its own address.
    const rpcBind = parseHostPort(config.rpc)!;
    rpcListener = await SharedPort.listen(grpcServer, rpcBind.host, rpcBind.port);
    const rpcPort = rpcListener.port;
    tuneAcceptedConnections();
    const boundRpc = formatHostPort(rpcBind.host, rpcPort);
    const initialPeers = config.singleNode
      ? new Map([[config.id, isWildcardHost(rpcBind.host) ? formatHostPort('127.0.0.1', rpcPort) : boundRpc]])
      : config.initialCluster;
    const rpcAddress = initialPeers.get(config.id) ?? boundRpc;

    // 2. The state machine and Raft.
    if (hooks.canary !== undefined) log.warn({ canary: hooks.canary }, 'TEST ONLY: canary on, this JournalNode is deliberately broken');
    if (hooks.canary === 'skip-link-crc') skipLinkChecksumsForTest();
    let raftFs: FaultyFileSystem | undefined;
    if (hooks.faultyFsControlPath !== undefined) {
      // TEST ONLY: the Raft storage over the fault-injecting file layer (ENOSPC on demand).
      await mkdir(join(config.dataDir, 'raft'), { recursive: true });
      raftFs = new FaultyFileSystem(join(config.dataDir, 'raft'));
      stopFaultyFsControl = watchFaultyFsControl(raftFs, hooks.faultyFsControlPath, (full) => log.warn({ full }, 'TEST ONLY: disk full switched'));
    }
    const sm = new JournalStateMachine({
      dataDir: config.dataDir,
      log: log.child({ component: 'journal' }),
      ...(hooks.canary === 'skip-epoch-check' ? { canarySkipEpochCheck: true } : {}),
    });
    stateMachine = sm;
    // The metrics read the node at scrape time; the state machine is timed through a wrapper.
    const timing: { metrics?: JournalNodeMetrics } = {};
    const timed = timedStateMachine(sm, () => timing.metrics);
    const raft = new RaftNode({
      id: config.id,
      groupId: config.groupId,
      dataDir: join(config.dataDir, 'raft'),
      initialPeers,
      join: config.join,
      stateMachine: timed,
      tickMs: config.tickMs,
      electionTicks: config.electionTicks,
      heartbeatTicks: config.heartbeatTicks,
      snapshotEntries: config.snapshotEntries,
      snapshotBytes: config.snapshotBytes,
      walSegmentBytes: config.walSegmentBytes,
      snapshotKeepEntries: config.snapshotKeepEntries,
      messageBytesMax: config.raftMessageBytesMax,
      uncommittedBytesMax: config.uncommittedBytesMax,
      log: log.child({ component: 'raft' }),
      ...(raftFs !== undefined ? { fs: raftFs } : {}),
      onFatal: (error) => {
        fatalError = error;
        log.fatal({ err: error }, 'journalnode: fatal error, stopping');
        stopping ??= shutdown();
        if (options.onFatal) options.onFatal(error);
        else void stopped.then(() => process.exit(1));
      },
    });
    node = raft;
    const metrics = new JournalNodeMetrics(raft, sm);
    timing.metrics = metrics;
    sm.onApplied((event) => {
      if (event.type !== 'journal') return;
      metrics.journalBytesApplied.inc(event.records.byteLength);
      metrics.journalEditsApplied.inc(event.count);
    });
    await raft.start();
    running = true;
    // Raft and admin first: the group must be able to reach this node while it catches up.
    raft.addToServer(grpcServer, rpcListener);
    addAdminService(grpcServer, (groupId) => (groupId === '' || groupId === raft.groupId ? raft : undefined));
    // Replay what this node already knows is committed before serving reads, so a restarted
    // node does not answer from an empty state (NOT_FORMATTED for a journal it has not
    // re-applied yet). The commit index on disk may lag, so also ask the leader for a read
    // index; bounded, since a whole cluster restarting has no leader yet (reads are allowed to
    // lag, never to come from an empty state once a leader answers).
    const committedAtStart = raft.status().hardState.commit;
    await raft.waitApplied(committedAtStart);
    const catchUpDeadline = Date.now() + CATCH_UP_AT_START_MS_MAX;
    while (Date.now() < catchUpDeadline) {
      try {
        await raft.readIndex(Math.max(1, Math.min(1000, catchUpDeadline - Date.now())));
        break;
      } catch {
        // no leader yet, or it did not answer in time: try again until the deadline
        await new Promise<void>((resolve) => setTimeout(resolve, 50).unref());
      }
    }

    // 3. QJournal on the gRPC port.
    grpcServer.addService(
      qjournalServiceDefinition(),
      createQJournalHandlers({
        node: raft,
        stateMachine: sm,
        metrics,
        log: log.child({ component: 'qjournal' }),
        proposalTimeoutMs: config.proposalTimeoutMs,
        streamInflightRequestsMax: config.streamInflightRequestsMax,
        streamInflightBytesMax: config.streamInflightBytesMax,
        ...(hooks.canary === 'ack-before-fsync' ? { canaryAckBeforeFsync: true } : {}),
        ...(hooks.canary === 'skip-admission-crc' ? { canarySkipAdmissionCrc: true } : {}),
      }),
    );

    // 4. HTTP and the WebSocket tail on the HTTP port.
    const tailServer = new TailServer({
      stateMachine: sm,
      metrics,
      log: log.child({ component: 'tail' }),
      bufferedBytesHighWater: config.tailBufferedBytesHighWater,
      stallTimeoutMs: config.tailStallTimeoutMs,
      subscribersMax: config.tailSubscribersMax,
      readBarrier: () => raft.readIndex(config.proposalTimeoutMs),
    });
    tail = tailServer;
    let httpAddress = '';
    const app = createHttpApp({
      id: config.id,
      node: raft,
      stateMachine: sm,
      metrics,
      tail: tailServer,
      log: log.child({ component: 'http' }),
      addresses: () => ({ rpc: rpcAddress, http: httpAddress }),
      isRunning: () => running,
    });
    const server = createServer(app);
    httpServer = server;
    server.on('upgrade', (request, socket, head) => {
      if (!tailServer.handleUpgrade(request, socket, head)) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      }
    });
    const httpBind = parseHostPort(config.http)!;
    const bound = await listenHttp(server, httpBind.host, httpBind.port);
    httpAddress = formatHostPort(httpBind.host, bound.port);

    const handle: JournalNodeHandle = {
      id: config.id,
      config,
      rpcAddress,
      httpAddress,
      node: raft,
      stateMachine: sm,
      metrics,
      log,
      stopped,
      stop: () => {
        stopping ??= shutdown();
        return stopping;
      },
    };
    log.info({ rpc: rpcAddress, boundRpc, http: httpAddress, join: config.join, peers: Object.fromEntries(initialPeers) }, 'journalnode started');
    return handle;
  } catch (error) {
    stopping ??= shutdown();
    await stopping;
    throw error;
  }

  async function shutdown(): Promise<void> {
    running = false;
    log.info('journalnode stopping');
    try {
      const tailClosed = tail?.close() ?? Promise.resolve();
      const httpClosed = new Promise<void>((resolve) => {
        if (httpServer === undefined || !httpServer.listening) return resolve();
        httpServer.close(() => resolve());
        httpServer.closeIdleConnections();
      });
      // Stop accepting connections and gRPC calls; pending ones finish once Raft stops (answered UNAVAILABLE).
      // (The listening socket closes now; the promise would wait for every connection.)
      void rpcListener?.close();
      const grpcDrained = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      await node?.stop();
      await tailClosed;
      const graceTimer = new Promise<void>((resolve) => setTimeout(resolve, shutdownGraceMs));
      await Promise.race([grpcDrained, graceTimer]);
      grpcServer.forceShutdown();
      httpServer?.closeAllConnections();
      await httpClosed;
      await stateMachine?.close().catch((error: unknown) => log.warn({ err: error }, 'closing the segment files failed'));
    } finally {
      stopFaultyFsControl?.();
      unlock();
      log.info('journalnode stopped');
      resolveStopped(fatalError);
    }
  }
}

/** The timers of {@link timedStateMachine}: histograms of seconds. */
export interface StateMachineTimers {
  readonly applySeconds: { observe(seconds: number): void };
  readonly snapshotCaptureSeconds: { observe(seconds: number): void };
  readonly snapshotSeconds: { observe(seconds: number): void };
}

/**
 * `sm`, with its applies, snapshot captures and whole snapshots timed into `timers()` (read at
 * each call: the metrics exist only once the node does). Everything else passes through
 * unchanged, the completion's result too (the prefix files a snapshot declares).
 */
export function timedStateMachine(sm: StateMachine, timers: () => StateMachineTimers | undefined): StateMachine {
  const seconds = (started: number): number => (performance.now() - started) / 1000;
  return {
    apply: async (entries) => {
      const started = performance.now();
      try {
        return await sm.apply(entries);
      } finally {
        timers()?.applySeconds.observe(seconds(started));
      }
    },
    snapshot: async (dir) => {
      const started = performance.now();
      const complete = await sm.snapshot(dir);
      timers()?.snapshotCaptureSeconds.observe(seconds(started));
      return async () => {
        const declared = complete === undefined ? undefined : await complete();
        timers()?.snapshotSeconds.observe(seconds(started));
        return declared;
      };
    },
    restore: (dir, meta) => sm.restore(dir, meta),
  };
}
