/**
 * The encoding of a {@link ConfChange} inside a `confChange` log entry: UTF-8 JSON, with the
 * opaque `context` as base64. Stable: entries written by one version are read by the next.
 */
import type { ConfChange, ConfChangeSingle } from './types.ts';
import { isValidNodeId } from './validation.ts';

/** The bytes of a confChange entry are not a valid encoded ConfChange. */
export class ConfChangeDecodeError extends Error {
  override readonly name = 'ConfChangeDecodeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(`raft conf change: ${message}`, options);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
/** Chunk for building the binary string handed to btoa (keeps argument lists short). */
const BASE64_CHUNK_BYTES = 0x8000;

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let start = 0; start < bytes.length; start += BASE64_CHUNK_BYTES) {
    binary += String.fromCharCode(...bytes.subarray(start, start + BASE64_CHUNK_BYTES));
  }
  return btoa(binary);
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Encodes `cc` as the data of a confChange entry. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      transition: cc.transition,
      changes: cc.changes.map((change) => ({ type: change.type, node: change.node })),
      context: bytesToBase64(cc.context),
    }),
  );
}

/** Decodes the data of a confChange entry. Throws {@link ConfChangeDecodeError} on malformed bytes. */
export function decodeConfChange(bytes: Uint8Array): ConfChange {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new ConfChangeDecodeError('not UTF-8 JSON', { cause });
  }
  if (typeof parsed !== 'object' || parsed === null) throw new ConfChangeDecodeError('not an object');
  const { transition, changes, context } = parsed as Record<string, unknown>;
  if (transition !== 'auto' && transition !== 'joint' && transition !== 'reset') {
    throw new ConfChangeDecodeError(`bad transition ${JSON.stringify(transition)}`);
  }
  if (!Array.isArray(changes)) throw new ConfChangeDecodeError('changes is not an array');
  const decodedChanges: ConfChangeSingle[] = changes.map((change: unknown) => {
    const { type, node } = (change ?? {}) as Record<string, unknown>;
    if (type !== 'addVoter' && type !== 'removeVoter' && type !== 'addLearner') {
      throw new ConfChangeDecodeError(`bad change type ${JSON.stringify(type)}`);
    }
    if (!isValidNodeId(node)) throw new ConfChangeDecodeError(`bad node id ${JSON.stringify(node)}`);
    return { type, node };
  });
  if (typeof context !== 'string') throw new ConfChangeDecodeError('context is not a string');
  let contextBytes: Uint8Array;
  try {
    contextBytes = base64ToBytes(context);
  } catch (cause) {
    throw new ConfChangeDecodeError('context is not base64', { cause });
  }
  return { transition, changes: decodedChanges, context: contextBytes };
}
