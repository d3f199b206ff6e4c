#!/usr/bin/env bash
# Prefetch benchmark (issue #15): a folder of Prefetch files scanned by netsession-scan
# (release build: every *.pf read, MAM files decompressed, parsed, matched against the
# catalog's terms) side by side with `sccainfo` run on each file of the same folder,
# best of N runs. No goal is set by the issue; the numbers go in the note.
#
#   benches/prefetch_scan.sh [FOLDER] [RUNS]
#
# Default folder: the committed samples (fixtures/prefetch/real and netsession), a few
# files only; a real corpus (e.g. the DFIRArtifactMuseum's Prefetch folders, unpacked)
# gives meaningful numbers. Needs sccainfo (apt-get install libscca-utils).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/common.sh
. "$here/benches/common.sh"
runs=${2:-3}
folder=${1:-$here/fixtures/prefetch}
command -v sccainfo > /dev/null || { echo "sccainfo missing (apt-get install libscca-utils)" >&2; exit 1; }

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
ours="$here/target/release/netsession-scan"
files=$(find "$folder" -name '*.pf' | wc -l)
bytes=$(find "$folder" -name '*.pf' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
echo "$files Prefetch files, $bytes bytes, in $folder"

run_ours() { "$ours" -q -o /dev/null "$folder"; }
run_sccainfo() { find "$folder" -name '*.pf' -print0 | xargs -0 -n1 sccainfo > /dev/null 2>&1; }

t_ours=$(best run_ours)
t_scca=$(best run_sccainfo)
echo "ours (netsession-scan on the folder): $t_ours s"
echo "sccainfo, once per file:              $t_scca s"
awk -v a="$t_ours" -v b="$t_scca" 'BEGIN { printf "ratio ours / sccainfo: %.2f\n", a / b }'
