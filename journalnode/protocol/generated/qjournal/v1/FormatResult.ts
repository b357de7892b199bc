// Original file: journalnode/protocol/journal.proto


export interface FormatResult {
  /**
   * True when the journal already had this namespace and no data (a retried format).
   */
  'alreadyFormatted'?: (boolean);
}

export interface FormatResult__Output {
  /**
   * True when the journal already had this namespace and no data (a retried format).
   */
  'alreadyFormatted': (boolean);
}
