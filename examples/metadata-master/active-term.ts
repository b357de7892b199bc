/**
 * One term of the master as the active: the write path from a client's request to its answer.
 *
 * ```
 * submit() --> queued (<= queuedEditsMax) --> written: txids assigned, JournalWriter.write()
 *          (<= inflightEditsMax unacknowledged) --> committed --> applied in txid order --> answered
 * ```
 * Requests that arrive in the same turn of the event loop go to the journal as one write (up to
 * batchEditsMax edits and batchBytesMax bytes), and the writer pipelines several writes. An edit
 * is applied to the namespace only once its write resolved (committed), and answered with the
 * outcome of that apply. Every `segmentEditsMax` edits the segment is rolled: the queue waits,
 * the open segment is finalized (after every write committed) and the next one started.
 *
 * When the term ends (leadership lost, writer fenced or failed), edits written but not
 * acknowledged are answered {@link NotAcknowledgedError} (they may or may not be committed: the
 * next active decides, from the journal), queued ones {@link NotActiveError}.
 */
import type { JournalWriter } from '../../libqjm/index.ts';
import type { EditOutcome, NamespaceEdit } from './namespace.ts';

/** This master is not the active one (or stopped being it before the edit was written). */
export class NotActiveError extends Error {
  override readonly name = 'NotActiveError';
}

/** The edit was written but its commit was never confirmed: it may or may not be in the journal. */
export class NotAcknowledgedError extends Error {
  override readonly name = 'NotAcknowledgedError';
}

/** The queue of edits waiting to be written is full: the client should retry later. */
export class OverloadedError extends Error {
  override readonly name = 'OverloadedError';
}

/** What a committed edit was answered with. */
export interface Committed {
  readonly txid: number;
  readonly outcome: EditOutcome;
}

/** Limits and duties of an {@link ActiveTerm}. */
export interface ActiveTermOptions {
  /** The writer of this term, from HAController.onActive. */
  readonly writer: JournalWriter;
  /** Edits per segment before it is rolled (finalize + start). */
  readonly segmentEditsMax: number;
  /** Most edits in one write. */
  readonly batchEditsMax: number;
  /** Most record bytes in one write (keeps each write inside one journal batch). */
  readonly batchBytesMax: number;
  /** Most edits written and not yet acknowledged. */
  readonly inflightEditsMax: number;
  /** Most edits queued (not yet written); more are refused with OverloadedError. */
  readonly queuedEditsMax: number;
  /** Apply a committed edit of this term to the namespace; called in txid order. */
  apply(txid: number, edit: NamespaceEdit): EditOutcome;
  /** A segment roll failed: the term cannot write any more (the caller steps down). */
  onFailure(error: Error): void;
}

interface Request {
  readonly edit: NamespaceEdit;
  readonly record: Uint8Array;
  resolve(committed: Committed): void;
  reject(error: Error): void;
}

/** The write path of one active term. */
export class ActiveTerm {
  private readonly options: ActiveTermOptions;
  private readonly writer: JournalWriter;
  private readonly queue: Request[] = [];
  /** Settles once every write so far is applied or rejected; never rejects. */
  private settled: Promise<void> = Promise.resolve();
  private inflightEdits = 0;
  private segmentFirst: number | undefined;
  private segmentEdits = 0;
  private segmentsRolledCount = 0;
  private rolling = false;
  /** The roll in progress, if any (never rejects). */
  private rollDone: Promise<void> = Promise.resolve();
  private pumpScheduled = false;
  private endReason: Error | undefined;

  constructor(options: ActiveTermOptions) {
    if (!(options.segmentEditsMax >= 1 && options.batchEditsMax >= 1 && options.inflightEditsMax >= 1 && options.queuedEditsMax >= 1)) {
      throw new RangeError('ActiveTerm: every limit must be >= 1');
    }
    this.options = options;
    this.writer = options.writer;
  }

  /** First txid of the open segment (undefined before open or while rolling). */
  get segmentFirstTxId(): number | undefined {
    return this.segmentFirst;
  }

  /** Segments finalized by this term. */
  get segmentsRolled(): number {
    return this.segmentsRolledCount;
  }

  /** Edits queued, not yet written. */
  get queuedEdits(): number {
    return this.queue.length;
  }

  /** True once ended. */
  get ended(): boolean {
    return this.endReason !== undefined;
  }

