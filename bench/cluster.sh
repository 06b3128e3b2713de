#!/usr/bin/env bash
# Runs the cluster's benchmarks against the local pool's, in the same
# run, and prints each run's ratios. Usage: bench/cluster.sh [count]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/bench.test" ./bench/
cd bench
for run in $(seq "$count"); do
  {
    "$tmp/bench.test" -test.run='^$' -test.bench='^BenchmarkClusterCPU$' -test.benchtime=200x
    "$tmp/bench.test" -test.run='^$' -test.bench='^BenchmarkClusterTrivial$' -test.benchtime=20000x
    "$tmp/bench.test" -test.run='^$' -test.bench='^BenchmarkClusterDo$' -test.benchtime=2000x
    "$tmp/bench.test" -test.run='^$' -test.bench='^BenchmarkClusterScale$' -test.benchtime=400x
  } >"$tmp/run.txt"
  grep '^Benchmark' "$tmp/run.txt" >&2
  awk -v run="$run" '
    /^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name)
      for (i = 3; i < NF; i++) { v[name, $(i+1)] = $i } }
    END {
      printf "run %d: cpu cluster/local %.2f; trivial %.0f (memory %.0f) vs %.0f tasks/s (%.2f); Do p50 %d vs %d µs, p99 %d vs %d µs; scale 2/1 %.2f, 4/1 %.2f, 8/1 %.2f\n", run,
        v["BenchmarkClusterCPU/cluster", "tasks/s"] / v["BenchmarkClusterCPU/local", "tasks/s"],
        v["BenchmarkClusterTrivial/cluster-file", "tasks/s"], v["BenchmarkClusterTrivial/cluster-memory", "tasks/s"], v["BenchmarkClusterTrivial/local", "tasks/s"],
        v["BenchmarkClusterTrivial/cluster-file", "tasks/s"] / v["BenchmarkClusterTrivial/local", "tasks/s"],
        v["BenchmarkClusterDo/cluster", "p50-µs"], v["BenchmarkClusterDo/local", "p50-µs"],
        v["BenchmarkClusterDo/cluster", "p99-µs"], v["BenchmarkClusterDo/local", "p99-µs"],
        v["BenchmarkClusterScale/workers=2", "tasks/s"] / v["BenchmarkClusterScale/workers=1", "tasks/s"],
        v["BenchmarkClusterScale/workers=4", "tasks/s"] / v["BenchmarkClusterScale/workers=1", "tasks/s"],
        v["BenchmarkClusterScale/workers=8", "tasks/s"] / v["BenchmarkClusterScale/workers=1", "tasks/s"] }' "$tmp/run.txt"
done
