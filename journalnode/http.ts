/**
 * The JournalNode's HTTP endpoints (express). Thin: read the node's state, encode JSON.
 *
 * - `GET /healthz`: 200 `{ ok: true, role }` while Raft runs, 503 `{ ok: false }` otherwise.
 * - `GET /status`: JSON: raft (role, term, leader id and address, commit/applied/last/snapshot
 *   index, configuration, peers, each follower's progress when leader, WAL stats), journals
 *   (epochs, txids, segments), tail subscribers.
 * - `GET /metrics`: Prometheus text (prom-client).
 * - `GET /journals/:jid/manifest[?since=TXID]`: the edit log manifest (JSON).
 * - `GET /journals/:jid/segments/:first`: the bytes of a finalized segment file (framed records);
 *   404 for an unknown segment, 409 for the in-progress one.
 * Errors are JSON `{ "error": { "code", "message" } }`: 400 for a bad id or number, 404 for an
 * unknown journal or segment.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import express from 'express';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { RaftNode } from '../raft/node.ts';
import type { JournalStateMachine } from './journal-state-machine.ts';
import type { JournalNodeMetrics } from './metrics.ts';
import { isValidJournalId } from './protocol/limits.ts';
import { finalizedFileName, journalCurrentDir } from './segments.ts';
import type { TailServer } from './tail.ts';

/** Most segments listed per journal in /status (the newest ones; `segmentCount` has them all). */
export const statusSegmentsMax = 100;

/** Most journals listed in /status. */
export const statusJournalsMax = 1000;

/** What the HTTP endpoints read. */
export interface HttpContext {
  readonly id: string;
  readonly node: RaftNode;
  readonly stateMachine: JournalStateMachine;
  readonly metrics: JournalNodeMetrics;
  readonly tail: TailServer;
  readonly log: Logger;
  /** The addresses the node listens on (known once bound). */
  readonly addresses: () => { rpc: string; http: string };
  /** False once the node stopped or failed. */
  readonly isRunning: () => boolean;
}

function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

function statusOfError(code: string): number {
  return code === 'NOT_FORMATTED' ? 404 : code === 'INVALID_ARGUMENT' ? 400 : code === 'UNAVAILABLE' ? 503 : 500;
}

const decimal = /^\d{1,16}$/;

