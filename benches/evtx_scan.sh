#!/usr/bin/env bash
# Issue #14's speed goal: scanning a winevt\Logs folder takes at most half the time
# `evtx_dump` (the evtx crate's own tool) takes to dump the same files, side by side.
#
#   benches/evtx_scan.sh SAMPLES_DIR [COPIES]
#
# SAMPLES_DIR holds real .evtx files (for example the evtx crate's own samples:
# `git -C <mirror of omerbenamram/evtx> archive HEAD samples | tar -x`). The folder
# C/Windows/System32/winevt/Logs is built from COPIES copies of each (default 14: about
# 300 MB from the crate's 21 MB of samples), so the scanner meets it as on a system.
# evtx_dump comes from `cargo install evtx --root DIR`; set EVTX_DUMP to its path.
set -euo pipefail
samples=${1:?usage: benches/evtx_scan.sh SAMPLES_DIR [COPIES]}
copies=${2:-14}
runs=${runs:-3}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
dump=${EVTX_DUMP:-$(command -v evtx_dump || true)}
[ -x "$dump" ] || { echo "evtx_dump not found: set EVTX_DUMP" >&2; exit 1; }
cargo build --release --quiet --manifest-path "$here/../Cargo.toml"
scan="$here/../target/release/netsession-scan"

work=${TMPDIR:-/tmp}/nsbench-evtx
logs="$work/C/Windows/System32/winevt/Logs"
rm -rf "$work"
mkdir -p "$logs"
for i in $(seq "$copies"); do
  for f in "$samples"/*.evtx; do
    [ -s "$f" ] && cp "$f" "$logs/copy$i-$(basename "$f")"
  done
done
files=$(ls "$logs" | wc -l)
size=$(du -sm "$logs" | cut -f1)
dump_all() {
  for f in "$logs"/*.evtx; do "$dump" -t 2 -o jsonl "$f"; done
}
echo "$files logs, $size MB, $(nproc) cores, best of $runs runs"
t_dump=$(best dump_all)
t_scan=$(best "$scan" -q -o /dev/null "$work")
echo "evtx_dump -o jsonl (each log): $t_dump s"
echo "netsession-scan (the folder):  $t_scan s"
awk -v a="$t_scan" -v b="$t_dump" 'BEGIN { printf "ratio scan/dump: %.2f (goal <= 0.50)\n", a / b }'
"$scan" -o /dev/null "$work" 2>&1 | grep -E "event log|input" || true
