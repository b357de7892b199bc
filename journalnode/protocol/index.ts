/**
 * The QJournal wire contract shared by JournalNodes and clients (libqjm imports only this
 * folder): limits, typed errors, record framing, and the proto loader. No server code here.
 */
export * from './limits.ts';
export * from './errors.ts';
export * from './records.ts';
export * from './load.ts';
export * from './journal-request.ts';
export type { ProtoGrpcType } from './generated/journal.ts';
