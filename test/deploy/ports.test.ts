import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createServer } from 'node:net';
import { ephemeralPortRange, freePort, freePorts, localPortRange, reservePort } from '../../deploy/ports.ts';
import { projectRoot } from '../../deploy/launcher.ts';

test('ports - drawn below the kernel ephemeral range, distinct, bindable, and reserved by this process', async (t) => {
  const { low, high } = localPortRange();
  t.true(high <= ephemeralPortRange().low);
  t.true(low >= 1024 && low < high);
  const ports = await freePorts(40);
  t.is(new Set(ports).size, 40);
  for (const port of ports) t.true(port >= low && port < high, String(port));
  // Our own reservation: asking again is refused (the lock is held here).
  t.false(reservePort(ports[0]!));
  const server = createServer();
  server.listen({ host: '127.0.0.1', port: ports[1]!, exclusive: true });
  await once(server, 'listening');
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('ports - a port reserved by another live process is not handed out; once it exits, it is', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
    const { freePorts } = await import('./deploy/ports.ts');
    console.log(JSON.stringify(await freePorts(30)));
    process.stdin.once('data', () => process.exit(0));
  `], { cwd: projectRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const theirs = JSON.parse(line) as number[];
  t.is(theirs.length, 30);
  for (const port of theirs) t.false(reservePort(port), `port ${port} of the live child`);
  const mine = await freePorts(30);
  t.deepEqual(mine.filter((p) => theirs.includes(p)), []);
  const exited = once(child, 'exit');
  child.stdin!.write('\n');
  await exited;
  // The child is gone: its reservations are free again (taken over here).
  for (const port of theirs) t.true(reservePort(port), `port ${port} after the child exited`);
  t.true(Number.isInteger(await freePort()));
});
