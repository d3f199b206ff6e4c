#!/usr/bin/env bash
# Memory of many evidence rows (issue: hardening, memory bounds).
#
# Two NetSession logs with LINES timestamped lines between them (out of time order, as
# appended and rotated logs are) give that many evidence rows. Rows are sorted in
# bounded memory: past --sort-memory they go to sorted runs in the temporary folder and
# are merged back when written. This script measures, with `/usr/bin/time -v`, peak
# memory and wall time of
#   netsession-scan -q DIR --csv --jsonl --bodyfile --report     (default --sort-memory)
#   the same with --sort-memory 1                                (runs on disk early)
# checks that both write identical files, and fails above the 300 MB goal.
#
#   benches/rows_memory.sh [DIR] [LINES]
#
# DIR (default $TMPDIR/netsession-bench-logs) is kept between runs; delete it to rebuild.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-${TMPDIR:-/tmp}/netsession-bench-logs}
lines=${2:-1000000}

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/netsession-scan"

if [ ! -f "$dir/.complete-$lines" ]; then
  echo "writing $lines log lines under $dir ..." >&2
  rm -rf "$dir"
  python3 - "$dir" "$lines" <<'PY'
import os, sys
root, total = sys.argv[1], int(sys.argv[2])
for n, user in enumerate(["Bob", "Ana Lúcia"]):
    folder = os.path.join(root, "C/Users", user, "AppData/Local/Akamai/logs")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "netsession.log"), "w", encoding="utf-8") as f:
        for i in range(n, total, 2):
            s = (i * 7919) % 86400
            what = "upload to peer 198.51.100.23 finished, 1048576 bytes" if i % 9 == 0 \
                else "control channel https://control.netsession.example.com/session heartbeat"
            f.write(f"2013-03-{1 + i % 28:02d} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{i % 1000:03d} [INFO] {what} #{i}\n")
PY
  touch "$dir/.complete-$lines"
fi
du -sh "$dir" | awk '{ print "logs: " $1 }'

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
measure() {
  local name=$1
  shift
  mkdir -p "$out/$name"
  /usr/bin/time -v "$bin" -q "$@" --csv "$out/$name/e.csv" --jsonl "$out/$name/e.jsonl" \
    --bodyfile "$out/$name/e.body" --report "$out/$name/report.md" "$dir" \
    2> "$out/$name.time" > /dev/null
  local kb wall
  kb=$(awk -F: '/Maximum resident/ { gsub(/ /, "", $2); print $2 }' "$out/$name.time")
  wall=$(awk '/Elapsed \(wall clock\)/ { print $NF }' "$out/$name.time")
  echo "$name: peak $((kb / 1024)) MB, wall $wall" >&2
  echo "$kb"
}
rows=0
default_kb=$(measure default)
small_kb=$(measure sort-memory-1 --sort-memory 1)
rows=$(($(wc -l < "$out/default/e.csv") - 1))
echo "rows: $rows"
for f in e.csv e.jsonl e.body; do
  cmp -s "$out/default/$f" "$out/sort-memory-1/$f" || { echo "$f DIFFERS" >&2; exit 1; }
done
# The report names its own run (command line, start and end): the rest must be equal.
own_run='^- (command line|started|finished): '
cmp -s <(grep -Ev "$own_run" "$out/default/report.md") \
  <(grep -Ev "$own_run" "$out/sort-memory-1/report.md") ||
  { echo "report.md DIFFERS" >&2; exit 1; }
echo "outputs identical with --sort-memory 1"
echo "peak memory, default:         $((default_kb / 1024)) MB (goal < 300)"
echo "peak memory, --sort-memory 1: $((small_kb / 1024)) MB"
[ "$default_kb" -lt 307200 ] || { echo "MORE MEMORY THAN THE GOAL" >&2; exit 1; }
