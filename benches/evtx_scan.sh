#!/usr/bin/env bash
# Issue #14's speed goal: scanning a winevt\Logs folder takes at most half the time
# `evtx_dump` (the evtx crate's own tool) takes to dump the same files, side by side.
#
#   benches/evtx_scan.sh [SAMPLES_DIR] [COPIES]
#
# SAMPLES_DIR holds real .evtx files (.evtx.gz are unpacked); default: the repository's
# fixtures/evtx/real (14 public logs, 12 MB: two firewall logs, which are parsed whole,
# System, Application, Security, damaged ones). Another set: the evtx crate's samples
# (`git -C <mirror of omerbenamram/evtx> archive HEAD samples | tar -x`). The folder
# C/Windows/System32/winevt/Logs is built from COPIES copies of each (default 25), so the
# scanner meets it as on a system.
# evtx_dump comes from `cargo install evtx --root DIR`; set EVTX_DUMP to its path.
set -euo pipefail
here0=$(cd "$(dirname "$0")" && pwd)
samples=${1:-$here0/../fixtures/evtx/real}
copies=${2:-25}
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
mkdir -p "$work/src"
for f in "$samples"/*.evtx "$samples"/*.evtx.gz; do
  [ -s "$f" ] || continue
  case "$f" in
    *.gz) gzip -dc "$f" > "$work/src/$(basename "$f" .gz)" ;;
    *) cp "$f" "$work/src/" ;;
  esac
done
for i in $(seq "$copies"); do
  for f in "$work/src"/*.evtx; do
    cp "$f" "$logs/copy$i-$(basename "$f")"
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
