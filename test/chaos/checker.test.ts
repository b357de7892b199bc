/**
 * The chaos checker on synthetic histories: a clean run passes, and each kind of violation
 * (lost, duplicated, gap, fenced accepted in its three forms, phantom, epochs out of order,
 * foreign bytes, diverged copies) is detected and counted.
 */
import test from 'ava';
import { checkRun, reportIsClean, type JournalCopy, type SegmentCopy } from '../../chaos/checker.ts';
import { decodeEdit, encodeEdit, type EditIdentity } from '../../chaos/edits.ts';
import { parseHistory, type History, type OpenEvent, type WriteOp } from '../../chaos/history.ts';

function edit(master: string, epoch: number, seq: number, zombie = false): EditIdentity {
  return { master, epoch, seq, zombie };
}

/** A copy holding `identities` at txids 1.. in the given segments. */
function copy(node: string, identities: readonly EditIdentity[], segments: readonly SegmentCopy[], files: Record<string, string> = { seg: 'd1' }): JournalCopy {
  return {
    node,
    segments,
    edits: identities.map((identity, i) => ({ txid: i + 1, data: encodeEdit(identity, 3) })),
    files: new Map(Object.entries(files)),
  };
}

let opNumber = 0;
function op(fields: Partial<WriteOp> & Pick<WriteOp, 'master' | 'epoch' | 'firstTxId' | 'seq' | 'count'>): WriteOp {
  opNumber += 1;
  return { op: opNumber, kind: 'write', startMs: 1000, endMs: 1010, outcome: 'acked', error: undefined, ...fields };
}

function history(ops: WriteOp[], opens: OpenEvent[] = []): History {
  return { ops, opens, transitions: [], badLines: 0 };
}

// A clean run: m1 writes txids 1-3 under epoch 1, m2 takes over with epoch 2 and writes 4-5.
const cleanEdits = [edit('m1', 1, 1), edit('m1', 1, 2), edit('m1', 1, 3), edit('m2', 2, 1), edit('m2', 2, 2)];
const cleanSegments: SegmentCopy[] = [
  { firstTxId: 1, lastTxId: 3, inProgress: false, epoch: 1 },
  { firstTxId: 4, lastTxId: 5, inProgress: true, epoch: 2 },
];
const cleanOpens: OpenEvent[] = [
  { master: 'm1', epoch: 1, lastTxId: 0, startMs: 100, endMs: 200 },
  { master: 'm2', epoch: 2, lastTxId: 3, startMs: 5000, endMs: 5100 },
];
const cleanOps = (): WriteOp[] => [
  op({ master: 'm1', epoch: 1, firstTxId: 1, seq: 1, count: 2, startMs: 1000 }),
  op({ master: 'm1', epoch: 1, firstTxId: 3, seq: 3, count: 1, startMs: 1100, outcome: 'unknown' }),
  op({ master: 'm2', epoch: 2, firstTxId: 4, seq: 1, count: 2, startMs: 6000 }),
];
const cleanCopies = (): JournalCopy[] => ['jn1', 'jn2', 'jn3'].map((node) => copy(node, cleanEdits, cleanSegments));

test('chaos checker - a clean run reports nothing', (t) => {
  const report = checkRun(history(cleanOps(), cleanOpens), cleanCopies());
  t.true(reportIsClean(report), report.details.join('\n'));
  t.is(report.ops, 3);
  t.is(report.acked, 2);
  t.is(report.unknown, 1);
  t.is(report.edits, 5);
  t.is(report.reference, 'jn1');
});

test('chaos checker - an acknowledged edit missing from the journal is lost', (t) => {
  const ops = [...cleanOps(), op({ master: 'm2', epoch: 2, firstTxId: 6, seq: 3, count: 2, startMs: 7000 })];
  const report = checkRun(history(ops, cleanOpens), cleanCopies());
  t.is(report.lost, 2);
  t.false(reportIsClean(report));
  t.regex(report.details.join('\n'), /lost: m2 op \d+ edit m2\/3 acked at txid 6/);
});

test('chaos checker - an acknowledged edit replaced by another at its txid is lost', (t) => {
  // The journal holds m2/9 where m2/2 was acknowledged.
  const edits = [...cleanEdits.slice(0, 4), edit('m2', 2, 9)];
  const copies = ['jn1', 'jn2', 'jn3'].map((node) => copy(node, edits, cleanSegments));
  const report = checkRun(history(cleanOps(), cleanOpens), copies);
  t.is(report.lost, 1);
  t.regex(report.details.join('\n'), /txid 5 holds m2\/9/);
});

