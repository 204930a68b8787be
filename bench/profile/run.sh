#!/bin/sh
# Instructions per op of one profile row under callgrind: the row's script
# with and without its workload (PROFILE_BASELINE=1), difference / PROFILE_OPS.
#   bench/profile/run.sh write            # native (IGNITER_LEDGER_PURE=1 for pure)
# Leaves the full profile in tmp/profile/<row>.callgrind for callgrind_annotate.
set -e
row=$1
ops=${PROFILE_OPS:-20000}
dir=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir/tmp/profile"
count() {
  valgrind --tool=callgrind --callgrind-out-file="$1" ruby "$dir/bench/profile/$row.rb" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
full=$(PROFILE_OPS=$ops count "$dir/tmp/profile/$row.callgrind")
base=$(PROFILE_OPS=$ops PROFILE_BASELINE=1 count "$dir/tmp/profile/$row.base.callgrind")
echo "$row: $(( (full - base) / ops )) instructions/op ($full - $base over $ops ops)"
