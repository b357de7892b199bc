/** `qjm` entry point: parses arguments and runs one verb. Returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help') {
    console.log('usage: qjm <verb> [options]\n(verbs arrive with the Raft runtime and the JournalNode)');
    return argv.length === 0 ? 2 : 0;
  }
  console.error(`qjm: unknown verb '${argv[0]}'`);
  return 2;
}
