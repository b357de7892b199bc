// Original file: raft/admin/admin.proto

export const AdminErrorCode = {
  ADMIN_ERROR_UNSPECIFIED: 'ADMIN_ERROR_UNSPECIFIED',
  NOT_LEADER: 'NOT_LEADER',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  TIMEOUT: 'TIMEOUT',
  REFUSED: 'REFUSED',
  UNKNOWN_GROUP: 'UNKNOWN_GROUP',
  INTERNAL: 'INTERNAL',
} as const;

export type AdminErrorCode =
  | 'ADMIN_ERROR_UNSPECIFIED'
  | 0
  | 'NOT_LEADER'
  | 1
  | 'INVALID_ARGUMENT'
  | 2
  | 'TIMEOUT'
  | 3
  | 'REFUSED'
  | 4
  | 'UNKNOWN_GROUP'
  | 5
  | 'INTERNAL'
  | 6

export type AdminErrorCode__Output = typeof AdminErrorCode[keyof typeof AdminErrorCode]
