// Original file: journalnode/protocol/journal.proto

import type { Lease as _qjournal_v1_Lease, Lease__Output as _qjournal_v1_Lease__Output } from '../../qjournal/v1/Lease.ts';

export interface LeaseResult {
  'lease'?: (_qjournal_v1_Lease | null);
  /**
   * ReleaseLease: true when this call freed the lease (false: it was not held by candidate/token).
   */
  'released'?: (boolean);
}

export interface LeaseResult__Output {
  'lease': (_qjournal_v1_Lease__Output | null);
  /**
   * ReleaseLease: true when this call freed the lease (false: it was not held by candidate/token).
   */
  'released': (boolean);
}
