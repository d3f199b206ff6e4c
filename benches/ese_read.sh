#!/usr/bin/env bash
# ESE benchmark (issue #15): reading the SRUM network usage table of a real SRUDB.dat
# with our reader (examples/ese_dump, release build: open, catalog, every row of the
# table printed as text) side by side with `esedbexport -t` on the same file (which
# exports every table: it has no option to read one table only, `-T` names one but
# still opens the whole catalog), best of N runs. Goal: ours at most half its time.
#
#   benches/ese_read.sh [SRUDB.dat] [RUNS]
#
# Default database: the largest fixture, fixtures/ese/srudb_win10_dirty_rev14.dat.gz
# (3.2 MB). Needs esedbexport (apt-get install libesedb-utils).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/common.sh
. "$here/benches/common.sh"
runs=${2:-5}
table='{973F5D5C-1D90-4944-BE8E-24B94231A174}'
command -v esedbexport > /dev/null || { echo "esedbexport missing (apt-get install libesedb-utils)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=${1:-}
if [ -z "$db" ]; then
  db="$work/SRUDB.dat"
  gzip -dc "$here/fixtures/ese/srudb_win10_dirty_rev14.dat.gz" > "$db"
fi
ls -l "$db"

cargo build --release --quiet --example ese_dump --manifest-path "$here/Cargo.toml"
ours="$here/target/release/examples/ese_dump"

rows=$("$ours" "$db" "$table" | wc -l)
echo "network table: $((rows - 1)) rows"

run_ours() { "$ours" "$db" "$table" > /dev/null; }
run_export_table() { rm -rf "$work/out"*; esedbexport -T "$table" -t "$work/out" "$db" > /dev/null; }
run_export_all() { rm -rf "$work/out"*; esedbexport -t "$work/out" "$db" > /dev/null; }

t_ours=$(best run_ours)
t_table=$(best run_export_table)
t_all=$(best run_export_all)
echo "ours (ese_dump, network table):      $t_ours s"
echo "esedbexport -T <network table> -t:   $t_table s"
echo "esedbexport -t (every table):        $t_all s"
awk -v a="$t_ours" -v b="$t_table" 'BEGIN { printf "ratio ours / esedbexport -T: %.2f (goal <= 0.5)\n", a / b }'
