#!/usr/bin/env bash
# Directory-scan benchmark (issue: scanner core).
#
# Builds a tree of 200,000 files holding one NetSession install (the demo fixture's
# volumes copied in), then times, with a warm cache, best of N runs:
#   find DIR -type f > /dev/null
#   find DIR -type f -printf '%s\n' > /dev/null   (a walk that stats every file)
#   netsession-scan -q DIR > /dev/null      (full scan: matching, hashing, content; the
#                                            tree is a volume root, where hives are found
#                                            by name, so no stat of every file)
# and prints the times and ratios. The goal is a ratio of at most 1.5 against the plain
# walk; the walk that stats every file is shown for what a search of every file by
# content would cost (the scan pays it only outside volume roots).
#
#   benches/dir_scan.sh [TREE_DIR] [RUNS]
#
# The tree is kept between runs (delete TREE_DIR to rebuild it). Needs python3.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/common.sh
. "$here/benches/common.sh"
tree=${1:-${TMPDIR:-/tmp}/netsession-bench-tree}
runs=${2:-5}
files=200000

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/netsession-scan"

if [ ! -f "$tree/.complete" ]; then
  echo "building $files-file tree in $tree ..." >&2
  rm -rf "$tree"
  mkdir -p "$tree"
  python3 - "$tree" "$files" <<'PY'
import os, sys
root, total = sys.argv[1], int(sys.argv[2])
# A Windows-like spread: deep system folders, several profiles, program folders.
tops = ["C/Windows/WinSxS", "C/Windows/System32/DriverStore", "C/Program Files",
        "C/Program Files (x86)", "C/ProgramData/Package Cache"]
tops += [f"C/Users/user{u}/AppData/Local/Vendor{u}" for u in range(8)]
tops += [f"C/Users/user{u}/AppData/Roaming/Mozilla/Profiles" for u in range(8)]
made, d = 0, 0
while made < total:
    top = tops[d % len(tops)]
    folder = os.path.join(root, top, f"pkg{d:05d}", f"sub{d % 7}")
    os.makedirs(folder, exist_ok=True)
    for i in range(min(100, total - made)):
        with open(os.path.join(folder, f"file{i:03d}.dat"), "wb") as f:
            f.write(b"x" * (i % 5))
        made += 1
    d += 1
PY
  # One NetSession install (and the demo's other volumes' traces) inside the tree.
  cp -r "$here/fixtures/demo-mounted/C/." "$tree/C/"
  touch "$tree/.complete"
fi

count=$(find "$tree" -type f | wc -l)
echo "tree: $tree ($count files)"


# Warm the cache.
find "$tree" -type f > /dev/null
"$bin" -q "$tree" > /dev/null

t_find=$(best find "$tree" -type f)
t_stat=$(best find "$tree" -type f -printf '%s\n')
t_scan=$(best "$bin" -q "$tree")
rows=$("$bin" -q "$tree" | tail -n +2 | wc -l)
plain=$(awk -v a="$t_scan" -v b="$t_find" 'BEGIN { printf "%.2f", a / b }')
ratio=$(awk -v a="$t_scan" -v b="$t_stat" 'BEGIN { printf "%.2f", a / b }')
echo "find -type f:             ${t_find} s"
echo "find -type f -printf %s:  ${t_stat} s"
echo "netsession-scan:          ${t_scan} s  ($rows evidence rows)"
echo "ratio to find -type f:    ${plain} (goal <= 1.5)"
echo "ratio to find with stats: ${ratio}"
awk -v r="$plain" 'BEGIN { exit !(r <= 1.5) }' || { echo "SLOWER THAN THE GOAL" >&2; exit 1; }
