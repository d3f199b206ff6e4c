#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), one after the other, on the
# corpora seeded by make_seeds.sh. Crashes land in fuzz/artifacts/<target>/; a summary
# line per target goes to fuzz/run_all.log.
#
#   RUSTC_BOOTSTRAP=1 is needed on a stable toolchain: cargo-fuzz passes -Z flags
#   (sanitizer, coverage) that only nightly accepts otherwise.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SECONDS_EACH=${1:-600}
cd "$HERE"
export RUSTC_BOOTSTRAP=1
declare -A MAX_LEN=([hive]=400000 [mft_record]=8192 [ntfs_volume]=1200000 [partitions]=65536 [e01]=1100000 [text]=65536 [collected_mft]=300000 [event_log]=200000 [ese]=800000 [prefetch]=200000 [deleted_cells]=400000 [vss]=1100000 [index_block]=8192)
for target in ${TARGETS:-hive mft_record ntfs_volume partitions e01 text collected_mft event_log ese prefetch deleted_cells vss index_block}; do
    start=$(date +%s)
    cargo fuzz run -O "$target" "corpus/$target" -- \
        -max_total_time="$SECONDS_EACH" -max_len="${MAX_LEN[$target]}" \
        -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        >"run-$target.log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "run-$target.log" | grep -o '[0-9]*$')
    echo "$target: exit $rc after $(( $(date +%s) - start )) s, ${execs:-?} runs, $(ls "artifacts/$target" 2>/dev/null | wc -l) artifact(s)" \
        | tee -a run_all.log
done
