/**
 * The public API of the JournalNode: run one in-process (`startJournalNode`), parse its
 * configuration, and the pieces a tool may reuse (state machine, segment files, protocol).
 */
export { startJournalNode, DataDirLockedError, shutdownGraceMs, type JournalNodeHandle, type StartOptions } from './server.ts';
export { main } from './main.ts';
export {
  ConfigError,
  parseArgs,
  validateConfig,
  parseInitialCluster,
  parseHostPort,
  formatHostPort,
  readConfigFile,
  type JournalNodeConfig,
  type ParsedArgs,
} from './config.ts';
export { JournalStateMachine, type AppliedEvent, type JournalStateInfo, type EditLogManifest, type JournaledEdits } from './journal-state-machine.ts';
export { JournalNodeMetrics } from './metrics.ts';
export { createQJournalHandlers, qjournalServiceDefinition, wireErrorOf, ProposalTimeoutError, type QJournalServiceOptions } from './qjournal-service.ts';
export { createHttpApp, statusDocument, type HttpContext } from './http.ts';
export { TailServer, tailReadChunkBytes, type TailOptions, type TailSubscriberInfo } from './tail.ts';
export { catJournalDir, listSegments, readSegmentFile, journalCurrentDir, type SegmentFile } from './segments.ts';
