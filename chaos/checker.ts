/**
 * The checker of a chaos run: a pure function of the history (what the masters were told) and
 * of the journal as every JournalNode holds it at the end (read back after the cluster healed
 * and converged). It reports:
 *
 * - `lost`: edits of an acknowledged write that are not in the journal at the txid they were
 *   acknowledged at;
 * - `duplicated`: extra copies of an edit (the same master and sequence number at two txids);
 * - `gaps`: txids missing between the first and the last held one (or between segments);
 * - `fencedAccepted`: edits accepted under an epoch after a higher one was promised, by any of:
 *   (a) an edit in a segment written by another epoch (a segment's edits all come from the
 *   writer that opened it); (b) an edit whose epoch is below an earlier edit's (epochs never go
 *   down along the log); (c) a write whose edits were acknowledged or are in the journal,
 *   although it started after an openForWrite with a higher epoch had completed (that promise
 *   was committed before the request existed, so the JournalNodes had to refuse it);
 * - `phantoms`: edits of a write that was definitely refused (`failed`) yet are in the journal;
 * - `epochViolations`: epochs not strictly increasing: two openForWrite calls that did not
 *   overlap in time where the later got an epoch not above the earlier one's, or two masters
 *   opened with the same epoch, or segments whose epochs go down along the log;
 * - `foreign`: journal records that are not chaos edits (damaged or invented bytes);
 * - `diverged`: JournalNodes whose copy (segment list, edits, segment file bytes) differs from
 *   the copy most of them hold (a node that could not be read counts as diverged).
 *
 * Time comparisons (c, epochs) use `clockMarginMs` of slack: every process reads the same
 * machine clock, the margin only absorbs its millisecond resolution.
 */
import { createHash } from 'node:crypto';
import { decodeEdit, editKey } from './edits.ts';
import type { EditIdentity } from './edits.ts';
import type { History, OpenEvent, WriteOp } from './history.ts';

/** Detail lines kept in a report (the counters are always complete). */
export const reportDetailsMax = 40;

/** A segment as a JournalNode lists it. */
export interface SegmentCopy {
  readonly firstTxId: number;
  readonly lastTxId: number;
  readonly inProgress: boolean;
  readonly epoch: number;
}

/** One edit read back. */
export interface EditCopy {
  readonly txid: number;
  readonly data: Uint8Array;
}

/** The journal as one JournalNode holds it. */
export interface JournalCopy {
  readonly node: string;
  readonly segments: readonly SegmentCopy[];
  /** Every held edit, ascending txid. */
  readonly edits: readonly EditCopy[];
  /** Segment file name -> digest of its bytes. */
  readonly files: ReadonlyMap<string, string>;
  /** Set when the node could not be read; the other fields are then empty. */
  readonly error?: string | undefined;
}

/** Options of {@link checkRun}. */
export interface CheckOptions {
  /** Slack on real-time comparisons between processes, ms. Default 2. */
  readonly clockMarginMs?: number;
}

/** What the checker found. Every counter but `ops`, `acked`, `failed`, `unknown` and `edits` must be 0. */
export interface CheckReport {
  readonly ops: number;
  readonly acked: number;
  readonly failed: number;
  readonly unknown: number;
  readonly zombies: number;
  /** Edits in the reference copy. */
  readonly edits: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly gaps: number;
  readonly fencedAccepted: number;
  readonly phantoms: number;
  readonly epochViolations: number;
  readonly foreign: number;
  readonly diverged: number;
  /** The node whose copy was the reference, if any copy could be read. */
  readonly reference: string | undefined;
  /** Examples of each violation, at most {@link reportDetailsMax}. */
  readonly details: readonly string[];
}

/** True when the report shows no safety violation. */
export function reportIsClean(report: CheckReport): boolean {
  return (
    report.lost === 0 &&
    report.duplicated === 0 &&
    report.gaps === 0 &&
    report.fencedAccepted === 0 &&
    report.phantoms === 0 &&
    report.epochViolations === 0 &&
    report.foreign === 0 &&
    report.diverged === 0
  );
}

/** A digest of everything a copy holds (two copies with one fingerprint are identical). */
export function copyFingerprint(copy: JournalCopy): string {
  const hash = createHash('sha256');
  if (copy.error !== undefined) return `error:${copy.node}`;
  hash.update(JSON.stringify(copy.segments.map((s) => [s.firstTxId, s.lastTxId, s.inProgress, s.epoch])));
  for (const edit of copy.edits) {
    hash.update(`${edit.txid}:${edit.data.byteLength}:`);
    hash.update(edit.data);
  }
  hash.update(JSON.stringify([...copy.files].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))));
  return hash.digest('hex');
}

class Details {
  readonly lines: string[] = [];
  add(line: string): void {
    if (this.lines.length < reportDetailsMax) this.lines.push(line);
  }
}