  /** Start the first segment of the term, at the writer's next txid. */
  async open(): Promise<void> {
    const first = this.writer.nextTxId;
    await this.writer.startLogSegment(first);
    this.segmentFirst = first;
    this.segmentEdits = 0;
    this.schedulePump();
  }

  /** Queue `edit` (already encoded as `record`); resolves once it is committed and applied. */
  submit(edit: NamespaceEdit, record: Uint8Array): Promise<Committed> {
    if (this.endReason !== undefined) return Promise.reject(new NotActiveError('this master is no longer active', { cause: this.endReason }));
    if (this.queue.length >= this.options.queuedEditsMax) {
      return Promise.reject(new OverloadedError(`${this.queue.length} edits are queued (queuedEditsMax); retry later`));
    }
    return new Promise<Committed>((resolve, reject) => {
      this.queue.push({ edit, record, resolve, reject });
      this.schedulePump();
    });
  }

  /**
   * Stop: refuse queued edits with NotActiveError, and resolve once every written edit was
   * applied or answered NotAcknowledged (the writer must have been aborted, or be finishing).
   */
  async end(reason: Error): Promise<void> {
    if (this.endReason === undefined) {
      this.endReason = reason;
      for (const request of this.queue.splice(0)) request.reject(new NotActiveError('this master stopped being active', { cause: reason }));
    }
    await this.settled;
  }

  /**
   * A clean hand-over: stop taking edits, wait until every written edit is committed, and
   * finalize the open segment (so the next active has nothing to recover). Throws if the
   * writer fails meanwhile.
   */
  async finish(): Promise<void> {
    await this.end(new NotActiveError('this master is stopping'));
    await this.rollDone;
    if (this.segmentFirst === undefined || this.writer.state !== 'open') return;
    await this.writer.finalizeLogSegment(this.segmentFirst, this.writer.nextTxId - 1);
    this.segmentFirst = undefined;
    this.segmentsRolledCount += 1;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Write what the limits allow; start a roll when the segment is full. */
  private pump(): void {
    while (this.endReason === undefined && !this.rolling && this.segmentFirst !== undefined && this.queue.length > 0) {
      if (this.segmentEdits >= this.options.segmentEditsMax) {
        this.rollDone = this.roll();
        return;
      }
      const room = Math.min(this.options.inflightEditsMax - this.inflightEdits, this.options.segmentEditsMax - this.segmentEdits, this.options.batchEditsMax);
      if (room <= 0) return;
      const batch: Request[] = [];
      let bytes = 0;
      while (batch.length < room && this.queue.length > 0) {
        const next = this.queue[0]!;
        if (batch.length > 0 && bytes + next.record.byteLength > this.options.batchBytesMax) break;
        batch.push(this.queue.shift()!);
        bytes += next.record.byteLength;
      }
      this.write(batch);
    }
  }

  private write(batch: readonly Request[]): void {
    const firstTxId = this.writer.nextTxId;
    const written = this.writer.write(firstTxId, batch.map((request) => request.record));
    this.inflightEdits += batch.length;
    this.segmentEdits += batch.length;
    // Apply in txid order: each write's outcome is handled after the previous one's.
    this.settled = this.settled
      .then(() => written)
      .then(
        () => {
          batch.forEach((request, i) => {
            const txid = firstTxId + i;
            request.resolve({ txid, outcome: this.options.apply(txid, request.edit) });
          });
        },
        (error: unknown) => {
          const cause = error instanceof Error ? error : new Error(String(error));
          for (const request of batch) request.reject(new NotAcknowledgedError(`edit not acknowledged (it may or may not be committed): ${cause.message}`, { cause }));
        },
      )
      .finally(() => {
        this.inflightEdits -= batch.length;
        this.schedulePump();
      });
  }

  /** Finalize the full segment and start the next one; the queue waits meanwhile. */
  private async roll(): Promise<void> {
    this.rolling = true;
    try {
      const first = this.segmentFirst!;
      await this.settled;
      if (this.endReason !== undefined) return;
      const last = this.writer.nextTxId - 1;
      await this.writer.finalizeLogSegment(first, last);
      this.segmentFirst = undefined;
      this.segmentsRolledCount += 1;
      if (this.endReason !== undefined) return;
      const next = this.writer.nextTxId;
      await this.writer.startLogSegment(next);
      this.segmentFirst = next;
      this.segmentEdits = 0;
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      void this.end(failure);
      this.options.onFailure(failure);
    } finally {
      this.rolling = false;
      this.schedulePump();
    }
  }
}
