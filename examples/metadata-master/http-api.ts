/**
 * The metadata master's HTTP API (express). Thin: decode, call the master, encode.
 *
 * Mutations (JSON bodies; answered once the edit is committed and applied):
 * - `POST /mkdir {path, parents?}`, `POST /create {path}`, `POST /rename {path, to}`,
 *   `POST /delete {path, recursive?}`.
 *   200 `{ok: true, txid}`; a logged edit that took no effect: 4xx `{txid, error}`; refused
 *   before logging: 4xx `{error}`. On a standby: 503 `{error: {code: 'NOT_ACTIVE'}, active}`
 *   with header `X-Active-Master: http://HOST:PORT` when the active is known.
 *   503 `NOT_ACKNOWLEDGED`: the master lost its leadership with the edit in flight (it may or
 *   may not be committed). 503 `OVERLOADED`: retry later.
 * Reads (from this master's namespace, on any role):
 * - `GET /list?path=/a`: `{path, appliedTxId, entries: [{name, kind}], truncated}`.
 * - `GET /tree?path=/a`: `{path, appliedTxId, paths}` every path below, directories ending in '/'.
 * - `GET /status`: {@link MasterStatus}. `GET /healthz`: 200 unless the master failed.
 */
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { NotAcknowledgedError, NotActiveError, OverloadedError } from './active-term.ts';
import type { MetadataMaster } from './master.ts';
import type { FailureCode, NamespaceEdit } from './namespace.ts';

/** Largest request body, bytes. */
export const requestBodyBytesMax = 16 * 1024;

const httpStatusOf: Readonly<Record<FailureCode, number>> = {
  INVALID_PATH: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  NOT_A_DIRECTORY: 409,
  NOT_EMPTY: 409,
  NAMESPACE_FULL: 507,
};

const bodies = {
  mkdir: z.strictObject({ path: z.string(), parents: z.boolean().optional() }),
  create: z.strictObject({ path: z.string() }),
  rename: z.strictObject({ path: z.string(), to: z.string() }),
  delete: z.strictObject({ path: z.string(), recursive: z.boolean().optional() }),
};

/** Decode a mutation body into an edit (pure); undefined when malformed. */
export function editOfBody(op: keyof typeof bodies, body: unknown): NamespaceEdit | undefined {
  switch (op) {
    case 'mkdir': {
      const parsed = bodies.mkdir.safeParse(body);
      return parsed.success ? { op, path: parsed.data.path, parents: parsed.data.parents ?? false } : undefined;
    }
    case 'create': {
      const parsed = bodies.create.safeParse(body);
      return parsed.success ? { op, path: parsed.data.path } : undefined;
    }
    case 'rename': {
      const parsed = bodies.rename.safeParse(body);
      return parsed.success ? { op, path: parsed.data.path, to: parsed.data.to } : undefined;
    }
    case 'delete': {
      const parsed = bodies.delete.safeParse(body);
      return parsed.success ? { op, path: parsed.data.path, recursive: parsed.data.recursive ?? false } : undefined;
    }
  }
}

function sendError(res: Response, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ ...extra, error: { code, message } });
}

/** Build the express application around `master`. */
export function createMasterApp(master: MetadataMaster): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: requestBodyBytesMax }));

  for (const op of ['mkdir', 'create', 'rename', 'delete'] as const) {
    app.post(`/${op}`, async (req: Request, res: Response) => {
      const edit = editOfBody(op, req.body);
      if (edit === undefined) {
        sendError(res, 400, 'INVALID_REQUEST', `expected a JSON body like ${bodyExample[op]}`);
        return;
      }
      try {
        const result = await master.submit(edit);
        if (result.outcome.ok) {
          res.json({ ok: true, txid: result.logged ? result.txid : null });
          return;
        }
        const extra = result.logged ? { txid: result.txid } : {};
        sendError(res, httpStatusOf[result.outcome.code], result.outcome.code, result.outcome.message, extra);
      } catch (error) {
        if (error instanceof NotActiveError) {
          const active = master.activeHint;
          if (active !== null) res.setHeader('X-Active-Master', `http://${active.http}`);
          sendError(res, 503, 'NOT_ACTIVE', `${master.id} is not the active master`, { active });
        } else if (error instanceof NotAcknowledgedError) {
          sendError(res, 503, 'NOT_ACKNOWLEDGED', error.message);
        } else if (error instanceof OverloadedError) {
          res.setHeader('Retry-After', '1');
          sendError(res, 503, 'OVERLOADED', error.message);
        } else {
          throw error;
        }
      }
    });
  }

  app.get('/list', (req: Request, res: Response) => {
    const path = typeof req.query['path'] === 'string' ? req.query['path'] : '/';
    const appliedTxId = master.appliedTxId;
    const listing = master.list(path);
    if (!listing.ok) {
      sendError(res, httpStatusOf[listing.code], listing.code, listing.message);
      return;
    }
    res.json({ path, appliedTxId, entries: listing.entries, truncated: listing.truncated });
  });

  app.get('/tree', (req: Request, res: Response) => {
    const path = typeof req.query['path'] === 'string' ? req.query['path'] : '/';
    const tree = master.tree(path);
    if (tree.paths === undefined) {
      sendError(res, 404, 'NOT_FOUND', `${path} is not a directory`);
      return;
    }
    res.json({ path, appliedTxId: tree.appliedTxId, paths: tree.paths });
  });

  app.get('/status', (_req: Request, res: Response) => {
    res.json(master.status());
  });

  app.get('/healthz', (_req: Request, res: Response) => {
    const failure = master.failure;
    if (failure !== undefined) res.status(503).json({ ok: false, error: failure.message });
    else res.json({ ok: true, role: master.status().role });
  });

  app.use((_req: Request, res: Response) => sendError(res, 404, 'NOT_FOUND', 'no such endpoint'));
  // Express hands body-parser and handler errors here (4 arguments are required).
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number' ? error.status : 500;
    sendError(res, status, status < 500 ? 'INVALID_REQUEST' : 'INTERNAL', error instanceof Error ? error.message : String(error));
  });
  return app;
}

const bodyExample: Readonly<Record<keyof typeof bodies, string>> = {
  mkdir: '{"path": "/a/b", "parents": true}',
  create: '{"path": "/a/b/file"}',
  rename: '{"path": "/a/b/file", "to": "/a/file"}',
  delete: '{"path": "/a", "recursive": true}',
};
