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
