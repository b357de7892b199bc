/**
 * The progress line of `npm start` (pure): what it shows, and how it is written: refreshed in
 * place on a terminal, one line per sample otherwise (a log file, a pipe, a test).
 */

/** What one progress sample shows. */
export interface ProgressSample {
  readonly editsPerSecond: number;
  readonly lastTxId: number;
  readonly active: string | undefined;
  readonly epoch: number | null;
  /** Edits the most lagging standby has not applied yet; undefined when no standby answers. */
  readonly standbyLag: number | undefined;
  readonly standbys: number;
  readonly segmentsRolled: number;
  readonly journalNodesUp: number;
  readonly journalNodes: number;
}

/** The progress line (pure). */
export function formatProgress(sample: ProgressSample): string {
  const active = sample.active === undefined ? 'active none (election)' : `active ${sample.active} (epoch ${sample.epoch ?? '-'})`;
  const lag = sample.standbys === 0 ? 'no standby' : sample.standbyLag === undefined ? 'standby lag ?' : `standby lag ${sample.standbyLag}`;
  return `progress: ${sample.editsPerSecond.toFixed(0)} edits/s | last txid ${sample.lastTxId} | ${active} | ${lag} | segments ${sample.segmentsRolled} | JNs up ${sample.journalNodesUp}/${sample.journalNodes}`;
}

/** The bytes to write for `line`: on a TTY, return to the line start and clear its rest. */
export function progressOutput(line: string, tty: boolean): string {
  return tty ? `\r${line}\x1b[K` : `${line}\n`;
}
