/**
 * Limits of the QJournal protocol, shared by the JournalNodes and libqjm. Every batch, record
 * and identifier that crosses the wire is checked against these on both sides.
 */

/** Largest `data` of one edit record, in bytes (the framing header is extra). */
export const recordBytesMax = 1024 * 1024;

/** Bytes of the framing header of one record: length u32, crc32c u32, txid u64. */
export const recordHeaderBytes = 16;

/** Most records in one Journal batch (and one GetJournaledEdits answer). */
export const batchRecordsMax = 100_000;

/** Most framed bytes in one Journal batch (and one GetJournaledEdits answer). */
export const batchBytesMax = 8 * 1024 * 1024;

/**
 * Largest gRPC message either side must accept, in bytes: a full batch plus room for the
 * other fields. Set as both the send and the receive limit on clients and servers.
 */
export const grpcMessageBytesMax = batchBytesMax + 64 * 1024;

/** Journal ids: 1 to 64 characters from `[A-Za-z0-9_-]` (they name directories). */
export const journalIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** Lease names: same alphabet and length as journal ids. */
export const leaseNamePattern = /^[A-Za-z0-9_-]{1,64}$/;

/** Lease candidates (holders): 1 to 256 printable ASCII characters. */
export const candidatePattern = /^[\x20-\x7e]{1,256}$/;

/** Writer ids in NewEpoch: 0 (none) to 256 printable ASCII characters. */
export const writerIdPattern = /^[\x20-\x7e]{0,256}$/;

/** Longest string field of a namespace (ns id, cluster id, block pool id), in characters. */
export const namespaceFieldCharsMax = 256;

/** Shortest and longest lease TTL, in milliseconds. */
export const leaseTtlMsMin = 1;
export const leaseTtlMsMax = 10 * 60 * 1000;

/** True when `journalId` is a valid journal id. */
export function isValidJournalId(journalId: unknown): journalId is string {
  return typeof journalId === 'string' && journalIdPattern.test(journalId);
}

/** True when `value` is an integer in 0 .. 2^53 - 1 (every uint64 of the protocol must be). */
export function isSafeUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
