/**
 * A batch's CRC folded from its records' CRCs and headers, instead of a pass over its bytes.
 *
 * Every record carries the CRC-32C of its txid and data. The CRC of the whole framed batch
 * follows from those by arithmetic: each record's 8 uncovered header bytes (length, CRC)
 * continue the batch's CRC, then the record's CRC is combined in for the 8 + length bytes it
 * covers (raft/crc32c.ts). Both sides use it:
 * - The writer (libqjm) gives each batch the CRC folded from the record CRCs it just computed
 *   ({@link foldRecordCrcs}), not a second native pass over the batch: at 1,000 records of
 *   1 KiB, about 0.05 ms against 0.27 ms.
 * - A JournalNode admits a batch only when each record carries the CRC of its txid and data and
 *   the batch's own CRC matches (qjournal-service.ts). It computes the batch's CRC natively, one
 *   pass, then checks the records' CRCs against it by folding them
 *   ({@link recordCrcsMatchBatch}) instead of one native call per record (0.56 ms per batch of
 *   1,000 on this project's machines).
 *
 * Records of one length share one shift; once {@link TABLE_AFTER_SAME_LENGTH} records in a
 * row have one length, the shift's multiplication goes by byte tables (four lookups, not 32
 * steps; built once per length and kept for the next batch). A batch of 1,000 records of 1 KiB
 * folds in about 0.05 ms with tables, 0.2 ms without.
 */
import { crc32cCombineByTable, crc32cCombineShifted, crc32cShift, crc32cShiftTable, crc32cUpdate } from '../../raft/crc32c.ts';
import { recordHeaderBytes } from './limits.ts';

/** Bytes of a record's header that precede what its CRC covers (length and CRC). */
const UNCOVERED_HEADER_BYTES = 8;

/** Records in a row of one length after which that length's shift gets byte tables. */
export const TABLE_AFTER_SAME_LENGTH = 8;

/** The covered length whose table is kept between calls (one: batches mostly repeat one length). */
let tableCoveredBytes = -1;
let keptTable: Uint32Array | undefined;

function tableFor(covered: number, shift: number): Uint32Array {
  if (covered !== tableCoveredBytes || keptTable === undefined) {
    keptTable = crc32cShiftTable(shift);
    tableCoveredBytes = covered;
  }
  return keptTable;
}

/**
 * The CRC-32C of all of `framed` as its records' headers say it is: right when every record's
 * CRC is right. -1 when `framed` is not a sequence of whole records (a length runs past the end,
 * or bytes are left over).
 */
export function foldRecordCrcs(framed: Uint8Array): number {
  const view = new DataView(framed.buffer, framed.byteOffset, framed.byteLength);
  let crc = 0;
  let at = 0;
  let shiftedBytes = -1;
  let shift = 0;
  let sameLength = 0;
  let table: Uint32Array | undefined;
  while (at + recordHeaderBytes <= framed.byteLength) {
    const length = view.getUint32(at, true);
    if (length > framed.byteLength - at - recordHeaderBytes) return -1;
    const covered = length + recordHeaderBytes - UNCOVERED_HEADER_BYTES;
    if (covered !== shiftedBytes) {
      shiftedBytes = covered;
      shift = crc32cShift(covered);
      sameLength = 0;
      table = covered === tableCoveredBytes ? keptTable : undefined;
    } else if (table === undefined && ++sameLength === TABLE_AFTER_SAME_LENGTH) {
      table = tableFor(covered, shift);
    }
    crc = crc32cUpdate(crc, framed, at, at + UNCOVERED_HEADER_BYTES);
    const recordCrc = view.getUint32(at + 4, true);
    crc = table !== undefined ? crc32cCombineByTable(crc, recordCrc, table) : crc32cCombineShifted(crc, recordCrc, shift);
    at += recordHeaderBytes + length;
  }
  return at === framed.byteLength ? crc : -1;
}

/**
 * True when every record of `framed` carries the CRC-32C of the bytes it covers (txid and
 * data), given `batchCrc`, the CRC-32C of all of `framed` computed from its bytes. `framed`
 * should be well framed (`validateFramed` without checksums passed): a length that runs past
 * the end gives false.
 *
 * One wrong record CRC changes the fold for certain (a combine multiplies by x^(8n) modulo the
 * polynomial, which has an inverse); several wrong ones cancel out with the odds of a CRC
 * collision, 2^-32.
 */
export function recordCrcsMatchBatch(framed: Uint8Array, batchCrc: number): boolean {
  const folded = foldRecordCrcs(framed);
  return folded >= 0 && folded === batchCrc >>> 0;
}
