#!/bin/sh
# Instructions per op of one profile row under callgrind: the row's script
# with and without its workload (PROFILE_BASELINE=1), difference / PROFILE_OPS.
#   bench/profile/run.sh write            # native (IGNITER_LEDGER_PURE=1 for pure)
# Leaves the full profile in tmp/profile/<row>.callgrind for callgrind_annotate
# (<row>.nogc.callgrind with PROFILE_NO_GC=1, see common.rb).
set -e
row=$1
ops=${PROFILE_OPS:-20000}
dir=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir/tmp/profile"
out="$dir/tmp/profile/$row${PROFILE_NO_GC:+.nogc}"
count() {
  valgrind --tool=callgrind --callgrind-out-file="$1" ruby "$dir/bench/profile/$row.rb" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
full=$(PROFILE_OPS=$ops count "$out.callgrind")
base=$(PROFILE_OPS=$ops PROFILE_BASELINE=1 count "$out.base.callgrind")
echo "$row${PROFILE_NO_GC:+ (no GC)}: $(( (full - base) / ops )) instructions/op ($full - $base over $ops ops)"
