// Original file: journalnode/protocol/journal.proto

import type { NamespaceInfo as _qjournal_v1_NamespaceInfo, NamespaceInfo__Output as _qjournal_v1_NamespaceInfo__Output } from '../../qjournal/v1/NamespaceInfo.ts';

export interface FormatRequest {
  'journalId'?: (string);
  'namespace'?: (_qjournal_v1_NamespaceInfo | null);
  /**
   * Wipe an existing journal (segments and txids; the promised epoch never decreases).
   */
  'force'?: (boolean);
}

export interface FormatRequest__Output {
  'journalId': (string);
  'namespace': (_qjournal_v1_NamespaceInfo__Output | null);
  /**
   * Wipe an existing journal (segments and txids; the promised epoch never decreases).
   */
  'force': (boolean);
}
