/**
 * The edits the chaos masters write: each carries who wrote it, under which epoch, and a
 * sequence number unique per master, so the checker can tell every edit in the journal apart
 * and know the epoch that sent it.
 *
 * Format (ASCII): `chaos1 m=<master> e=<epoch> s=<seq> z=<0|1> ` then `.` padding.
 * `z=1` marks a zombie write (a stale master writing on purpose after it lost leadership).
 */

/** Longest master id in an edit. */
export const masterIdCharsMax = 32;

/** Most padding bytes in one edit. */
export const editPaddingBytesMax = 4096;

/** What an edit says about itself. */
export interface EditIdentity {
  readonly master: string;
  readonly epoch: number;
  readonly seq: number;
  readonly zombie: boolean;
}

const masterIdPattern = /^[A-Za-z0-9_-]{1,32}$/;
const editPattern = /^chaos1 m=([A-Za-z0-9_-]{1,32}) e=(\d{1,16}) s=(\d{1,16}) z=([01]) \.*$/;

/** Encode one edit with `paddingBytes` bytes of padding. Throws RangeError on bad fields. */
export function encodeEdit(identity: EditIdentity, paddingBytes = 0): Buffer {
  if (!masterIdPattern.test(identity.master)) throw new RangeError(`invalid master id '${identity.master}'`);
  for (const [name, value] of [['epoch', identity.epoch], ['seq', identity.seq]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`invalid ${name} ${value}`);
  }
  if (!Number.isSafeInteger(paddingBytes) || paddingBytes < 0 || paddingBytes > editPaddingBytesMax) throw new RangeError(`invalid padding ${paddingBytes}`);
  const text = `chaos1 m=${identity.master} e=${identity.epoch} s=${identity.seq} z=${identity.zombie ? 1 : 0} `;
  return Buffer.concat([Buffer.from(text, 'latin1'), Buffer.alloc(paddingBytes, 0x2e)]);
}

/** Decode an edit; undefined when the bytes are not a chaos edit (foreign or damaged). */
export function decodeEdit(data: Uint8Array): EditIdentity | undefined {
  if (data.byteLength > 128 + editPaddingBytesMax) return undefined;
  const m = editPattern.exec(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1'));
  if (m === null) return undefined;
  const epoch = Number(m[2]);
  const seq = Number(m[3]);
  if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(seq)) return undefined;
  return { master: m[1]!, epoch, seq, zombie: m[4] === '1' };
}

/** The key that names one edit across the run: `<master>/<seq>`. */
export function editKey(master: string, seq: number): string {
  return `${master}/${seq}`;
}
