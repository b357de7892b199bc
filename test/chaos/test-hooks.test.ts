/**
 * The JournalNode's test-only hooks the chaos run switches on: canary names from the
 * environment, and the control file that fills the disk of the fault-injecting file layer.
 */
import test from 'ava';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultyFileSystem } from '../../raft/storage/fs.ts';
import { testHooksFromEnv, TestHookError, watchFaultyFsControl } from '../../journalnode/test-hooks.ts';
import { waitFor } from '../support/wait.ts';

test('chaos hooks - canaries and the control file come from the environment; an unknown canary is refused', (t) => {
  t.deepEqual(testHooksFromEnv({}), { canary: undefined, faultyFsControlPath: undefined });
  t.deepEqual(testHooksFromEnv({ QJM_CANARY: 'ack-before-fsync', QJM_FAULTY_FS_CONTROL: '/x/disk' }), { canary: 'ack-before-fsync', faultyFsControlPath: '/x/disk' });
  t.is(testHooksFromEnv({ QJM_CANARY: 'skip-epoch-check' }).canary, 'skip-epoch-check');
  t.is(testHooksFromEnv({ QJM_CANARY: '' }).canary, undefined);
  t.throws(() => testHooksFromEnv({ QJM_CANARY: 'lose-everything' }), { instanceOf: TestHookError, message: /lose-everything/ });
});

test('chaos hooks - the control file switches ENOSPC on and off', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'hooks-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const data = join(root, 'raft');
  await mkdir(data);
  const control = join(root, 'disk');
  const fs = new FaultyFileSystem(data);
  const changes: boolean[] = [];
  const stop = watchFaultyFsControl(fs, control, (full) => changes.push(full));
  t.teardown(stop);
  const tryWrite = async (): Promise<string> => {
    const handle = await fs.open(join(data, 'f'), 'w');
    try {
      await handle.write(Buffer.from('x'), 0);
      return 'ok';
    } catch (error) {
      return (error as NodeJS.ErrnoException).code ?? String(error);
    } finally {
      await handle.close();
    }
  };
  t.is(await tryWrite(), 'ok');
  await writeFile(control, 'enospc\n');
  await waitFor(() => changes.length === 1, { what: 'the disk to fill' });
  t.is(await tryWrite(), 'ENOSPC');
  await writeFile(control, 'ok\n');
  await waitFor(() => changes.length === 2, { what: 'the disk to free' });
  t.is(await tryWrite(), 'ok');
  t.deepEqual(changes, [true, false]);
});
