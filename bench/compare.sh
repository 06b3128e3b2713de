#!/usr/bin/env bash
# Runs childproc's benchmarks and their baselines in one go and prints a
# table of ratios. Usage: bench/compare.sh [benchtime] [count]
# The Node peers are looked for in $PEERS, else in $CHILDPROC_SHARED/bench,
# else in the first shared/bench of the repository's parent folders
# (../shared/bench from a clone beside it, ../../shared/bench from a
# worktree); a peer that is missing, or node itself, is skipped with a
# note and its rows show "-".
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-2s}
count=${2:-3}
peers=${PEERS:-}
if [ -z "$peers" ]; then
  for dir in "${CHILDPROC_SHARED:+$CHILDPROC_SHARED/bench}" ../shared/bench ../../shared/bench; do
    [ -n "$dir" ] || continue
    if [ -d "$dir" ]; then peers=$dir; break; fi
  done
fi
if [ -z "$peers" ]; then
  echo "compare.sh: no shared/bench folder found (set PEERS): the Node peers are skipped" >&2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go test -run='^$' -bench="${BENCH:-.}" -benchtime="$benchtime" -count="$count" ./bench/ | tee "$tmp/go.txt" >&2

# The 256 MiB stream swings with whether the scheduler puts head on the
# reader's CPU; pinned to one CPU both sides run the same way every time.
pinned=""
if command -v taskset >/dev/null; then
  go test -c -o "$tmp/bench.test" ./bench/
  for _ in $(seq "$count"); do
    taskset -c 0 "$tmp/bench.test" -test.run='^$' -test.bench='^BenchmarkStdout$' -test.benchtime=8x |
      sed 's/^BenchmarkStdout/PinnedStdout/' | tee -a "$tmp/go.txt" >&2
  done
  pinned=1
fi

