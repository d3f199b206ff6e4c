# Shared by the benchmark scripts: `best CMD...` prints the best wall time in seconds of
# CMD over $runs runs (output discarded, failures ignored).
best() {
  local best_ns= t0 t1 ns
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    "$@" > /dev/null 2>&1 || true
    t1=$(date +%s%N)
    ns=$((t1 - t0))
    if [ -z "$best_ns" ] || [ "$ns" -lt "$best_ns" ]; then best_ns=$ns; fi
  done
  awk -v ns="$best_ns" 'BEGIN { printf "%.3f", ns / 1e9 }'
}

# `build_bench_image WORK FILES`: the benchmark NTFS volume, WORK/volume.ntfs (3 GB,
# FILES small files in a Windows-like spread plus the demo fixture's install), built
# with mkntfs and ntfs-3g when WORK/.complete is missing. Shared by image_scan.sh,
# vdisk_scan.sh and (through image_scan.sh) collected_scan.sh.
build_bench_image() {
  local work=$1 files=$2
  local img="$work/volume.ntfs"
  if [ ! -f "$work/.complete" ]; then
    echo "building a $files-file NTFS image in $work (a few minutes) ..." >&2
    rm -rf "$work"
    mkdir -p "$work/mnt"
    truncate -s 3G "$img"
    mkntfs -F -Q -q -L Windows "$img" 2>/dev/null
    ntfs-3g "$img" "$work/mnt"
    trap 'umount "$work/mnt" 2>/dev/null || true' EXIT
    python3 - "$work/mnt" "$files" <<'PY'
import os, sys
root, total = sys.argv[1], int(sys.argv[2])
tops = ["Windows/WinSxS", "Windows/System32/DriverStore", "Program Files",
        "Program Files (x86)", "ProgramData/Package Cache"]
tops += [f"Users/user{u}/AppData/Local/Vendor{u}" for u in range(8)]
made, d = 0, 0
while made < total:
    folder = os.path.join(root, tops[d % len(tops)], f"pkg{d:05d}")
    os.makedirs(folder, exist_ok=True)
    for i in range(min(100, total - made)):
        with open(os.path.join(folder, f"file{i:03d}.dat"), "wb") as f:
            f.write(b"x" * (i % 5))
        made += 1
    d += 1
PY
    cp -r "$here/fixtures/demo-mounted/C/." "$work/mnt/"
    umount "$work/mnt"
    trap - EXIT
    touch "$work/.complete"
  fi
}
