/** Small byte helpers of the simulator (ASCII payloads, comparable keys, trace hashing). */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** `bytes` decoded as UTF-8. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Chunk length for `String.fromCharCode.apply` (stays well under the engine's argument limit). */
const CHAR_CODE_CHUNK_LENGTH = 4096;

/**
 * A string that is equal for equal byte sequences and different otherwise (one char per byte),
 * used to compare entry payloads without keeping the arrays.
 */
export function bytesKey(bytes: Uint8Array): string {
  if (bytes.length <= CHAR_CODE_CHUNK_LENGTH) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let out = '';
  for (let i = 0; i < bytes.length; i += CHAR_CODE_CHUNK_LENGTH) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + CHAR_CODE_CHUNK_LENGTH) as unknown as number[]);
  }
  return out;
}

/**
 * A running 64-bit FNV-1a hash (two 32-bit halves with different offsets) over strings, used to
 * fingerprint a trace: two runs with equal fingerprints replayed the same events.
 */
export class TraceHash {
  private low = 0x811c9dc5;
  private high = 0xcbf29ce4 >>> 0;

  update(text: string): void {
    let low = this.low;
    let high = this.high;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      low = Math.imul(low ^ c, 0x01000193);
      high = Math.imul(high ^ c ^ (low >>> 24), 0x01000193);
    }
    // A separator, so that ["ab", "c"] and ["a", "bc"] differ.
    this.low = Math.imul(low ^ 0x0a, 0x01000193);
    this.high = Math.imul(high ^ 0x0a, 0x01000193);
  }

  /** 16 hex digits. */
  digest(): string {
    return (this.high >>> 0).toString(16).padStart(8, '0') + (this.low >>> 0).toString(16).padStart(8, '0');
  }
}
