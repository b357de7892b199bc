#!/usr/bin/env bash
# Regenerate the TypeScript types of every .proto of the project (run as `npm run proto`).
# The generated files are committed: nothing is generated at install time.
set -euo pipefail
cd "$(dirname "$0")/.."
gen() { # gen <proto> <outDir>
  rm -rf "$2"
  npx proto-loader-gen-types --longs=Number --enums=String --defaults --oneofs --includeComments \
    --importFileExtension=.ts --grpcLib=@grpc/grpc-js --outDir="$2" "$1"
}
gen raft/transport/raft.proto raft/transport/generated
gen raft/admin/admin.proto raft/admin/generated
gen journalnode/protocol/journal.proto journalnode/protocol/generated
