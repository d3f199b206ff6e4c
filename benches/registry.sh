#!/usr/bin/env bash
# Registry benchmark (issue: registry hives).
#
# Times, best of N runs, the analysis of the corpus SYSTEM hives by netsession-scan
# side by side with `hivexregedit --export` (hivex walking and printing every key) on
# the same files, and prints the ratio. Goal: ours at least 10x faster.
#
#   benches/registry.sh [CORPUS_DIR] [RUNS]
#
# CORPUS_DIR defaults to ../shared/corpus (or $NETSESSION_CORPUS). Needs xz and
# hivexregedit (apt-get install xz-utils libhivex-bin).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/common.sh
. "$here/benches/common.sh"
corpus=${1:-${NETSESSION_CORPUS:-$here/../shared/corpus}}
runs=${2:-5}
command -v hivexregedit > /dev/null || { echo "hivexregedit missing (apt-get install libhivex-bin)" >&2; exit 1; }

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/netsession-scan"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hives=()
for f in SYSTEM SYSTEM_WIN_10_1709; do
  if [ -f "$corpus/hives/regipy/$f.xz" ]; then
    xz -dc "$corpus/hives/regipy/$f.xz" > "$work/$f"
    hives+=("$work/$f")
  fi
done
[ ${#hives[@]} -gt 0 ] || { echo "no SYSTEM hives under $corpus/hives/regipy" >&2; exit 1; }
ls -l "${hives[@]}"


export_all() { for h in "${hives[@]}"; do hivexregedit --export "$h" '\' > /dev/null; done; }
scan_all() { for h in "${hives[@]}"; do "$bin" -q "$h" > /dev/null; done; }

t_hivex=$(best export_all)
t_scan=$(best scan_all)
ratio=$(awk -v a="$t_hivex" -v b="$t_scan" 'BEGIN { printf "%.1f", a / b }')
echo "hivexregedit --export: ${t_hivex} s"
echo "netsession-scan:       ${t_scan} s"
echo "speed-up:              ${ratio}x (goal >= 10)"
awk -v r="$ratio" 'BEGIN { exit !(r >= 10) }' || { echo "SLOWER THAN THE GOAL" >&2; exit 1; }
