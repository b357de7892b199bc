/**
 * CRC-32C helpers shared by the peer links and the WAL, so that a large entry's data is
 * checksummed once per node and not once per use.
 *
 * - {@link crc32cCombine}: the CRC of `a ‖ b` from the CRCs of `a` and `b` and the length of
 *   `b`, in about 30 carry-less multiplications, whatever the length. The WAL's record CRC
 *   covers its 17 header bytes, then the data: with the data's CRC known, the record's CRC
 *   costs a CRC of 17 bytes and one combine instead of a pass over the data.
 * - {@link entryDataCrc32c}: the CRC of an entry's data, remembered per data buffer (a
 *   WeakMap, so it lives exactly as long as the buffer). A leader computes it once when it first
 *   sends the entry, and its WAL and every other follower's link reuse it; a follower learns it
 *   from the link frame, checks it against the bytes received, and its WAL reuses it. Only data of
 *   at least {@link DATA_CRC_CACHE_BYTES_MIN} are remembered: below, recomputing is cheaper than
 *   the WeakMap.
 *
 * Entry data are never modified once an entry exists (the Raft log's contract), which is what
 * makes a CRC remembered per buffer stay true.
 */
import { crc32c } from '@node-rs/crc32';

/** The Castagnoli polynomial, bit-reversed (the CRC is computed least significant bit first). */
const POLYNOMIAL = 0x82f63b78;

/** Entry data at least this long have their CRC remembered (see the module comment). */
export const DATA_CRC_CACHE_BYTES_MIN = 8 * 1024;

/**
 * `a * b` modulo the polynomial, both operands in the CRC's bit-reversed representation (the
 * most significant bit is the coefficient of x^0).
 */
function multiplyModulo(a: number, b: number): number {
  let product = 0;
  let factor = b;
  for (let bit = 0x8000_0000; bit !== 0; bit >>>= 1) {
    if ((a & bit) !== 0) product ^= factor;
    factor = (factor & 1) !== 0 ? (factor >>> 1) ^ POLYNOMIAL : factor >>> 1;
  }
  return product >>> 0;
}

/** POWERS[k] is x^(2^k) modulo the polynomial, k = 0..31. */
const POWERS: readonly number[] = (() => {
  const powers: number[] = [0x4000_0000]; // x^1
  for (let k = 1; k < 32; k++) powers.push(multiplyModulo(powers[k - 1]!, powers[k - 1]!));
  return powers;
})();

/** x^(8 * bytes) modulo the polynomial: the shift a CRC goes through over `bytes` bytes. */
function shiftOverBytes(bytes: number): number {
  let result = 0x8000_0000; // x^0
  let k = 3; // 8 * bytes = bytes * 2^3
  for (let n = bytes; n > 0; n = Math.floor(n / 2), k++) {
    if (n % 2 === 1) result = multiplyModulo(POWERS[k % 32]!, result);
  }
  return result;
}

/**
 * The CRC-32C of `a ‖ b`, given `crcA` = CRC-32C of `a`, `crcB` = CRC-32C of `b` (both from an
 * initial value of 0, as `crc32c(bytes)` computes them) and the length of `b` in bytes.
 */
export function crc32cCombine(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) throw new RangeError(`crc32cCombine: bad length ${lengthB}`);
  return (multiplyModulo(shiftOverBytes(lengthB), crcA >>> 0) ^ crcB) >>> 0;
}

const remembered = new WeakMap<Uint8Array, number>();

/** The CRC-32C of `data`, remembered for data of at least DATA_CRC_CACHE_BYTES_MIN bytes. */
export function entryDataCrc32c(data: Uint8Array): number {
  if (data.byteLength < DATA_CRC_CACHE_BYTES_MIN) return crc32c(data as Buffer);
  let crc = remembered.get(data);
  if (crc === undefined) {
    crc = crc32c(data as Buffer);
    remembered.set(data, crc);
  }
  return crc;
}

/** The remembered CRC-32C of `data`, if any (never computes). */
export function knownEntryDataCrc32c(data: Uint8Array): number | undefined {
  return remembered.get(data);
}

/** Remember `crc` as the CRC-32C of `data`: only once it was checked against (or computed from) these very bytes. */
export function rememberEntryDataCrc32c(data: Uint8Array, crc: number): void {
  if (data.byteLength >= DATA_CRC_CACHE_BYTES_MIN) remembered.set(data, crc);
}
