// Original file: journalnode/protocol/journal.proto


export interface GetJournalStateRequest {
  'journalId'?: (string);
  /**
   * Answer only once this node has applied everything committed when the request arrived
   * (a Raft read index, confirmed by the leader): the answer then reflects every write
   * acknowledged before the request. Costs a round trip to the leader.
   */
  'linearizable'?: (boolean);
}

export interface GetJournalStateRequest__Output {
  'journalId': (string);
  /**
   * Answer only once this node has applied everything committed when the request arrived
   * (a Raft read index, confirmed by the leader): the answer then reflects every write
   * acknowledged before the request. Costs a round trip to the leader.
   */
  'linearizable': (boolean);
}
