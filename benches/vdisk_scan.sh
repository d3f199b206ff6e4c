#!/usr/bin/env bash
# Virtual-disk benchmark (issue 13: virtual disks as image sources).
#
# Takes the image benches/image_scan.sh uses (a bare 3 GB NTFS volume with 200,000 files
# and one NetSession install; built here the same way when it is not there yet), converts
# it with qemu-img (once; kept beside it) to a dynamic VHD, a dynamic VHDX, a monolithic
# sparse VMDK and a stream-optimized VMDK, and times, best of N runs with a warm cache,
#   netsession-scan -q IMAGE > /dev/null
# for the raw volume and each of them, side by side, with the ratio to raw (goal: VHDX,
# monolithic sparse and stream-optimized VMDK within 1.3x of raw; the VHD is shown for
# information). Each scan must give as many rows as the raw one.
#
#   benches/vdisk_scan.sh [WORK_DIR] [RUNS]
#
# Needs qemu-img; to build the image, mkntfs and ntfs-3g (FUSE). Honours CARGO_TARGET_DIR.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/common.sh
. "$here/benches/common.sh"
work=${1:-${TMPDIR:-/tmp}/netsession-bench-image}
runs=${2:-3}
files=200000

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$here/target}/release/netsession-scan"
img="$work/volume.ntfs"

build_bench_image "$work" "$files"

convert() { # convert NAME FORMAT OPTIONS
  if [ ! -f "$work/$1" ] || [ "$work/$1" -ot "$img" ]; then
    echo "converting to $1 ..." >&2
    rm -f "$work/$1"
    qemu-img convert -f raw -O "$2" -o "$3" "$img" "$work/$1"
  fi
}
convert volume.vhd vpc subformat=dynamic,force_size=on
convert volume.vhdx vhdx subformat=dynamic
convert volume.vmdk vmdk subformat=monolithicSparse
convert volume-stream.vmdk vmdk subformat=streamOptimized
ls -ls "$img" "$work"/volume.vhd "$work"/volume.vhdx "$work"/volume.vmdk "$work"/volume-stream.vmdk

rows() { "$bin" -q "$1" | tail -n +2 | wc -l; }
raw_rows=$(rows "$img")
"$bin" -q "$img" >/dev/null
t_raw=$(best "$bin" -q "$img")
printf '%-22s %8s s  %8s rows\n' "raw" "$t_raw" "$raw_rows"
status=0
for name in volume.vhd volume.vhdx volume.vmdk volume-stream.vmdk; do
  n=$(rows "$work/$name")
  [ "$n" = "$raw_rows" ] || { echo "$name: $n rows, raw $raw_rows" >&2; status=1; }
  t=$(best "$bin" -q "$work/$name")
  ratio=$(awk -v a="$t" -v b="$t_raw" 'BEGIN { printf "%.2f", a / b }')
  goal=""
  case $name in
    volume.vhdx | volume.vmdk | volume-stream.vmdk)
      goal="(goal <= 1.3)"
      awk -v r="$ratio" 'BEGIN { exit !(r <= 1.3) }' || { echo "$name: SLOWER THAN THE GOAL" >&2; status=1; }
      ;;
  esac
  printf '%-22s %8s s  %8s rows  %sx raw %s\n' "$name" "$t" "$n" "$ratio" "$goal"
done
exit $status
