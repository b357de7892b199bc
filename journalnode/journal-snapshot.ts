/**
 * The metadata file of a journal state machine snapshot (`journal-state.json`), its schema
 * and its durable write. The segment files sit next to it in `journals/<journalId>/`.
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** Name of the metadata file inside a snapshot directory. */
export const snapshotMetaFileName = 'journal-state.json';

/** Directory of a journal's segment files inside a snapshot directory. */
export function snapshotJournalDir(snapshotDir: string, journalId: string): string {
  return join(snapshotDir, 'journals', journalId);
}

const uint = z.int().nonnegative();

const segmentSchema = z.strictObject({
  firstTxId: uint.min(1),
  lastTxId: uint,
  epoch: uint,
  inProgress: z.boolean(),
  sizeBytes: uint,
  /**
   * CRC-32C of a finalized segment's whole file, when the snapshotting node knew it: a node
   * that restores the snapshot declares the file with it in its own snapshots instead of
   * reading it back. Absent in snapshots of earlier versions and for in-progress segments.
   */
  crc32c: z.int().min(0).max(0xffff_ffff).optional(),
});

const journalSchema = z.strictObject({
  journalId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  namespace: z.strictObject({ nsId: z.string(), clusterId: z.string(), blockPoolId: z.string(), layoutVersion: z.int() }),
  promisedEpoch: uint,
  promisedBy: z.string(),
  writerEpoch: uint,
  lastTxId: uint,
  segments: z.array(segmentSchema),
  /** [firstTxId, epoch, count, crc32c], oldest first. */
  recentBatches: z.array(z.tuple([uint, uint, uint, uint])),
});

const leaseSchema = z.strictObject({
  journalId: z.string(),
  leaseName: z.string(),
  holder: z.string(),
  token: uint,
  expiresAtMs: uint,
});

/** Schema of `journal-state.json`, version 1. */
export const snapshotMetaSchema = z.strictObject({
  version: z.literal(1),
  appliedIndex: uint,
  leases: z.strictObject({ clockMs: uint, leases: z.array(leaseSchema) }),
  journals: z.array(journalSchema),
});

/** The content of `journal-state.json`. */
export type SnapshotMetaFile = z.infer<typeof snapshotMetaSchema>;
/** One journal in `journal-state.json`. */
export type SnapshotJournal = z.infer<typeof journalSchema>;

/** A snapshot directory that cannot be restored (missing or malformed metadata, missing files). */
export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
  readonly dir: string;
  constructor(dir: string, message: string, options?: ErrorOptions) {
    super(`${dir}: ${message}`, options);
    this.dir = dir;
  }
}

/**
 * Check the invariants a parsed journal must hold: segments ascending and contiguous, at most
 * one in progress and last, lastTxId the end of the last segment (when any).
 */
function checkJournal(dir: string, journal: SnapshotJournal): void {
  let next: number | undefined;
  journal.segments.forEach((segment, i) => {
    const where = `journal ${journal.journalId} segment ${segment.firstTxId}`;
    if (segment.lastTxId < segment.firstTxId - 1) throw new SnapshotFormatError(dir, `${where}: last txid before first`);
    if (!segment.inProgress && segment.lastTxId < segment.firstTxId) throw new SnapshotFormatError(dir, `${where}: empty finalized segment`);
    if (segment.inProgress && i !== journal.segments.length - 1) throw new SnapshotFormatError(dir, `${where}: in progress but not last`);
    if (next !== undefined && segment.firstTxId !== next) throw new SnapshotFormatError(dir, `${where}: expected first txid ${next}`);
    next = segment.lastTxId + 1;
  });
  const last = journal.segments.at(-1);
  if (last !== undefined && last.lastTxId !== journal.lastTxId) {
    throw new SnapshotFormatError(dir, `journal ${journal.journalId}: lastTxId ${journal.lastTxId} but segments end at ${last.lastTxId}`);
  }
}

/** Read and check `journal-state.json` of `snapshotDir`. Throws SnapshotFormatError. */
export async function readSnapshotMeta(snapshotDir: string): Promise<SnapshotMetaFile> {
  let text: string;
  try {
    text = await readFile(join(snapshotDir, snapshotMetaFileName), 'utf8');
  } catch (error) {
    throw new SnapshotFormatError(snapshotDir, `cannot read ${snapshotMetaFileName}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SnapshotFormatError(snapshotDir, `${snapshotMetaFileName} is not JSON`, { cause: error });
  }
  const parsed = snapshotMetaSchema.safeParse(value);
  if (!parsed.success) {
    throw new SnapshotFormatError(snapshotDir, `${snapshotMetaFileName}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const ids = new Set<string>();
  for (const journal of parsed.data.journals) {
    if (ids.has(journal.journalId)) throw new SnapshotFormatError(snapshotDir, `journal ${journal.journalId} twice`);
    ids.add(journal.journalId);
    checkJournal(snapshotDir, journal);
  }
  return parsed.data;
}

/** Write `journal-state.json` into `snapshotDir` and fsync it (the directory is the caller's). */
export async function writeSnapshotMeta(snapshotDir: string, meta: SnapshotMetaFile): Promise<void> {
  const handle = await open(join(snapshotDir, snapshotMetaFileName), 'wx');
  try {
    await handle.writeFile(JSON.stringify(meta), 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}
