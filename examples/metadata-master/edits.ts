/**
 * The journal record of a namespace edit: compact JSON in UTF-8, one edit per record.
 *
 * ```
 * {"o":"m","p":"/a","f":1}      mkdir /a (f=1: with parents)
 * {"o":"c","p":"/a/b"}          create file /a/b
 * {"o":"r","p":"/a/b","t":"/c"} rename /a/b to /c
 * {"o":"d","p":"/a","f":1}      delete /a (f=1: recursively)
 * ```
 * Decoding checks every field: a record that does not decode is corruption, not an edit.
 */
import type { NamespaceEdit } from './namespace.ts';
import { pathCharsMax } from './namespace.ts';

/** Largest encoded edit, bytes (two paths of pathCharsMax characters of up to 3 UTF-8 bytes, plus keys). */
export const editBytesMax = 2 * 3 * pathCharsMax + 64;

/** A journal record that is not a valid edit. */
export class EditDecodeError extends Error {
  override readonly name = 'EditDecodeError';
}

const opCodes = { mkdir: 'm', create: 'c', rename: 'r', delete: 'd' } as const;

/** Encode one edit as a journal record. */
export function encodeEdit(edit: NamespaceEdit): Uint8Array {
  const wire: Record<string, string | number> = { o: opCodes[edit.op], p: edit.path };
  if (edit.op === 'rename') wire['t'] = edit.to;
  if ((edit.op === 'mkdir' && edit.parents) || (edit.op === 'delete' && edit.recursive)) wire['f'] = 1;
  const bytes = Buffer.from(JSON.stringify(wire), 'utf8');
  if (bytes.byteLength > editBytesMax) throw new RangeError(`edit of ${bytes.byteLength} bytes above ${editBytesMax}`);
  return bytes;
}

/** Decode one journal record. Throws EditDecodeError when it is not exactly an encoded edit. */
export function decodeEdit(record: Uint8Array): NamespaceEdit {
  if (record.byteLength > editBytesMax) throw new EditDecodeError(`record of ${record.byteLength} bytes above ${editBytesMax}`);
  let wire: unknown;
  try {
    wire = JSON.parse(Buffer.from(record.buffer, record.byteOffset, record.byteLength).toString('utf8'));
  } catch (error) {
    throw new EditDecodeError('record is not JSON', { cause: error });
  }
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) throw new EditDecodeError('record is not a JSON object');
  const { o, p, t, f, ...rest } = wire as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new EditDecodeError(`unknown field(s) ${Object.keys(rest).join(', ')}`);
  if (typeof p !== 'string') throw new EditDecodeError('field p (path) missing');
  if (f !== undefined && f !== 1) throw new EditDecodeError('field f must be 1 when present');
  if (t !== undefined && o !== 'r') throw new EditDecodeError('field t only belongs to a rename');
  const flag = f === 1;
  switch (o) {
    case 'm':
      return { op: 'mkdir', path: p, parents: flag };
    case 'c':
      if (flag) throw new EditDecodeError('create takes no flag');
      return { op: 'create', path: p };
    case 'r':
      if (typeof t !== 'string') throw new EditDecodeError('rename without field t (target)');
      if (flag) throw new EditDecodeError('rename takes no flag');
      return { op: 'rename', path: p, to: t };
    case 'd':
      return { op: 'delete', path: p, recursive: flag };
    default:
      throw new EditDecodeError(`unknown op ${JSON.stringify(o)}`);
  }
}
