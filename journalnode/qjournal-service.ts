/**
 * The QJournal gRPC service: thin handlers. Each write validates its input (limits, ids, safe
 * integers), encodes a command, proposes it to Raft and maps the state machine's result to the
 * response. Reads are served from this node's committed state (any JournalNode answers).
 *
 * Errors are answers (`JournalError`), never gRPC statuses, so clients can follow
 * `leader_hint`:
 * - raft NotLeaderError -> NOT_LEADER with the leader's rpc address;
 * - a proposal dropped by a leader change, refused for now, timed out, or a stopping node ->
 *   UNAVAILABLE (retryable: the exact-retry rule makes a retried batch safe);
 * - anything unexpected -> INTERNAL.
 *
 * JournalStream: requests are proposed in stream order as they arrive (many in flight) and
 * answered in the same order. At most `streamInflightRequestsMax` requests /
 * `streamInflightBytesMax` record bytes are in flight per stream; above that the server stops
 * reading the stream (HTTP/2 flow control pushes back on the client).
 */
import * as grpc from '@grpc/grpc-js';
import { crc32c } from '@node-rs/crc32';
import type { Logger } from 'pino';
import type { RaftNode } from '../raft/node.ts';
import { NodeStoppedError, NotLeaderError, ProposalDroppedError, ProposalRefusedError, RaftTimeoutError } from '../raft/errors.ts';
import type { Command, CommandResult, JournalCommand, NamespaceInfo } from './journal-commands.ts';
import { encodeCheckedJournal, encodeCommand } from './journal-commands.ts';
import type { JournalStateMachine } from './journal-state-machine.ts';
import { readBytesMax, readRecordsMax } from './journal-state-machine.ts';
import type { JournalErrorWire } from './protocol/errors.ts';
import { JournalError, journalErrorWire } from './protocol/errors.ts';
import {
  batchBytesMax,
  candidatePattern,
  isSafeUint,
  isValidJournalId,
  leaseNamePattern,
  leaseTtlMsMax,
  leaseTtlMsMin,
  namespaceFieldCharsMax,
  writerIdPattern,
} from './protocol/limits.ts';
import { checkBatchShape, validateFramed } from './protocol/records.ts';
import { foldRecordCrcs } from './protocol/record-crcs.ts';
import { loadJournalProtocol } from './protocol/load.ts';
import type { QJournalHandlers } from './protocol/generated/qjournal/v1/QJournal.ts';
import type { JournalRequest__Output } from './protocol/generated/qjournal/v1/JournalRequest.ts';
import type { JournalResponse } from './protocol/generated/qjournal/v1/JournalResponse.ts';
import type { NamespaceInfo__Output } from './protocol/generated/qjournal/v1/NamespaceInfo.ts';
import type { JournalNodeMetrics } from './metrics.ts';

/** Options of the QJournal service. */
export interface QJournalServiceOptions {
  readonly node: RaftNode;
  readonly stateMachine: JournalStateMachine;
  readonly metrics: JournalNodeMetrics;
  readonly log: Logger;
  /** A proposal not answered within this time is answered UNAVAILABLE. */
  readonly proposalTimeoutMs: number;
  /** JournalStream: most requests in flight per stream. */
  readonly streamInflightRequestsMax: number;
  /** JournalStream: most record bytes in flight per stream. */
  readonly streamInflightBytesMax: number;
  /** The clock stamped into lease commands (ms since the epoch); default Date.now. */
  readonly nowMs?: () => number;
  /**
   * TEST ONLY canary (test-hooks.ts, `QJM_CANARY=ack-before-fsync`): the leader answers a
   * Journal batch once proposed, before it is durable anywhere. Loses acknowledged edits.
   */
  readonly canaryAckBeforeFsync?: boolean;
  /**
   * TEST ONLY canary (`QJM_CANARY=skip-admission-crc`): the leader proposes a Journal batch
   * without checking its record and batch CRCs. Stores edits damaged on the way.
   */
  readonly canarySkipAdmissionCrc?: boolean;
}