/** The copy held by most nodes (ties: the first in node order), and how many differ from it. */
function pickReference(copies: readonly JournalCopy[], details: Details): { reference: JournalCopy | undefined; diverged: number } {
  const groups = new Map<string, JournalCopy[]>();
  for (const copy of [...copies].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))) {
    const key = copyFingerprint(copy);
    const group = groups.get(key) ?? [];
    group.push(copy);
    groups.set(key, group);
  }
  let best: JournalCopy[] | undefined;
  for (const group of groups.values()) {
    if (group[0]!.error !== undefined) continue;
    if (best === undefined || group.length > best.length) best = group;
  }
  const reference = best?.[0];
  let diverged = 0;
  for (const copy of copies) {
    if (best !== undefined && best.includes(copy)) continue;
    diverged += 1;
    if (copy.error !== undefined) {
      details.add(`diverged: ${copy.node} could not be read: ${copy.error}`);
    } else if (reference !== undefined) {
      details.add(`diverged: ${copy.node} differs from ${reference.node}: ${describeDifference(reference, copy)}`);
    }
  }
  return { reference, diverged };
}

function describeDifference(a: JournalCopy, b: JournalCopy): string {
  const segA = JSON.stringify(a.segments);
  const segB = JSON.stringify(b.segments);
  if (segA !== segB) return `segments ${segA.slice(0, 200)} vs ${segB.slice(0, 200)}`;
  if (a.edits.length !== b.edits.length) return `${a.edits.length} edits vs ${b.edits.length}`;
  for (let i = 0; i < a.edits.length; i++) {
    const x = a.edits[i]!;
    const y = b.edits[i]!;
    if (x.txid !== y.txid || !Buffer.from(x.data).equals(Buffer.from(y.data))) return `first difference at txid ${x.txid}`;
  }
  for (const [name, digest] of a.files) {
    if (b.files.get(name) !== digest) return `segment file ${name} differs`;
  }
  for (const name of b.files.keys()) if (!a.files.has(name)) return `extra segment file ${name}`;
  return 'unknown difference';
}

