// Original file: journalnode/protocol/journal.proto


/**
 * The identity of the namespace a journal belongs to. Two namespaces match when ns_id and
 * cluster_id are equal; the other fields are kept for the operator.
 */
export interface NamespaceInfo {
  'nsId'?: (string);
  'clusterId'?: (string);
  'blockPoolId'?: (string);
  'layoutVersion'?: (number);
}

/**
 * The identity of the namespace a journal belongs to. Two namespaces match when ns_id and
 * cluster_id are equal; the other fields are kept for the operator.
 */
export interface NamespaceInfo__Output {
  'nsId': (string);
  'clusterId': (string);
  'blockPoolId': (string);
  'layoutVersion': (number);
}