test('chaos checker - the same edit at two txids is duplicated', (t) => {
  const edits = [...cleanEdits, edit('m2', 2, 2)];
  const segments: SegmentCopy[] = [cleanSegments[0]!, { firstTxId: 4, lastTxId: 6, inProgress: true, epoch: 2 }];
  const copies = ['jn1', 'jn2', 'jn3'].map((node) => copy(node, edits, segments));
  const report = checkRun(history(cleanOps(), cleanOpens), copies);
  t.is(report.duplicated, 1);
  t.regex(report.details.join('\n'), /duplicated: edit m2\/2 at txids 5, 6/);
});

test('chaos checker - a missing txid is a gap, in the edits and between segments', (t) => {
  const base = copy('jn1', cleanEdits, cleanSegments);
  const holed: JournalCopy = { ...base, edits: base.edits.filter((e) => e.txid !== 2) };
  const report = checkRun(history([], cleanOpens), [holed]);
  t.is(report.gaps, 1);
  const segmentsApart: SegmentCopy[] = [cleanSegments[0]!, { firstTxId: 5, lastTxId: 5, inProgress: true, epoch: 2 }];
  const apart = checkRun(history([], cleanOpens), [{ ...base, segments: segmentsApart, edits: base.edits.filter((e) => e.txid !== 4) }]);
  t.true(apart.gaps >= 1);
  t.regex(apart.details.join('\n'), /gap: segment 5 follows segment 1..3/);
});

test('chaos checker - an edit of another epoch inside a segment is fenced accepted', (t) => {
  // A zombie of epoch 1 appended into epoch 2's segment.
  const edits = [...cleanEdits, edit('m1', 1, 4, true)];
  const segments: SegmentCopy[] = [cleanSegments[0]!, { firstTxId: 4, lastTxId: 6, inProgress: true, epoch: 2 }];
  const copies = ['jn1', 'jn2', 'jn3'].map((node) => copy(node, edits, segments));
  const report = checkRun(history(cleanOps(), cleanOpens), copies);
  t.true(report.fencedAccepted >= 1);
  t.regex(report.details.join('\n'), /fenced accepted: txid 6 \(m1\/4, epoch 1, zombie\) in segment 4 of epoch 2/);
});

test('chaos checker - an epoch going down along the log is fenced accepted', (t) => {
  // Segment epochs lie consistently (every edit matches its segment) but go down: 2 then 1.
  const edits = [edit('m2', 2, 1), edit('m1', 1, 1)];
  const segments: SegmentCopy[] = [
    { firstTxId: 1, lastTxId: 1, inProgress: false, epoch: 2 },
    { firstTxId: 2, lastTxId: 2, inProgress: true, epoch: 1 },
  ];
  const report = checkRun(history([]), [copy('jn1', edits, segments)]);
  t.is(report.fencedAccepted, 1);
  t.is(report.epochViolations, 1);
});

test('chaos checker - a write acknowledged under an epoch after a higher one was promised is fenced accepted', (t) => {
  // m1's epoch-1 write started at 5200, after m2's open of epoch 2 completed at 5100, and was acked.
  const edits = [...cleanEdits.slice(0, 3), edit('m1', 1, 4), ...cleanEdits.slice(3)];
  const segments: SegmentCopy[] = [
    { firstTxId: 1, lastTxId: 4, inProgress: false, epoch: 1 },
    { firstTxId: 5, lastTxId: 6, inProgress: true, epoch: 2 },
  ];
  const copies = ['jn1', 'jn2', 'jn3'].map((node) => copy(node, edits, segments));
  const ops = [
    op({ master: 'm1', epoch: 1, firstTxId: 1, seq: 1, count: 3, startMs: 1000 }),
    op({ master: 'm1', epoch: 1, firstTxId: 4, seq: 4, count: 1, startMs: 5200, kind: 'zombie' }),
    op({ master: 'm2', epoch: 2, firstTxId: 5, seq: 1, count: 2, startMs: 6000 }),
  ];
  const report = checkRun(history(ops, cleanOpens), copies);
  t.is(report.fencedAccepted, 1);
  t.is(report.zombies, 1);
  t.regex(report.details.join('\n'), /fenced accepted: m1 op \d+ \(zombie, epoch 1, started at 5200\) acknowledged after m2 opened epoch 2/);
  // The same write started before the open completed is legitimate.
  const early = [ops[0]!, { ...ops[1]!, startMs: 5050 }, ops[2]!];
  t.true(reportIsClean(checkRun(history(early, cleanOpens), copies)));
});

test('chaos checker - a refused write whose edits are in the journal is a phantom', (t) => {
  const ops = cleanOps();
  ops[1] = { ...ops[1]!, outcome: 'failed', error: 'EPOCH_FENCED' };
  const report = checkRun(history(ops, cleanOpens), cleanCopies());
  t.is(report.phantoms, 1);
  t.false(reportIsClean(report));
});

