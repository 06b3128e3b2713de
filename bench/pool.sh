#!/usr/bin/env bash
# Runs the pool's benchmarks and the peer pools in one go and prints a table
# of ratios. Usage: bench/pool.sh [tasks] [count]
# The peers come from ../shared/bench (or $PEERS): python_pool.py (Python's
# multiprocessing.Pool and ProcessPoolExecutor) and node_pool.sh (piscina,
# tinypool, workerpool; it installs them once with npm). A peer that cannot
# run is skipped with a note.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
count=${2:-3}
peers=${PEERS:-../shared/bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go test -c -o "$tmp/bench.test" ./bench/
# Each round runs childproc's benchmarks and then every peer, so that a
# slow spell of the machine weighs on both sides of a ratio alike.
: >"$tmp/go.txt"
: >"$tmp/peers.txt"
for _ in $(seq "$count"); do
  (cd bench
    "$tmp/bench.test" -test.run='^$' -test.bench='^BenchmarkPoolTrivial$' -test.benchtime="${n}x"
    "$tmp/bench.test" -test.run='^$' -test.bench='^BenchmarkPoolDoVsRoundTrip$' -test.benchtime=10000x
    "$tmp/bench.test" -test.run='^$' -test.bench='^BenchmarkPoolCPU$' -test.benchtime=200x
    "$tmp/bench.test" -test.run='^$' -test.bench='^BenchmarkPoolStart$' -test.benchtime=10x
  ) | tee -a "$tmp/go.txt" >&2
  if [ -f "$peers/python_pool.py" ] && command -v python3 >/dev/null; then
    python3 "$peers/python_pool.py" "$n" 2 mp >>"$tmp/peers.txt" || echo "python mp failed" >&2
    python3 "$peers/python_pool.py" "$n" 2 futures >>"$tmp/peers.txt" || echo "python futures failed" >&2
  fi
  if [ -x "$peers/node_pool.sh" ]; then
    "$peers/node_pool.sh" "$n" 2 64 >>"$tmp/peers.txt" 2>/dev/null || echo "node pools failed (npm unreachable?)" >&2
  fi
done
cat "$tmp/peers.txt" >&2

# median prints the median of the numbers on its input, one per line
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2 }'; }
# the values of childproc's metric $2 of benchmark $1, one per round, in order
values() { grep -E "^$1(-[0-9]+)?[[:space:]]" "$tmp/go.txt" | awk "{ for (i = 2; i < NF; i++) if (\$(i+1) == \"$2\") print \$i }"; }
# the rates of peer $1, one per round, in order
rates() { grep -E "peer=$1 " "$tmp/peers.txt" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^rate=/) { sub(/rate=/, "", $i); sub(/\/s/, "", $i); print $i } }'; }
metric() { values "$1" "$2" | median; }
peer() { rates "$1" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
# rounds prints the median and the range of the ratios of one round's
# childproc rate (benchmark $1) to the same round's rate of peer $2: the
# ratio of two figures measured side by side.
rounds() {
  paste <(values "$1" tasks/s) <(rates "$2") | awk 'NF == 2 && $2 > 0 { print $1 / $2 }' | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "%.2f (%.2f–%.2f)", m, v[1], v[NR] }'
}
poolrow() { printf '| %s | %s | %s | %s | %s |\n' "$1" "$3" "$(peer "$4")" "$(ratio "$3" "$(peer "$4")")" "$(rounds "$2" "$4")"; }

go_rate=$(metric BenchmarkPoolTrivial/go tasks/s)
node_rate=$(metric BenchmarkPoolTrivial/node tasks/s)
py_rate=$(metric BenchmarkPoolTrivial/python tasks/s)
printf '\n%s trivial tasks {a,b} -> a+b, 2 workers, 64 in flight; medians of %s runs\n\n' "$n" "$count"
printf '| pool | childproc, tasks/s | peer, tasks/s | ratio of the medians | ratio round by round: median (range) |\n|---|---|---|---|---|\n'
for p in python-mp python-futures piscina tinypool-threads tinypool-process workerpool-process workerpool-thread; do
  poolrow "Go workers vs $p" BenchmarkPoolTrivial/go "$go_rate" "$p"
done
poolrow "Node workers vs workerpool-process" BenchmarkPoolTrivial/node "$node_rate" workerpool-process
poolrow "Node workers vs tinypool-process" BenchmarkPoolTrivial/node "$node_rate" tinypool-process
poolrow "Python workers vs python-mp" BenchmarkPoolTrivial/python "$py_rate" python-mp
printf '\n| measure | childproc | baseline | ratio |\n|---|---|---|---|\n'
row "one Do on an idle pool vs an IPC round trip, taking turns, µs" "$(metric BenchmarkPoolDoVsRoundTrip do-µs)" "$(metric BenchmarkPoolDoVsRoundTrip rtt-µs)"
printf '| the same, median over the runs of the median ratio of turns taken one after the other | | | %s |\n' "$(metric BenchmarkPoolDoVsRoundTrip do/rtt-turns)"
row "5 ms CPU tasks, 2 workers vs 1 worker, tasks/s" "$(metric BenchmarkPoolCPU/workers=2 tasks/s)" "$(metric BenchmarkPoolCPU/workers=1 tasks/s)"
for s in 2 4 8; do
  row "starting $s workers: Size $s sequential ForkEntry calls vs New, ms" "$(awk -v ns="$(metric BenchmarkPoolStart/size=$s/sequential ns/op)" 'BEGIN{printf "%.1f", ns/1e6}')" "$(awk -v ns="$(metric BenchmarkPoolStart/size=$s/pool ns/op)" 'BEGIN{printf "%.1f", ns/1e6}')"
done
printf '| parent peak RSS over %s trivial tasks (Go workers), MB | %s | | |\n' "$n" "$(metric BenchmarkPoolTrivial/go peakRSS-MB)"
