/**
 * `npm run chaos -- --duration SECONDS --seed N [--nodes 3|5] [--faults LIST] [--canary NAME]
 * [--dir DIR] [--keep]`: one chaos run (runner.ts). Prints its progress, the checker's findings,
 * and as its last line
 * `chaos: seed=N ops=O acked=A lost=L duplicated=D fenced_accepted=F diverged=V faults=K`.
 *
 * Exit code: 0 for a clean run; 1 when the checker found a violation (lost, duplicated, fenced
 * accepted or diverged edits, and also gaps, phantoms, epochs out of order, foreign records) or
 * a process crashed; 2 for bad arguments or a cluster that could not be set up. The run's
 * directory (logs, histories, data) is kept when the run is not clean, or with `--keep`.
 */
import { CommanderError } from 'commander';
import { parseChaosArgs, type ChaosArgs } from './args.ts';
import { removeRunDir, runChaos } from './runner.ts';

async function main(): Promise<number> {
  // The runner talks to the JournalNodes directly; only its children go through the proxies.
  for (const name of ['grpc_proxy', 'https_proxy', 'http_proxy', 'GRPC_PROXY', 'HTTPS_PROXY', 'HTTP_PROXY']) delete process.env[name];
  let args: ChaosArgs;
  try {
    args = parseChaosArgs(process.argv.slice(2), () => Math.floor(Math.random() * 1_000_000_000));
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0;
      process.stderr.write(`chaos: ${error.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    process.stderr.write(`chaos: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  try {
    const result = await runChaos({
      seed: args.seed,
      durationMs: args.durationMs,
      nodes: args.nodes,
      faults: args.faults,
      baseDir: args.dir,
      canary: args.canary,
      writesPerSecond: args.writesPerSecond,
      convergenceTimeoutMs: args.convergenceTimeoutMs,
    });
    if (result.clean && !args.keep && args.dir === undefined) await removeRunDir(result.baseDir);
    else process.stdout.write(`chaos: logs, histories and data kept in ${result.baseDir}\n`);
    process.stdout.write(`${result.summaryLine}\n`);
    return result.clean ? 0 : 1;
  } catch (error) {
    process.stderr.write(`chaos: the run could not be set up: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.stdout.write(`chaos: seed=${args.seed} setup failed\n`);
    return 2;
  }
}

process.exitCode = await main();