test('chaos checker - epochs that do not strictly increase across opens are reported', (t) => {
  const opens: OpenEvent[] = [
    { master: 'm1', epoch: 5, lastTxId: 0, startMs: 100, endMs: 200 },
    { master: 'm2', epoch: 4, lastTxId: 0, startMs: 300, endMs: 400 },
  ];
  t.is(checkRun(history([], opens), cleanCopies()).epochViolations, 1);
  const same: OpenEvent[] = [
    { master: 'm1', epoch: 5, lastTxId: 0, startMs: 100, endMs: 200 },
    { master: 'm2', epoch: 5, lastTxId: 0, startMs: 150, endMs: 400 },
  ];
  t.is(checkRun(history([], same), cleanCopies()).epochViolations, 1);
  // Overlapping opens with increasing epochs are fine.
  const overlapping: OpenEvent[] = [
    { master: 'm1', epoch: 5, lastTxId: 0, startMs: 100, endMs: 200 },
    { master: 'm2', epoch: 6, lastTxId: 0, startMs: 150, endMs: 400 },
  ];
  t.is(checkRun(history([], overlapping), cleanCopies()).epochViolations, 0);
});

test('chaos checker - a copy that differs in one edit, one file, or could not be read is diverged', (t) => {
  const copies = cleanCopies();
  const bad = copies[2]!;
  const changedEdits = bad.edits.map((e) => (e.txid === 2 ? { txid: 2, data: encodeEdit(edit('m1', 1, 2), 4) } : e));
  const report = checkRun(history(cleanOps(), cleanOpens), [copies[0]!, copies[1]!, { ...bad, edits: changedEdits }]);
  t.is(report.diverged, 1);
  t.regex(report.details.join('\n'), /diverged: jn3 differs from jn1: first difference at txid 2/);
  const otherFile = checkRun(history(cleanOps(), cleanOpens), [copies[0]!, copies[1]!, { ...bad, files: new Map([['seg', 'other']]) }]);
  t.is(otherFile.diverged, 1);
  t.regex(otherFile.details.join('\n'), /segment file seg differs/);
  const unreadable = checkRun(history(cleanOps(), cleanOpens), [copies[0]!, copies[1]!, { node: 'jn3', segments: [], edits: [], files: new Map(), error: 'UNAVAILABLE' }]);
  t.is(unreadable.diverged, 1);
  // The majority wins: the odd one out is the diverged one, whichever node it is.
  const firstOdd = checkRun(history(cleanOps(), cleanOpens), [{ ...copies[0]!, edits: changedEdits }, copies[1]!, copies[2]!]);
  t.is(firstOdd.reference, 'jn2');
  t.is(firstOdd.diverged, 1);
});

test('chaos checker - records that are not chaos edits are foreign', (t) => {
  const base = copy('jn1', cleanEdits, cleanSegments);
  const damaged: JournalCopy = { ...base, edits: base.edits.map((e) => (e.txid === 3 ? { txid: 3, data: Buffer.from('garbage') } : e)) };
  const report = checkRun(history([], cleanOpens), [damaged]);
  t.is(report.foreign, 1);
});

test('chaos checker - edits encode and decode, and foreign bytes decode to nothing', (t) => {
  const identity = edit('m-1', 7, 12345, true);
  t.deepEqual(decodeEdit(encodeEdit(identity, 100)), identity);
  t.is(decodeEdit(Buffer.from('chaos1 m=m1 e=1 s=1 z=2 ')), undefined);
  t.is(decodeEdit(Buffer.from('hello')), undefined);
  t.throws(() => encodeEdit(edit('bad id', 1, 1)), { instanceOf: RangeError });
});

test('chaos checker - history lines parse into operations; a torn line and a missing completion are tolerated', (t) => {
  const lines = [
    JSON.stringify({ t: 'invoke', op: 1, master: 'm1', kind: 'write', epoch: 3, first: 1, seq: 1, count: 2, at: 10 }),
    JSON.stringify({ t: 'complete', op: 1, master: 'm1', outcome: 'acked', at: 12 }),
    JSON.stringify({ t: 'invoke', op: 2, master: 'm1', kind: 'zombie', epoch: 3, first: 3, seq: 3, count: 1, at: 20 }),
    JSON.stringify({ t: 'open', master: 'm1', epoch: 3, lastTxId: 0, start: 1, end: 5 }),
    '{"t":"complete","op":2,"mas',
  ].join('\n');
  const parsed = parseHistory([lines]);
  t.is(parsed.badLines, 1);
  t.is(parsed.ops.length, 2);
  t.is(parsed.ops[0]!.outcome, 'acked');
  t.is(parsed.ops[0]!.endMs, 12);
  t.is(parsed.ops[1]!.outcome, 'unknown');
  t.is(parsed.ops[1]!.kind, 'zombie');
  t.deepEqual(parsed.opens, [{ master: 'm1', epoch: 3, lastTxId: 0, startMs: 1, endMs: 5 }]);
});
