#!/usr/bin/env bash
# Archive-scan benchmark (issue 13): a collection as a ZIP vs the same collection
# unpacked, side by side in one run.
#
# Builds a KAPE-style collection of $files small files (C/Windows/..., C/Users/...)
# holding the case image's collected files (fixtures/collections/kape: a NetSession
# install and three hives), zips it (deflate, Python's zipfile), then times, with a warm
# cache, best of N runs:
#   netsession-scan -q TREE > /dev/null
#   netsession-scan -q TREE.zip > /dev/null
#   netsession-scan -q TREE.tar.gz > /dev/null   (for information: read twice, see
#                                                 src/fs/archive/tar.rs)
# and prints the times and the ZIP/tree ratio. The goal is a ratio of at most 2.
#
#   benches/archive_scan.sh [WORK_DIR] [RUNS] [FILES]
#
# WORK_DIR is kept between runs (delete it to rebuild). Needs python3.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/common.sh
. "$here/benches/common.sh"
work=${1:-${TMPDIR:-/tmp}/netsession-bench-archive}
runs=${2:-5}
files=${3:-50000}

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/netsession-scan"
tree="$work/collection"

if [ ! -f "$work/.complete-$files" ]; then
  echo "building a $files-file collection in $tree ..." >&2
  rm -rf "$work"
  mkdir -p "$tree"
  python3 - "$tree" "$files" "$work" "$here/fixtures/collections/kape" <<'PY'
import os, shutil, sys, tarfile, zipfile
root, total, work, case = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
tops = ["C/Windows/System32/winevt/Logs", "C/Windows/Prefetch", "C/ProgramData/Microsoft",
        "C/Program Files/Vendor"]
tops += [f"C/Users/user{u}/AppData/Local/Vendor{u}" for u in range(6)]
made, d = 0, 0
while made < total:
    folder = os.path.join(root, tops[d % len(tops)], f"pkg{d:05d}")
    os.makedirs(folder, exist_ok=True)
    for i in range(min(100, total - made)):
        with open(os.path.join(folder, f"file{i:03d}.dat"), "wb") as f:
            f.write(bytes([i % 251]) * (64 + (i * 97) % 4096))
        made += 1
    d += 1
shutil.copytree(case, root, dirs_exist_ok=True)
with zipfile.ZipFile(os.path.join(work, "collection.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    for dirpath, _, names in os.walk(root):
        for n in sorted(names):
            full = os.path.join(dirpath, n)
            z.write(full, os.path.relpath(full, root))
with tarfile.open(os.path.join(work, "collection.tar.gz"), "w:gz") as t:
    t.add(root, arcname=".")
PY
  touch "$work/.complete-$files"
fi

echo "collection: $tree ($(find "$tree" -type f | wc -l) files, $(du -sh "$tree" | cut -f1)); zip $(du -h "$work/collection.zip" | cut -f1), tar.gz $(du -h "$work/collection.tar.gz" | cut -f1)"
# Warm the cache.
"$bin" -q "$tree" > /dev/null
"$bin" -q "$work/collection.zip" > /dev/null
t_tree=$(best "$bin" -q "$tree")
t_zip=$(best "$bin" -q "$work/collection.zip")
t_tgz=$(best "$bin" -q "$work/collection.tar.gz")
echo "unpacked tree: ${t_tree}s"
echo "ZIP:           ${t_zip}s"
echo "tar.gz:        ${t_tgz}s"
awk -v a="$t_zip" -v b="$t_tree" 'BEGIN { printf "ZIP / unpacked = %.2f (goal <= 2)\n", a / b }'
