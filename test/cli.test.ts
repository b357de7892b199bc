import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('qjm - an unknown verb exits 2 with a message', async (t) => {
  const err = await t.throwsAsync(run('./bin/qjm', ['no-such-verb']));
  t.is((err as unknown as { code: number }).code, 2);
  t.regex((err as unknown as { stderr: string }).stderr, /unknown verb/);
});
