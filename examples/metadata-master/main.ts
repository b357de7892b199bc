/**
 * `metadata-master` main:
 * `node --import tsx examples/metadata-master/main.ts --id m1 --http 127.0.0.1:0 --journal-nodes HOST:PORT,...`
 * (see config.ts for every flag). Logs (pino JSON) go to stderr.
 *
 * Ready line (stdout, once the API listens and the master campaigns; launchers parse it):
 * `metadata-master: id=<id> http=<advertised host:port>`.
 * SIGINT/SIGTERM: hand over cleanly and exit 0 (a second signal exits at once with 130).
 * Exit codes: 0 clean stop, 1 failure, 2 bad configuration.
 */
import { pino } from 'pino';
import { MasterConfigError, parseMasterArgs } from './config.ts';
import { startMetadataMaster } from './server.ts';
import type { MetadataMasterHandle } from './server.ts';

/** A stop that takes longer than this exits anyway, ms. */
export const stopTimeoutMs = 15_000;

/** How often `--exit-with-parent` checks the parent pid, ms. */
export const parentCheckIntervalMs = 1_000;

/** Run the command; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseMasterArgs(argv);
  } catch (error) {
    if (error instanceof MasterConfigError) {
      process.stderr.write(`metadata-master: invalid configuration: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  const config = parsed.config;
  const log = pino({ level: config.logLevel, base: { master: config.id } }, pino.destination(2));

  let handle: MetadataMasterHandle | undefined;
  let signalled = false;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const stop = (code: number): void => {
    const timer = setTimeout(() => {
      log.error({ stopTimeoutMs }, 'stop took too long: exiting');
      finish(1);
    }, stopTimeoutMs);
    timer.unref();
    void (handle?.stop() ?? Promise.resolve())
      .catch((error: unknown) => log.error({ error: String(error) }, 'stop failed'))
      .then(() => finish(code));
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      process.exit(130);
    }
    signalled = true;
    log.info({ signal }, 'signal received: stopping');
    // Still starting (waiting for the journal): nothing to hand over.
    if (handle === undefined) process.exit(0);
    stop(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    handle = await startMetadataMaster(config, log);
  } catch (error) {
    process.stderr.write(`metadata-master: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  process.stdout.write(`metadata-master: id=${config.id} http=${handle.httpAddress}\n`);
  handle.master.onFailure(() => stop(1));
  if (config.exitWithParent) {
    const parent = process.ppid;
    const timer = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(timer);
      log.warn({ parent }, 'the launching process is gone: stopping');
      stop(0);
    }, parentCheckIntervalMs);
    timer.unref();
  }
  const code = await finished;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
}

process.exitCode = await main(process.argv.slice(2));
// Everything is closed; should a stray handle keep the event loop alive, exit anyway.
setTimeout(() => process.exit(), 2_000).unref();
