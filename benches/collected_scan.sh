#!/usr/bin/env bash
# Collected-metadata benchmark (issue 13, item 3).
#
# From the 200,000-file NTFS image of benches/image_scan.sh (built by it when missing),
# makes a KAPE-style folder: C/$MFT extracted with icat, and C/$Extend/$J: a sparse
# 1 GiB of zeros (as a KAPE copy of a journal starts) followed by the journal of
# fixtures/images/uninstalled. Times, best of N runs with a warm cache:
#   netsession-scan -q IMAGE          (the volume: $MFT read through the image)
#   netsession-scan -q C/$MFT         (the collected $MFT alone)
#   netsession-scan -q KAPE           (the folder: $MFT, and the 1 GiB $J streamed)
# and the folder scan's peak memory (goal: under 300 MB, whatever the $J's size).
#
#   benches/collected_scan.sh [WORK_DIR] [RUNS]
#
# Needs icat (sleuthkit), gzip, /usr/bin/time; mkntfs and ntfs-3g when the image must be built.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/common.sh
. "$here/benches/common.sh"
work=${1:-${TMPDIR:-/tmp}/netsession-bench-image}
runs=${2:-3}
img="$work/volume.ntfs"
[ -f "$work/.complete" ] || "$here/benches/image_scan.sh" "$work" 1

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/netsession-scan"
kape=$(mktemp -d)
trap 'rm -rf "$kape"' EXIT
mkdir -p "$kape/C/\$Extend"
icat "$img" 0 > "$kape/C/\$MFT"
j="$kape/C/\$Extend/\$J"
truncate -s 1G "$j"
tmpvol="$kape/uninstalled.ntfs"
gzip -dc "$here/fixtures/images/uninstalled/uninstalled.ntfs.gz" > "$tmpvol"
icat "$tmpvol" 64-128-4 >> "$j"
rm "$tmpvol"
ls -l "$kape/C/\$MFT" "$j"

"$bin" -q "$img" > /dev/null
t_image=$(best "$bin" -q "$img")
t_mft=$(best "$bin" -q "$kape/C/\$MFT")
t_kape=$(best "$bin" -q "$kape")
rows_image=$("$bin" -q "$img" | tail -n +2 | wc -l)
rows_kape=$("$bin" -q "$kape" | tail -n +2 | wc -l)
peak_kb=$(/usr/bin/time -v "$bin" -q "$kape" 2>&1 >/dev/null | awk -F: '/Maximum resident/ { gsub(/ /, "", $2); print $2 }')
echo "image:              ${t_image} s  ($rows_image rows)"
echo "collected \$MFT:     ${t_mft} s"
echo "KAPE folder (+1 GiB \$J): ${t_kape} s  ($rows_kape rows)"
echo "peak memory:        $((peak_kb / 1024)) MB (goal < 300)"
[ "$peak_kb" -lt 307200 ] || { echo "MORE MEMORY THAN THE GOAL" >&2; exit 1; }