type Failure = { readonly ok: false; readonly error: JournalErrorWire };

function invalid(message: string): Failure {
  return { ok: false, error: journalErrorWire('INVALID_ARGUMENT', message) };
}

/** The response body of a result: `{ success }` without the `ok` marker, or `{ error }`. */
function responseOf<T extends object>(result: CommandResult<T>): { success: Omit<T, 'ok'> } | { error: JournalErrorWire } {
  if (!result.ok) return { error: result.error };
  const { ok: _ok, ...success } = result as { ok: true } & T;
  return { success: success as Omit<T, 'ok'> };
}

/**
 * Answer a read from this node's state, but never say NOT_FORMATTED only because this node lags
 * (a format acknowledged a moment ago and not yet applied here): that answer is given again
 * after a Raft read index, once this node applied everything committed before the call.
 */
async function readConfirmingNotFormatted<T extends object>(node: RaftNode, timeoutMs: number, read: () => CommandResult<T> | Promise<CommandResult<T>>): Promise<CommandResult<T>> {
  const first = await read();
  if (first.ok || first.error.code !== 'NOT_FORMATTED') return first;
  await node.readIndex(timeoutMs);
  return read();
}

/** Translate an exception from the Raft runtime into a wire error (once, here). */
export function wireErrorOf(error: unknown): JournalErrorWire {
  if (error instanceof NotLeaderError) {
    return journalErrorWire('NOT_LEADER', error.message, { leaderHint: error.leaderAddress });
  }
  if (error instanceof ProposalRefusedError) {
    return journalErrorWire(error.retryable ? 'UNAVAILABLE' : 'INTERNAL', error.message);
  }
  if (error instanceof ProposalDroppedError || error instanceof RaftTimeoutError || error instanceof NodeStoppedError || error instanceof ProposalTimeoutError) {
    return journalErrorWire('UNAVAILABLE', error.message);
  }
  if (error instanceof JournalError) return error.toWire(); // INVALID_ARGUMENT, CORRUPT_RECORDS
  return journalErrorWire('INTERNAL', error instanceof Error ? error.message : String(error));
}

/** A proposal was not answered in time (it may still commit: retry it exactly). */
export class ProposalTimeoutError extends Error {
  override readonly name = 'ProposalTimeoutError';
  constructor(timeoutMs: number) {
    super(`proposal not answered within ${timeoutMs} ms`);
  }
}

function checkNamespace(ns: NamespaceInfo__Output | null): NamespaceInfo | Failure {
  if (ns === null) return invalid('namespace is required');
  for (const value of [ns.nsId, ns.clusterId, ns.blockPoolId]) {
    if (value.length > namespaceFieldCharsMax) return invalid(`namespace field above ${namespaceFieldCharsMax} characters`);
  }
  if (ns.nsId === '' || ns.clusterId === '') return invalid('namespace needs an nsId and a clusterId');
  return { nsId: ns.nsId, clusterId: ns.clusterId, blockPoolId: ns.blockPoolId, layoutVersion: ns.layoutVersion };
}

function checkId(journalId: string): Failure | undefined {
  return isValidJournalId(journalId) ? undefined : invalid(`invalid journal id ${JSON.stringify(String(journalId).slice(0, 80))}`);
}

function checkUint(name: string, value: number, min = 0): Failure | undefined {
  return isSafeUint(value) && value >= min ? undefined : invalid(`invalid ${name} ${value} (an integer in ${min} .. 2^53 - 1)`);
}

function checkLeaseIdentity(leaseName: string, candidate: string): Failure | undefined {
  if (!leaseNamePattern.test(leaseName)) return invalid(`invalid lease name ${JSON.stringify(leaseName.slice(0, 80))}`);
  if (!candidatePattern.test(candidate)) return invalid('invalid candidate (1 to 256 printable ASCII characters)');
  return undefined;
}