function segmentOf(segments: readonly SegmentCopy[], txid: number): SegmentCopy | undefined {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segments[mid]!;
    if (txid < s.firstTxId) hi = mid - 1;
    else if (txid > s.lastTxId) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/** The first open of an epoch above `epoch` that completed before `startMs` (minus the margin). */
function fencingOpenBefore(opensByEnd: readonly OpenEvent[], epoch: number, startMs: number, marginMs: number): OpenEvent | undefined {
  for (const open of opensByEnd) {
    if (open.endMs + marginMs >= startMs) break;
    if (open.epoch > epoch) return open;
  }
  return undefined;
}

/** Check a run. Pure: the same inputs give the same report. */
export function checkRun(history: History, copies: readonly JournalCopy[], options: CheckOptions = {}): CheckReport {
  const marginMs = options.clockMarginMs ?? 2;
  const details = new Details();
  const { reference, diverged } = pickReference(copies, details);

  // The reference journal: txid -> identity; identity -> txids.
  const byTxId = new Map<number, EditIdentity>();
  const txidsByKey = new Map<string, number[]>();
  let gaps = 0;
  let foreign = 0;
  let fencedAccepted = 0;
  let epochViolations = 0;
  let duplicated = 0;
  const edits = reference?.edits ?? [];
  const segments = reference?.segments ?? [];

  for (let i = 1; i < segments.length; i++) {
    const previous = segments[i - 1]!;
    const segment = segments[i]!;
    if (segment.firstTxId !== previous.lastTxId + 1) {
      gaps += Math.max(1, segment.firstTxId - previous.lastTxId - 1);
      details.add(`gap: segment ${segment.firstTxId} follows segment ${previous.firstTxId}..${previous.lastTxId}`);
    }
    if (segment.epoch < previous.epoch) {
      epochViolations += 1;
      details.add(`epoch order: segment ${segment.firstTxId} has epoch ${segment.epoch} after segment ${previous.firstTxId} of epoch ${previous.epoch}`);
    }
  }
  const firstHeld = segments[0]?.firstTxId ?? edits[0]?.txid;
  if (firstHeld !== undefined && firstHeld !== 1) {
    gaps += firstHeld - 1;
    details.add(`gap: the journal starts at txid ${firstHeld}`);
  }

  let maxEpochSoFar = 0;
  let maxEpochTxId = 0;
  let previousTxId: number | undefined;
  for (const edit of edits) {
    if (previousTxId !== undefined && edit.txid !== previousTxId + 1) {
      gaps += Math.max(1, edit.txid - previousTxId - 1);
      details.add(`gap: txid ${edit.txid} follows txid ${previousTxId}`);
    }
    previousTxId = edit.txid;
    const segment = segmentOf(segments, edit.txid);
    if (segment === undefined) {
      gaps += 1;
      details.add(`gap: txid ${edit.txid} is in no listed segment`);
    }
    const identity = decodeEdit(edit.data);
    if (identity === undefined) {
      foreign += 1;
      details.add(`foreign: txid ${edit.txid} holds ${edit.data.byteLength} bytes that are not a chaos edit`);
      continue;
    }
    byTxId.set(edit.txid, identity);
    const key = editKey(identity.master, identity.seq);
    const seen = txidsByKey.get(key);
    if (seen === undefined) {
      txidsByKey.set(key, [edit.txid]);
    } else {
      seen.push(edit.txid);
      duplicated += 1;
      details.add(`duplicated: edit ${key} at txids ${seen.join(', ')}`);
    }
    if (segment !== undefined && identity.epoch !== segment.epoch) {
      fencedAccepted += 1;
      details.add(`fenced accepted: txid ${edit.txid} (${key}, epoch ${identity.epoch}${identity.zombie ? ', zombie' : ''}) in segment ${segment.firstTxId} of epoch ${segment.epoch}`);
    } else if (identity.epoch < maxEpochSoFar) {
      fencedAccepted += 1;
      details.add(`fenced accepted: txid ${edit.txid} (${key}) has epoch ${identity.epoch} after txid ${maxEpochTxId} of epoch ${maxEpochSoFar}`);
    }
    if (identity.epoch > maxEpochSoFar) {
      maxEpochSoFar = identity.epoch;
      maxEpochTxId = edit.txid;
    }
  }

  // The history against the journal.
  const opensByEnd = [...history.opens].sort((a, b) => a.endMs - b.endMs);
  let acked = 0;
  let failed = 0;
  let unknown = 0;
  let zombies = 0;
  let lost = 0;
  let phantoms = 0;
  const present = (op: WriteOp): number => {
    let count = 0;
    for (let i = 0; i < op.count; i++) if (txidsByKey.has(editKey(op.master, op.seq + i))) count += 1;
    return count;
  };
  for (const op of history.ops) {
    if (op.kind === 'zombie') zombies += 1;
    if (op.outcome === 'acked') acked += 1;
    else if (op.outcome === 'failed') failed += 1;
    else unknown += 1;
    if (op.outcome === 'acked') {
      for (let i = 0; i < op.count; i++) {
        const txid = op.firstTxId + i;
        const held = byTxId.get(txid);
        if (held === undefined || held.master !== op.master || held.seq !== op.seq + i) {
          lost += 1;
          const where = txidsByKey.get(editKey(op.master, op.seq + i));
          details.add(
            `lost: ${op.master} op ${op.op} edit ${editKey(op.master, op.seq + i)} acked at txid ${txid} (epoch ${op.epoch}); ` +
              (held === undefined ? 'that txid is not held' : `txid ${txid} holds ${editKey(held.master, held.seq)}`) +
              (where !== undefined ? `; found at ${where.join(', ')}` : ''),
          );
        }
      }
    }
    const held = op.outcome === 'acked' ? op.count : present(op);
    if (op.outcome === 'failed' && held > 0) {
      phantoms += held;
      details.add(`phantom: ${op.master} op ${op.op} (${op.kind}, epoch ${op.epoch}) was refused (${op.error ?? ''}) yet ${held} of its edits are held`);
    }
    if (held > 0) {
      const fence = fencingOpenBefore(opensByEnd, op.epoch, op.startMs, marginMs);
      if (fence !== undefined) {
        fencedAccepted += held;
        details.add(
          `fenced accepted: ${op.master} op ${op.op} (${op.kind}, epoch ${op.epoch}, started at ${op.startMs}) ${op.outcome === 'acked' ? 'acknowledged' : 'held'} ` +
            `after ${fence.master} opened epoch ${fence.epoch} (done at ${fence.endMs})`,
        );
      }
    }
  }

  // Epochs strictly increasing across opens.
  const opens = history.opens;
  for (let i = 0; i < opens.length; i++) {
    for (let j = 0; j < opens.length; j++) {
      if (i === j) continue;
      const a = opens[i]!;
      const b = opens[j]!;
      if (a.epoch === b.epoch && i < j && a.master !== b.master) {
        epochViolations += 1;
        details.add(`epoch order: ${a.master} and ${b.master} both opened epoch ${a.epoch}`);
      } else if (a.endMs + marginMs < b.startMs && b.epoch <= a.epoch) {
        epochViolations += 1;
        details.add(`epoch order: ${b.master} opened epoch ${b.epoch} at ${b.startMs} after ${a.master} opened epoch ${a.epoch} (done at ${a.endMs})`);
      }
    }
  }

  return {
    ops: history.ops.length,
    acked,
    failed,
    unknown,
    zombies,
    edits: edits.length,
    lost,
    duplicated,
    gaps,
    fencedAccepted,
    phantoms,
    epochViolations,
    foreign,
    diverged,
    reference: reference?.node,
    details: details.lines,
  };
}
