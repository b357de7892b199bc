/**
 * CRC-32C helpers shared by the peer links and the WAL, so that a large entry's data is
 * checksummed once per node and not once per use.
 *
 * - {@link crc32cCombine}: the CRC of `a ‖ b` from the CRCs of `a` and `b` and the length of
 *   `b`, in at most three carry-less multiplications below 16 MiB (tables of shifts), about 30
 *   above. The WAL's record CRC
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

/** SHIFT_LOW[k] = x^(8k), SHIFT_MID[k] = x^(8 * 256k), SHIFT_HIGH[k] = x^(8 * 65536k), k < 256. */
const [SHIFT_LOW, SHIFT_MID, SHIFT_HIGH] = [1, 256, 65536].map((unit) => {
  const table = new Uint32Array(256);
  const step = shiftOverBytes(unit);
  table[0] = 0x8000_0000; // x^0
  for (let k = 1; k < 256; k++) table[k] = multiplyModulo(step, table[k - 1]!);
  return table;
}) as [Uint32Array, Uint32Array, Uint32Array];

/**
 * The shift a CRC goes through over `bytes` bytes (x^(8 * bytes) modulo the polynomial), for
 * {@link crc32cCombineShifted}: by tables, at most two carry-less multiplications, below 2^24
 * bytes.
 */
export function crc32cShift(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`crc32cShift: bad length ${bytes}`);
  if (bytes >= 0x100_0000) return shiftOverBytes(bytes);
  let shift = SHIFT_LOW[bytes & 0xff]!;
  if (bytes >= 0x100) shift = multiplyModulo(SHIFT_MID[(bytes >>> 8) & 0xff]!, shift);
  if (bytes >= 0x1_0000) shift = multiplyModulo(SHIFT_HIGH[bytes >>> 16]!, shift);
  return shift;
}

/**
 * {@link crc32cCombine} with the shift of `b`'s length given (`crc32cShift(length of b)`): one
 * carry-less multiplication, for many pieces of a few lengths.
 */
export function crc32cCombineShifted(crcA: number, crcB: number, shiftB: number): number {
  return (multiplyModulo(shiftB, crcA >>> 0) ^ crcB) >>> 0;
}

/** Entries of a {@link crc32cShiftTable}: 256 per byte of the multiplied CRC. */
const SHIFT_TABLE_ENTRIES = 4 * 256;

/**
 * Multiplication by one shift as four byte tables, for many pieces of one length: the product
 * is linear in the CRC, so it is the XOR of one entry per byte of it (four lookups instead of 32
 * steps). Building one costs 32 carry-less multiplications and 1,024 XORs, about as much as 40
 * {@link crc32cCombineShifted} calls; use it with {@link crc32cCombineByTable}.
 */
export function crc32cShiftTable(shift: number): Uint32Array {
  const table = new Uint32Array(SHIFT_TABLE_ENTRIES);
  for (let byte = 0; byte < 4; byte++) {
    const base = byte * 256;
    for (let value = 1; value < 256; value++) {
      const low = value & -value;
      const rest = value ^ low;
      table[base + value] = rest === 0 ? multiplyModulo((low << (8 * byte)) >>> 0, shift) : table[base + rest]! ^ table[base + low]!;
    }
  }
  return table;
}

/** {@link crc32cCombineShifted} by a table of the same shift ({@link crc32cShiftTable}). */
export function crc32cCombineByTable(crcA: number, crcB: number, table: Uint32Array): number {
  const a = crcA >>> 0;
  return (table[a & 0xff]! ^ table[256 + ((a >>> 8) & 0xff)]! ^ table[512 + ((a >>> 16) & 0xff)]! ^ table[768 + (a >>> 24)]! ^ crcB) >>> 0;
}

/**
 * The CRC-32C of `a ‖ b`, given `crcA` = CRC-32C of `a`, `crcB` = CRC-32C of `b` (both from an
 * initial value of 0, as `crc32c(bytes)` computes them) and the length of `b` in bytes.
 */
export function crc32cCombine(crcA: number, crcB: number, lengthB: number): number {
  return crc32cCombineShifted(crcA, crcB, crc32cShift(lengthB));
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

/** The byte-at-a-time table of the CRC's register (bit-reversed polynomial). */
const BYTE_TABLE: Int32Array = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    table[i] = c;
  }
  return table;
})();

/**
 * `crc32c(bytes[from, to), crc)` in JavaScript: the CRC-32C of `a ‖ bytes[from, to)` given `crc`,
 * the CRC-32C of `a`. For a few bytes, where a native call costs more than the work.
 */
export function crc32cUpdate(crc: number, bytes: Uint8Array, from: number, to: number): number {
  let c = ~crc;
  for (let i = from; i < to; i++) c = BYTE_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
