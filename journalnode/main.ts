/**
 * `journalnode` main: parse the arguments, start the node, print the ready line, stop cleanly on
 * SIGTERM/SIGINT. Exit codes: 0 after a clean stop, 1 on a fatal error, 2 for a bad
 * configuration (the message names the field).
 *
 * Ready line (stdout, once listening; tests and launchers parse it):
 * `journalnode: id=<id> rpc=<host:port> http=<host:port>`.
 */
import { ConfigError, parseArgs } from './config.ts';
import { pageCacheDropUnavailable } from '../raft/storage/page-cache.ts';
import { JOURNALNODE_MALLOC_TUNABLES, mallocTuned, onGlibc, tuneGarbageCollector } from './gc-tuning.ts';
import { startJournalNode, type JournalNodeHandle } from './server.ts';
import { testHooksFromEnv, TestHookError, type TestHooks } from './test-hooks.ts';

/** After a stop, the process exits within this time even if a handle is left open, ms. */
export const exitFallbackMs = 3_000;

/** How often `--exit-with-parent` checks the parent pid, ms. */
export const parentCheckIntervalMs = 1_000;

/** Stop the node once the process that launched it is gone (this process was reparented). */
function watchParent(handle: JournalNodeHandle): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    handle.log.warn({ parent }, 'the launching process is gone: stopping');
    void handle.stop();
  }, parentCheckIntervalMs);
  timer.unref();
}

/** Run the command; resolves with the exit code once the node stopped (or failed to start). */
export async function main(argv: readonly string[]): Promise<number> {
  tuneGarbageCollector();
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`journalnode: invalid configuration: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  const config = parsed.config;
  // TEST ONLY hooks from the environment (chaos runs); see test-hooks.ts.
  let testHooks: TestHooks;
  try {
    testHooks = testHooksFromEnv(process.env);
  } catch (error) {
    if (error instanceof TestHookError) {
      process.stderr.write(`journalnode: invalid configuration: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  let fatal: Error | undefined;
  let handle: JournalNodeHandle | undefined;
  let signalled: NodeJS.Signals | undefined;
  // Installed before the start, so a signal during the start also ends in a clean stop.
  const onSignal = (signal: NodeJS.Signals): void => {
    signalled ??= signal;
    if (handle === undefined) return;
    handle.log.info({ signal }, 'signal received: stopping');
    void handle.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    try {
      handle = await startJournalNode(config, {
        onFatal: (error) => {
          fatal = error;
        },
        testHooks,
      });
    } catch (error) {
      process.stderr.write(`journalnode: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
    process.stdout.write(`journalnode: id=${config.id} rpc=${handle.rpcAddress} http=${handle.httpAddress}\n`);
    if (!mallocTuned() && onGlibc()) {
      handle.log.warn({ want: `GLIBC_TUNABLES=${JOURNALNODE_MALLOC_TUNABLES}` }, 'started without the malloc settings of ./bin/journalnode: more page faults under load (journalnode/gc-tuning.ts)');
    }
    if (pageCacheDropUnavailable !== undefined) {
      handle.log.warn({ reason: pageCacheDropUnavailable }, 'synced file pages stay cached: writes cost more kernel CPU (raft/storage/page-cache.ts)');
    }
    if (signalled !== undefined) onSignal(signalled);
    if (config.exitWithParent) watchParent(handle);
    const error = await handle.stopped;
    const code = error !== undefined || fatal !== undefined ? 1 : 0;
    // Everything is closed; should a stray handle keep the event loop alive, exit anyway.
    setTimeout(() => process.exit(code), exitFallbackMs).unref();
    return code;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