function parseTxId(text: unknown): number | undefined {
  if (typeof text !== 'string' || !decimal.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The /status document. */
export function statusDocument(context: HttpContext): Record<string, unknown> {
  const { node, stateMachine } = context;
  const status = node.status();
  const leader = node.leaderInfo();
  const journals = stateMachine.listJournals().slice(0, statusJournalsMax).map((journalId) => {
    const state = stateMachine.getJournalState(journalId);
    const manifest = stateMachine.getManifest(journalId, 0);
    const segments = manifest.ok ? manifest.segments : [];
    return {
      journalId,
      ...(state.ok
        ? {
            namespace: state.namespace,
            promisedEpoch: state.promisedEpoch,
            writerEpoch: state.writerEpoch,
            firstTxId: state.firstTxId,
            lastTxId: state.lastTxId,
          }
        : { error: state.error }),
      segmentCount: segments.length,
      segments: segments.slice(-statusSegmentsMax),
    };
  });
  return {
    id: context.id,
    groupId: node.groupId,
    addresses: context.addresses(),
    running: context.isRunning(),
    raft: {
      role: status.softState.role,
      term: status.hardState.term,
      vote: status.hardState.vote,
      leader: { id: leader.id, address: leader.address },
      commitIndex: status.hardState.commit,
      appliedIndex: node.appliedIndex(),
      lastIndex: status.lastIndex,
      snapshotIndex: status.snapshotIndex,
      configuration: status.confState,
      peers: status.peers,
      progress: status.progress,
      leadTransferee: status.leadTransferee,
      walStats: status.walStats,
    },
    stateMachine: { appliedIndex: stateMachine.lastAppliedIndex },
    journals,
    tail: { subscribers: context.tail.subscribers() },
  };
}

/** Build the express application (the WebSocket tail is attached to the server separately). */
export function createHttpApp(context: HttpContext): express.Express {
  const { node, stateMachine, metrics, log } = context;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    if (!context.isRunning()) {
      res.status(503).json({ ok: false });
      return;
    }
    res.json({ ok: true, role: node.status().softState.role });
  });

  app.get('/status', (_req, res) => {
    res.json(statusDocument(context));
  });

  app.get('/metrics', (_req, res, next) => {
    metrics.registry.metrics().then((text) => {
      res.type(metrics.registry.contentType).send(text);
    }, next);
  });

  app.get('/journals/:jid/manifest', (req: Request<{ jid: string }>, res) => {
    const journalId = req.params.jid;
    if (!isValidJournalId(journalId)) return sendError(res, 400, 'INVALID_ARGUMENT', 'invalid journal id');
    const sinceText = req.query['since'];
    const since = sinceText === undefined ? 0 : parseTxId(sinceText);
    if (since === undefined) return sendError(res, 400, 'INVALID_ARGUMENT', 'invalid since (a txid)');
    const manifest = stateMachine.getManifest(journalId, since);
    if (!manifest.ok) return sendError(res, statusOfError(manifest.error.code), manifest.error.code, manifest.error.message);
    res.json({ journalId, segments: manifest.segments, lastTxId: manifest.lastTxId });
  });

  app.get('/journals/:jid/segments/:first', async (req: Request<{ jid: string; first: string }>, res) => {
    const journalId = req.params.jid;
    if (!isValidJournalId(journalId)) return sendError(res, 400, 'INVALID_ARGUMENT', 'invalid journal id');
    const first = parseTxId(req.params.first);
    if (first === undefined || first < 1) return sendError(res, 400, 'INVALID_ARGUMENT', 'invalid first txid');
    const manifest = stateMachine.getManifest(journalId, 0);
    if (!manifest.ok) return sendError(res, statusOfError(manifest.error.code), manifest.error.code, manifest.error.message);
    const segment = manifest.segments.find((s) => s.firstTxId === first);
    if (segment === undefined) return sendError(res, 404, 'NOT_FOUND', `no segment starts at txid ${first}`);
    if (segment.inProgress) return sendError(res, 409, 'IN_PROGRESS', `segment ${first} is in progress; only finalized segments can be downloaded`);
    const path = join(journalCurrentDir(stateMachine.dataDir, journalId), finalizedFileName(segment.firstTxId, segment.lastTxId));
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      // Purged or reformatted between the manifest and the open.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return sendError(res, 404, 'NOT_FOUND', `segment ${first} is gone`);
      throw error;
    }
    res.status(200);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(segment.sizeBytes));
    res.setHeader('Content-Disposition', `attachment; filename="${finalizedFileName(segment.firstTxId, segment.lastTxId)}"`);
    res.setHeader('X-First-Tx-Id', String(segment.firstTxId));
    res.setHeader('X-Last-Tx-Id', String(segment.lastTxId));
    if (segment.sizeBytes === 0) {
      await handle.close();
      res.end();
      return;
    }
    // The open handle keeps the file readable even if a purge unlinks it meanwhile.
    const stream = handle.createReadStream({ start: 0, end: segment.sizeBytes - 1, autoClose: true });
    stream.on('error', (error) => {
      log.warn({ err: error, path }, 'segment download failed');
      res.destroy(error);
    });
    stream.pipe(res);
  });

  app.use((_req, res) => sendError(res, 404, 'NOT_FOUND', 'no such endpoint'));
  app.use((error: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    log.error({ err: error }, 'http: request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, 500, 'INTERNAL', error instanceof Error ? error.message : String(error));
  });
  return app;
}