function checkTtl(ttlMs: number): Failure | undefined {
  return isSafeUint(ttlMs) && ttlMs >= leaseTtlMsMin && ttlMs <= leaseTtlMsMax ? undefined : invalid(`invalid ttl ${ttlMs} ms (${leaseTtlMsMin} .. ${leaseTtlMsMax})`);
}

/** One JournalStream request waiting for its answer. */
interface StreamPending {
  readonly sequence: number;
  readonly bytes: number;
  response: JournalResponse | undefined;
  /** True when the answer came from the state machine (the entry was applied). */
  applied: boolean;
  /** Order in which applied answers arrived (0 until then). */
  appliedOrder: number;
}

/**
 * Build the QJournal handlers over a Raft node and its journal state machine. Register them
 * with `server.addService(qjournalServiceDefinition(), handlers)`.
 */
export function createQJournalHandlers(options: QJournalServiceOptions): QJournalHandlers {
  const { node, stateMachine, metrics, log } = options;
  const nowMs = options.nowMs ?? Date.now;

  /** Propose `command` (synchronously: callers rely on stream order), answer with its result. */
  function propose<T extends object, C extends Command>(op: string, command: C, encode: (command: C) => Buffer = encodeCommand): Promise<{ result: CommandResult<T>; applied: boolean }> {
    const started = performance.now();
    const finish = (result: CommandResult<T>, applied: boolean): { result: CommandResult<T>; applied: boolean } => {
      const outcome = result.ok ? 'ok' : result.error.code;
      metrics.proposalSeconds.observe({ op, outcome }, (performance.now() - started) / 1000);
      metrics.requests.inc({ op, outcome });
      return { result, applied };
    };
    let data: Buffer;
    try {
      data = encode(command);
    } catch (error) {
      return Promise.resolve(finish({ ok: false, error: wireErrorOf(error) }, false));
    }
    const proposal = node.propose(data);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ProposalTimeoutError(options.proposalTimeoutMs)), options.proposalTimeoutMs);
      timer.unref();
    });
    return Promise.race([proposal, timeout]).then(
      (value) => {
        clearTimeout(timer);
        return finish(value as CommandResult<T>, true);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!(error instanceof NotLeaderError)) log.debug({ err: error, op }, 'proposal failed');
        return finish({ ok: false, error: wireErrorOf(error) }, false);
      },
    );
  }

  function unary<Req, Res>(op: string, build: (request: Req) => Command | Failure, respond: (result: CommandResult<object>) => Res): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const command = build(call.request);
      if ('ok' in command) {
        metrics.requests.inc({ op, outcome: command.error.code });
        callback(null, respond(command));
        return;
      }
      void propose<object, Command>(op, command).then(({ result }) => callback(null, respond(result)));
    };
  }

  /** Validate a journal request and start its proposal. Synchronous up to `node.propose`. */
  function journal(request: JournalRequest__Output): Promise<{ result: CommandResult<object>; applied: boolean }> {
    const bad =
      checkId(request.journalId) ??
      checkUint('epoch', request.epoch, 1) ??
      checkUint('first txid', request.firstTxId, 1) ??
      (request.records.byteLength > batchBytesMax ? invalid(`batch of ${request.records.byteLength} bytes above ${batchBytesMax}`) : undefined);
    if (bad !== undefined) {
      metrics.requests.inc({ op: 'journal', outcome: bad.error.code });
      return Promise.resolve({ result: bad, applied: false });
    }
    // Damaged bytes never reach the Raft log: the batch's shape and every record (framing, txids,
    // CRC), then the batch checksum. From here on the Raft layer keeps the entry's bytes intact
    // (CRCs on the peer links, checked before a follower writes its WAL, and in the WAL), so the
    // state machine re-checks only the framing when it applies.
    let damaged: Failure | undefined;
    const skipChecks = options.canarySkipAdmissionCrc === true;
    try {
      if (!skipChecks) {
        // One walk over the record headers checks the framing (lengths, txids, count) and folds
        // the records' CRCs into the batch's they vouch for (protocol/record-crcs.ts); then the
        // batch's CRC, natively, from its bytes: every record's CRC is right when the two agree.
        // A failure is named by the record-by-record check (validateFramed).
        const { records, firstTxId, count } = request;
        checkBatchShape(records.byteLength, firstTxId, count);
        const folded = foldRecordCrcs(records, { firstTxId, count });
        if (folded < 0) {
          validateFramed(records, firstTxId, count, false);
          throw new Error('records neither fold nor fail the framing check');
        }
        const batchCrc = crc32c(records);
        if (batchCrc !== request.crc32c) damaged = { ok: false, error: journalErrorWire('CORRUPT_RECORDS', 'batch checksum mismatch') };
        else if (folded !== batchCrc) {
          validateFramed(records, firstTxId, count, true);
          damaged = { ok: false, error: journalErrorWire('CORRUPT_RECORDS', 'record checksums do not match the batch') };
        }
      }
    } catch (error) {
      damaged = { ok: false, error: wireErrorOf(error) };
    }
    if (damaged !== undefined) {
      metrics.requests.inc({ op: 'journal', outcome: damaged.error.code });
      return Promise.resolve({ result: damaged, applied: false });
    }
    // Checked above: the batch CRC gives the entry's (no pass over the batch for the WAL).
    const command: JournalCommand = {
      type: 'journal',
      journalId: request.journalId,
      epoch: request.epoch,
      firstTxId: request.firstTxId,
      count: request.count,
      records: request.records,
      crc32c: request.crc32c,
    };
    const proposal = propose<object, JournalCommand>('journal', command, skipChecks ? encodeCommand : encodeCheckedJournal);
    if (options.canaryAckBeforeFsync === true && node.isLeader()) {
      // TEST ONLY canary: acknowledge now, whatever becomes of the proposal.
      const lastTxId = request.firstTxId + request.count - 1;
      return Promise.resolve({ result: { ok: true, firstTxId: request.firstTxId, count: request.count, lastTxId, duplicate: false }, applied: false });
    }
    return proposal;
  }

  const journalStream: grpc.handleBidiStreamingCall<JournalRequest__Output, JournalResponse> = (call) => {
    const queue: StreamPending[] = [];
    let inflightBytes = 0;
    let paused = false;
    let readEnded = false;
    let closed = false;
    let appliedOrder = 0;
    let lastWrittenAppliedOrder = 0;

    const overLimit = (): boolean => queue.length >= options.streamInflightRequestsMax || inflightBytes >= options.streamInflightBytesMax;

    const fail = (message: string): void => {
      if (closed) return;
      closed = true;
      log.error({ message }, 'JournalStream: assertion failed, stream closed');
      call.destroy(Object.assign(new Error(message), { code: grpc.status.INTERNAL, details: message }));
    };

    const flush = (): void => {
      while (!closed && queue[0]?.response !== undefined) {
        const head = queue.shift()!;
        inflightBytes -= head.bytes;
        metrics.streamInflight.dec();
        if (head.applied) {
          // Applies happen in log order and proposals of one stream enter the log in stream
          // order, so applied answers must arrive in stream order.
          if (head.appliedOrder < lastWrittenAppliedOrder) {
            fail(`JournalStream: answer of sequence ${head.sequence} applied out of stream order`);
            return;
          }
          lastWrittenAppliedOrder = head.appliedOrder;
        }
        call.write(head.response!);
      }
      if (closed) return;
      if (paused && !overLimit()) {
        paused = false;
        call.resume();
      }
      if (readEnded && queue.length === 0) {
        closed = true;
        call.end();
      }
    };

    call.on('data', (request: JournalRequest__Output) => {
      if (closed) return;
      const pending: StreamPending = { sequence: request.sequence, bytes: request.records.byteLength, response: undefined, applied: false, appliedOrder: 0 };
      queue.push(pending);
      inflightBytes += pending.bytes;
      metrics.streamInflight.inc();
      metrics.noteStreamInflight(queue.length);
      void journal(request).then(({ result, applied }) => {
        pending.applied = applied;
        if (applied) pending.appliedOrder = ++appliedOrder;
        pending.response = { sequence: request.sequence, ...responseOf(result) };
        flush();
      });
      if (!paused && overLimit()) {
        paused = true;
        call.pause();
      }
    });
    call.on('end', () => {
      readEnded = true;
      flush();
    });
    const abandon = (): void => {
      if (closed) return;
      closed = true;
      metrics.streamInflight.dec(queue.length);
      queue.length = 0;
    };
    call.on('cancelled', abandon);
    call.on('error', (error) => {
      log.debug({ err: error }, 'JournalStream: stream error');
      abandon();
    });
  };

  return {
    Format: unary('format', (request) => {
      const ns = checkNamespace(request.namespace);
      const bad = checkId(request.journalId) ?? ('ok' in ns ? ns : undefined);
      if (bad !== undefined) return bad;
      return { type: 'format', journalId: request.journalId, namespace: ns as NamespaceInfo, force: request.force };
    }, responseOf),

    NewEpoch: unary('newEpoch', (request) => {
      const ns = checkNamespace(request.namespace);
      const bad =
        checkId(request.journalId) ??
        ('ok' in ns ? ns : undefined) ??
        checkUint('epoch', request.epoch, 1) ??
        (writerIdPattern.test(request.writerId) ? undefined : invalid('invalid writer id (0 to 256 printable ASCII characters)'));
      if (bad !== undefined) return bad;
      return { type: 'newEpoch', journalId: request.journalId, namespace: ns as NamespaceInfo, epoch: request.epoch, writerId: request.writerId };
    }, responseOf),

    StartSegment: unary('startSegment', (request) => {
      const bad = checkId(request.journalId) ?? checkUint('epoch', request.epoch, 1) ?? checkUint('txid', request.txId, 1);
      if (bad !== undefined) return bad;
      return { type: 'startSegment', journalId: request.journalId, epoch: request.epoch, txId: request.txId };
    }, responseOf),

    Finalize: unary('finalize', (request) => {
      const bad =
        checkId(request.journalId) ?? checkUint('epoch', request.epoch, 1) ?? checkUint('first txid', request.firstTxId, 1) ?? checkUint('last txid', request.lastTxId, 0);
      if (bad !== undefined) return bad;
      return { type: 'finalize', journalId: request.journalId, epoch: request.epoch, firstTxId: request.firstTxId, lastTxId: request.lastTxId };
    }, responseOf),

    Purge: unary('purge', (request) => {
      const bad = checkId(request.journalId) ?? checkUint('epoch', request.epoch, 0) ?? checkUint('min txid to keep', request.minTxIdToKeep, 0);
      if (bad !== undefined) return bad;
      return { type: 'purge', journalId: request.journalId, epoch: request.epoch, minTxIdToKeep: request.minTxIdToKeep };
    }, responseOf),

    AcquireLease: unary('acquireLease', (request) => {
      const bad = checkId(request.journalId) ?? checkLeaseIdentity(request.leaseName, request.candidate) ?? checkTtl(request.ttlMs);
      if (bad !== undefined) return bad;
      const { journalId, leaseName, candidate, ttlMs } = request;
      return { type: 'acquireLease', journalId, leaseName, candidate, ttlMs, nowMs: nowMs() };
    }, responseOf),

    RenewLease: unary('renewLease', (request) => {
      const bad = checkId(request.journalId) ?? checkLeaseIdentity(request.leaseName, request.candidate) ?? checkTtl(request.ttlMs) ?? checkUint('token', request.token, 1);
      if (bad !== undefined) return bad;
      const { journalId, leaseName, candidate, token, ttlMs } = request;
      return { type: 'renewLease', journalId, leaseName, candidate, token, ttlMs, nowMs: nowMs() };
    }, responseOf),

    ReleaseLease: unary('releaseLease', (request) => {
      const bad = checkId(request.journalId) ?? checkLeaseIdentity(request.leaseName, request.candidate) ?? checkUint('token', request.token, 1);
      if (bad !== undefined) return bad;
      const { journalId, leaseName, candidate, token } = request;
      return { type: 'releaseLease', journalId, leaseName, candidate, token, nowMs: nowMs() };
    }, responseOf),

    Journal: (call, callback) => {
      void journal(call.request).then(({ result }) => callback(null, { sequence: call.request.sequence, ...responseOf(result) }));
    },

    JournalStream: journalStream,

    GetJournalState: (call, callback) => {
      const bad = checkId(call.request.journalId);
      if (bad !== undefined) {
        callback(null, { error: bad.error });
        return;
      }
      if (!call.request.linearizable) {
        readConfirmingNotFormatted(node, options.proposalTimeoutMs, () => stateMachine.getJournalState(call.request.journalId)).then(
          (result) => callback(null, responseOf(result)),
          (error: unknown) => callback(null, { error: wireErrorOf(error) }),
        );
        return;
      }
      // readIndex resolves once this node applied up to the read index.
      node.readIndex(options.proposalTimeoutMs).then(
        () => callback(null, responseOf(stateMachine.getJournalState(call.request.journalId))),
        (error: unknown) => callback(null, { error: wireErrorOf(error) }),
      );
    },

    GetEditLogManifest: (call, callback) => {
      const bad = checkId(call.request.journalId) ?? checkUint('since txid', call.request.sinceTxId, 0);
      if (bad !== undefined) {
        callback(null, { error: bad.error });
        return;
      }
      readConfirmingNotFormatted(node, options.proposalTimeoutMs, () => stateMachine.getManifest(call.request.journalId, call.request.sinceTxId)).then(
        (result) => callback(null, responseOf(result)),
        (error: unknown) => callback(null, { error: wireErrorOf(error) }),
      );
    },

    GetJournaledEdits: (call, callback) => {
      const { journalId, fromTxId } = call.request;
      // proto3 cannot tell 0 from unset: 0 means "the largest allowed".
      const maxCount = call.request.maxCount === 0 ? readRecordsMax : call.request.maxCount;
      const maxBytes = call.request.maxBytes === 0 ? readBytesMax : call.request.maxBytes;
      const bad =
        checkId(journalId) ??
        checkUint('from txid', fromTxId, 1) ??
        (maxCount <= readRecordsMax ? undefined : invalid(`max count ${maxCount} above ${readRecordsMax}`)) ??
        (maxBytes <= readBytesMax ? undefined : invalid(`max bytes ${maxBytes} above ${readBytesMax}`));
      if (bad !== undefined) {
        callback(null, { error: bad.error });
        return;
      }
      readConfirmingNotFormatted(node, options.proposalTimeoutMs, () => stateMachine.readEdits(journalId, fromTxId, maxCount, maxBytes)).then(
        (result) => callback(null, responseOf(result)),
        (error: unknown) => callback(null, { error: wireErrorOf(error) }),
      );
    },

    GetLease: (call, callback) => {
      const { journalId, leaseName } = call.request;
      const bad = checkId(journalId) ?? (leaseNamePattern.test(leaseName) ? undefined : invalid('invalid lease name'));
      callback(null, responseOf(bad ?? stateMachine.getLease(journalId, leaseName, nowMs())));
    },
  };
}

/** The QJournal service definition (from journal.proto). */
export function qjournalServiceDefinition(): grpc.ServiceDefinition {
  return loadJournalProtocol().qjournal.v1.QJournal.service;
}