# median of a benchmark's ns/op (or of another metric column) over its runs
median() { # name unit
  grep -E "^$1(-[0-9]+)?[[:space:]]" "$tmp/go.txt" |
    awk -v unit="$2" '{ for (i = 2; i < NF; i++) if ($(i+1) == unit) print $i }' |
    sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2 }'
}
rate() { local ns; ns=$(median "$1" ns/op); [ -n "$ns" ] && awk -v ns="$ns" 'BEGIN { printf "%.0f", 1e9 / ns }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
# node_run runs a Node peer script with its arguments, or prints nothing
# (with a note) when the script or node is missing or the peer fails.
node_run() {
  if ! command -v node >/dev/null; then
    echo "compare.sh: node not found: $1 skipped" >&2
    return 0
  fi
  if [ ! -f "$1" ]; then
    echo "compare.sh: peer $1 not found: skipped" >&2
    return 0
  fi
  node "$@" || echo "compare.sh: peer $1 failed (status $?): skipped" >&2
}
peer() { node_run "$@" | sed -n 's/.*rate=\([0-9.]*\)\/s.*/\1/p'; }

node_spawn=$(peer "$peers/node_spawn.js" 2000)
node_exec=$(peer "$peers/node_exec.js" 1000)
node_rtt=$(peer "$peers/node_ipc_parent.js" rtt 20000)
node_stream_mb=$(node_run "$peers/node_ipc_parent.js" stream 200000 1024 | sed -n 's/.*MB\/s=\([0-9.]*\).*/\1/p')
node_pipelined=$(peer bench/node_ipc_pipelined.js 200000 64)
node_adv_rtt=$(peer "$peers/node_ipc_parent.js" rtt 20000 advanced)
node_adv_stream_mb=$(node_run "$peers/node_ipc_parent.js" stream 200000 1024 advanced | sed -n 's/.*MB\/s=\([0-9.]*\).*/\1/p')
node_adv_pipelined=$(peer "$peers/node_ipc_parent.js" pipelined 200000 64 advanced)

printf '\n| benchmark | childproc | baseline | ratio |\n|---|---|---|---|\n'
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
row "Spawn+Wait /bin/true (3 pipes) vs os/exec Run, /s" "$(rate BenchmarkSpawn/childproc)" "$(rate BenchmarkSpawn/osexec)"
row "Spawn+Wait /bin/true (3 pipes) vs os/exec with 3 pipes, /s" "$(rate BenchmarkSpawn/childproc)" "$(rate BenchmarkSpawn/osexec-pipes)"
row "Spawn+Wait /bin/true (stdio ignored) vs os/exec Run, /s" "$(rate BenchmarkSpawn/childproc-ignore)" "$(rate BenchmarkSpawn/osexec)"
row "Spawn+Wait /bin/true (3 pipes) vs Node spawn, /s" "$(rate BenchmarkSpawn/childproc)" "$node_spawn"
row "Exec echo hello vs os/exec Output, /s" "$(rate BenchmarkExec/childproc)" "$(rate BenchmarkExec/osexec)"
row "Exec echo hello vs Node exec, /s" "$(rate BenchmarkExec/childproc)" "$node_exec"
row "Stdout 256 MiB vs os/exec pipe, MB/s" "$(median BenchmarkStdout/childproc MB/s)" "$(median BenchmarkStdout/osexec MB/s)"
[ -n "$pinned" ] && row "Stdout 256 MiB pinned to one CPU vs os/exec pipe, MB/s" "$(median PinnedStdout/childproc MB/s)" "$(median PinnedStdout/osexec MB/s)"
row "IPC round trip, Go entry child vs raw socketpair + JSON lines, /s" "$(rate BenchmarkIPCRoundTrip/childproc)" "$(rate BenchmarkIPCRoundTrip/raw)"
row "IPC round trip vs Node fork() rtt, /s" "$(rate BenchmarkIPCRoundTrip/childproc)" "$node_rtt"
row "IPC one-way 1 KiB messages vs Node fork() stream, MB/s" "$(median BenchmarkIPCStream MB/s)" "$node_stream_mb"
row "IPC pipelined round trips (window 64) vs Node, /s" "$(rate BenchmarkIPCPipelined)" "$node_pipelined"
row "IPC round trip, advanced serialization, vs Node fork() advanced rtt, /s" "$(rate BenchmarkIPCModes/rtt/advanced)" "$node_adv_rtt"
row "IPC one-way 1 KiB messages, advanced, vs Node fork() advanced stream, MB/s" "$(median BenchmarkIPCModes/stream/advanced MB/s)" "$node_adv_stream_mb"
row "IPC pipelined round trips (window 64), advanced, vs Node advanced, /s" "$(rate BenchmarkIPCModes/pipelined/advanced)" "$node_adv_pipelined"
row "IPC round trip, advanced vs JSON (same payload, Go both sides), /s" "$(rate BenchmarkIPCModes/rtt/advanced)" "$(rate BenchmarkIPCModes/rtt/json)"
row "IPC one-way 1 KiB messages, advanced vs JSON, MB/s" "$(median BenchmarkIPCModes/stream/advanced MB/s)" "$(median BenchmarkIPCModes/stream/json MB/s)"
row "IPC pipelined round trips, advanced vs JSON, /s" "$(rate BenchmarkIPCModes/pipelined/advanced)" "$(rate BenchmarkIPCModes/pipelined/json)"
row "IPC one-way 64 KiB []byte messages, advanced (Buffer) vs JSON (base64), MB/s" "$(median BenchmarkIPCModes/bytes/advanced MB/s)" "$(median BenchmarkIPCModes/bytes/json MB/s)"
row "IPC round trips from 64 goroutines, one in flight each (a pool's traffic) vs Node pipelined (window 64), /s" "$(rate BenchmarkIPCPipelinedParallel/g=64)" "$node_pipelined"
row "Spawn configured as os/exec Run (stdio ignored, SurviveParent) vs os/exec Run, /s" "$(rate BenchmarkSpawnCleanup/survive)" "$(rate BenchmarkSpawnCleanup/osexec)"
row "Spawn with default cleanup (stdio ignored) vs os/exec Run, /s" "$(rate BenchmarkSpawnCleanup/defaults)" "$(rate BenchmarkSpawnCleanup/osexec)"
for g in 2 4 8; do
  row "Spawn+Wait /bin/true from $g goroutines, defaults (3 pipes) vs os/exec Run, /s" "$(rate BenchmarkSpawnParallel/g=$g/childproc)" "$(rate BenchmarkSpawnParallel/g=$g/osexec)"
  row "Spawn+Wait /bin/true from $g goroutines, SurviveParent (stdio ignored) vs os/exec Run, /s" "$(rate BenchmarkSpawnParallel/g=$g/childproc-survive)" "$(rate BenchmarkSpawnParallel/g=$g/osexec)"
done
row "Spawn with Limits (extra exec) vs os/exec Run, /s" "$(rate BenchmarkSpawnCleanup/limits)" "$(rate BenchmarkSpawnCleanup/osexec)"
row "Spawn with KillTree vs os/exec Run, /s" "$(rate BenchmarkSpawnCleanup/killtree)" "$(rate BenchmarkSpawnCleanup/osexec)"
printf '| Stdout 256 MiB: parent peak RSS (childproc / os/exec), MB | %s | %s | |\n' "$(median BenchmarkStdout/childproc peakRSS-MB)" "$(median BenchmarkStdout/osexec peakRSS-MB)"
