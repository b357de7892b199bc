/** The progress line of `npm start`: its content, and its refresh in place on a terminal only. */
import test from 'ava';
import { formatProgress, progressOutput } from '../../deploy/progress.ts';

const sample = { editsPerSecond: 49.6, lastTxId: 1234, active: 'm1', epoch: 6, standbyLag: 2, standbys: 1, segmentsRolled: 3, journalNodesUp: 3, journalNodes: 3 };

test('deploy progress - the line shows edits per second, last txid, the active master and the standby lag', (t) => {
  t.is(formatProgress(sample), 'progress: 50 edits/s | last txid 1234 | active m1 (epoch 6) | standby lag 2 | segments 3 | JNs up 3/3');
  t.regex(formatProgress({ ...sample, active: undefined, epoch: null, standbyLag: undefined }), /active none \(election\) \| standby lag \?/);
  t.regex(formatProgress({ ...sample, standbys: 0, standbyLag: undefined }), /\| no standby \|/);
});

test('deploy progress - refreshed in place on a TTY, one line per sample otherwise', (t) => {
  t.is(progressOutput('progress: x', true), '\rprogress: x\x1b[K');
  t.is(progressOutput('progress: x', false), 'progress: x\n');
});
