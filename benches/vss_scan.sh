#!/usr/bin/env bash
# Shadow-copy benchmark (issue #17): what a snapshot costs a scan.
#
# Builds (once; kept in WORK_DIR) the benchmark volume of common.sh (FILES small files and
# the demo fixture's NetSession install) in a volume 64 MiB larger than its NTFS file
# system, copies it, deletes the install folder in the copy and writes a few hundred
# files there, and plants one snapshot of the volume before that into the copy with
# fixtures/vss/planted/planted.py. Then times, best of N runs with a warm cache:
#   netsession-scan -q --no-vss VOLUME     (the live volume only)
#   netsession-scan -q VOLUME              (the live volume and its snapshot)
# and prints both, the snapshot's own cost as a multiple of the live scan (goal: at most
# 1.5), and the rows of each.
#
#   benches/vss_scan.sh [WORK_DIR] [RUNS] [FILES]
#
# Needs root (FUSE), mkntfs, ntfs-3g, python3.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/common.sh
. "$here/benches/common.sh"
work=${1:-${TMPDIR:-/tmp}/netsession-bench-vss}
runs=${2:-3}
files=${3:-200000}

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/netsession-scan"
img="$work/with-snapshot.ntfs"

if [ ! -f "$work/.planted" ]; then
    build_bench_image "$work/base" "$files"
    cp --sparse=always "$work/base/volume.ntfs" "$work/a.ntfs"
    # Room after the file system for the store.
    truncate -s +64M "$work/a.ntfs"
    cp --sparse=always "$work/a.ntfs" "$work/b.ntfs"
    mkdir -p "$work/mnt"
    ntfs-3g "$work/b.ntfs" "$work/mnt"
    trap 'umount "$work/mnt" 2>/dev/null || true' EXIT
    rm -rf "$work/mnt/Users/"*/AppData/Local/Akamai
    mkdir -p "$work/mnt/Users/Public/after"
    for i in $(seq 300); do printf 'after %d\r\n' "$i" >"$work/mnt/Users/Public/after/f$i.txt"; done
    umount "$work/mnt"
    trap - EXIT
    python3 "$here/fixtures/vss/planted/planted.py" "$work/a.ntfs" "$work/b.ntfs" "$img"
    rm -f "$work/a.ntfs" "$work/b.ntfs"
    touch "$work/.planted"
fi
ls -l "$img"

"$bin" -q "$img" > /dev/null
t_live=$(best "$bin" -q --no-vss "$img")
t_both=$(best "$bin" -q "$img")
rows_live=$("$bin" -q --no-vss "$img" | tail -n +2 | wc -l)
rows_both=$("$bin" -q "$img" | tail -n +2 | wc -l)
ratio=$(awk -v a="$t_live" -v b="$t_both" 'BEGIN { printf "%.2f", (b - a) / a }')
echo "live volume only (--no-vss): ${t_live} s, ${rows_live} rows"
echo "live volume and 1 snapshot:  ${t_both} s, ${rows_both} rows"
echo "the snapshot costs ${ratio}x the live scan (goal: at most 1.5)"
