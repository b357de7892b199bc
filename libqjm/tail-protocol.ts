/**
 * The WebSocket tail protocol (`GET ws://HOST:PORT/journals/<journalId>/tail?from=TXID`), as the
 * client expects it; libqjm/README.md states it for the server side. Pure functions only.
 *
 * Server to client:
 * - binary frame: one batch of framed records (the segment/wire framing of
 *   journalnode/protocol/records.ts), whole records only, consecutive txids, at most
 *   `batchBytesMax` bytes except that a single record is always sent whole; committed edits only.
 * - text frame: one JSON control object with a `type`:
 *   `{"type":"hello","journalId":J,"fromTxId":F,"firstTxId":A,"lastTxId":L}` (optional, first),
 *   `{"type":"caught-up","lastTxId":L}` (optional, backlog sent),
 *   `{"type":"error","code":CODE,"message":M,...JournalError fields}` (then the server closes).
 * Client to server: nothing (pings only). Flow control is TCP's: a slow client stops reading.
 */
import { journalErrorFromWire, ProtocolError } from './errors.ts';
import type { JournalError } from './errors.ts';
import type { EditRecord } from '../journalnode/protocol/records.ts';
import { isValidJournalId, isSafeUint } from '../journalnode/protocol/limits.ts';

/** A control message of the tail protocol (a JSON text frame). */
export type TailControlMessage =
  | { readonly type: 'hello'; readonly journalId: string; readonly fromTxId: number; readonly firstTxId: number; readonly lastTxId: number }
  | { readonly type: 'caught-up'; readonly lastTxId: number }
  | { readonly type: 'error'; readonly error: JournalError };

/** The URL of the tail of `journalId` on `httpAddress` (host:port), starting at `fromTxId`. */
export function tailUrl(httpAddress: string, journalId: string, fromTxId: number): string {
  if (!isValidJournalId(journalId)) throw new RangeError(`invalid journal id '${journalId}'`);
  if (!Number.isSafeInteger(fromTxId) || fromTxId < 1) throw new RangeError(`invalid txid ${fromTxId}`);
  const base = /^wss?:\/\//.test(httpAddress) ? httpAddress.replace(/\/+$/, '') : `ws://${httpAddress}`;
  return `${base}/journals/${encodeURIComponent(journalId)}/tail?from=${fromTxId}`;
}

function numberField(object: Record<string, unknown>, name: string): number {
  const value = object[name] ?? 0;
  if (!isSafeUint(value)) throw new ProtocolError(`tail: control field '${name}' is not a txid: ${JSON.stringify(value)}`);
  return value;
}

/** Parse a text frame. Throws ProtocolError on malformed JSON or an unknown type. */
export function parseTailControl(text: string): TailControlMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`tail: control frame is not JSON: ${text.slice(0, 100)}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null) throw new ProtocolError('tail: control frame is not an object');
  const object = parsed as Record<string, unknown>;
  switch (object.type) {
    case 'hello':
      return {
        type: 'hello',
        journalId: typeof object.journalId === 'string' ? object.journalId : '',
        fromTxId: numberField(object, 'fromTxId'),
        firstTxId: numberField(object, 'firstTxId'),
        lastTxId: numberField(object, 'lastTxId'),
      };
    case 'caught-up':
      return { type: 'caught-up', lastTxId: numberField(object, 'lastTxId') };
    case 'error':
      return {
        type: 'error',
        error: journalErrorFromWire({
          code: typeof object.code === 'string' ? object.code : 'INTERNAL',
          message: typeof object.message === 'string' ? object.message : '',
          promisedEpoch: typeof object.promisedEpoch === 'number' ? object.promisedEpoch : 0,
          expectedTxId: typeof object.expectedTxId === 'number' ? object.expectedTxId : 0,
          leaderHint: typeof object.leaderHint === 'string' ? object.leaderHint : '',
        }),
      };
    default:
      throw new ProtocolError(`tail: unknown control type ${JSON.stringify(object.type)}`);
  }
}

/** What {@link acceptRecords} kept. */
export interface AcceptedRecords {
  /** Records with txids `next ..`, in order, each once. */
  readonly accepted: EditRecord[];
  /** The next txid expected after them. */
  readonly next: number;
  /** Set when a record skipped ahead of `next` (a gap): the txid found. Records from it are dropped. */
  readonly gapAt: number | undefined;
}

/**
 * Keep the records of a frame that continue the stream at `next` (pure): records below `next`
 * are duplicates and skipped; a record above `next` is a gap, which stops the frame.
 */
export function acceptRecords(next: number, records: readonly EditRecord[]): AcceptedRecords {
  const accepted: EditRecord[] = [];
  let expected = next;
  for (const record of records) {
    if (record.txid < expected) continue;
    if (record.txid > expected) return { accepted, next: expected, gapAt: record.txid };
    accepted.push(record);
    expected += 1;
  }
  return { accepted, next: expected, gapAt: undefined };
}
