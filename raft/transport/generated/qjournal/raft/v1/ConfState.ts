// Original file: raft/transport/raft.proto


export interface ConfState {
  'voters'?: (string)[];
  'votersOutgoing'?: (string)[];
  'learners'?: (string)[];
  'learnersNext'?: (string)[];
  'autoLeave'?: (boolean);
}

export interface ConfState__Output {
  'voters': (string)[];
  'votersOutgoing': (string)[];
  'learners': (string)[];
  'learnersNext': (string)[];
  'autoLeave': (boolean);
}
