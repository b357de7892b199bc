/**
 * `npm run demo:failover` tells the failover story on its own: the test runs the command and
 * reads its report (the `--json` line).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { projectRoot } from '../../deploy/launcher.ts';
import type { FailoverReport } from '../../deploy/demo-failover.ts';

test('deploy demo:failover - the active is SIGKILLed under load: 0 edits lost, the old active fenced, its segment recovered', async (t) => {
  t.timeout(180_000);
  const child = spawn('npm', ['run', '--silent', 'demo:failover', '--', '--json'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  });
  const exit = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.log(output.split('\n').filter((line) => !line.startsWith('demo-failover: {')).join('\n'));

  const jsonLine = output.split('\n').find((line) => line.startsWith('demo-failover: {'));
  t.truthy(jsonLine, 'the report line');
  const report = JSON.parse(jsonLine!.slice('demo-failover: '.length)) as FailoverReport;
  t.is(exit, 0);
  t.true(report.passed, report.failures.join('; '));
  t.is(report.lostEdits, 0);
  t.is(report.unexpectedEdits, 0);
  t.true(report.editsAcknowledged > 100, 'edits were written');
  t.true(report.oldEpochFenced.fenced, 'the old active\'s epoch is refused');
  t.true(report.oldEpochFenced.promisedEpoch! > report.killed.epoch!);
  t.is(report.oldActiveBack.role, 'standby');
  t.is(report.oldActiveBack.writeStatus, 503);
  t.is(report.oldActiveBack.redirectsTo, report.newActive.id);
  t.not(report.newActive.id, report.killed.id);
  t.is(report.recoveredSegment?.finalized, true, 'the in-progress segment was recovered');
  t.true(report.mastersAgree);
  t.true(Number.isFinite(report.writingAfterMs) && Number.isFinite(report.activeAfterMs));
  t.regex(output, /^result: PASS$/m);
});
