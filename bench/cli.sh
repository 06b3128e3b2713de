#!/usr/bin/env bash
# childproc parallel against its peers, measured in the same run:
#   1. N jobs of `true`, J at a time: childproc parallel, xargs -P, GNU parallel,
#      and bench/gostart (nothing but os.StartProcess and pipes: the floor Go sets)
#   2. N jobs of `echo {}` with --joblog (GNU parallel with --joblog too)
#   3. 100 jobs printing 10 MiB each, grouped: throughput against cat-ing the
#      same bytes, and childproc's peak RSS
# Each figure is the median of R rounds, the tools alternating within a round.
# Usage: bench/cli.sh [N] [J] [R]        (default 1000 jobs, -j2, 3 rounds)
# The peers come from the project's shared/bench/cli_peers.sh (looked for beside
# the repository, or in $CHILDPROC_SHARED); without it the peer rows are skipped
# with a note. GNU parallel: apt-get install -y parallel.
set -euo pipefail
n=${1:-1000}; j=${2:-2}; rounds=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/childproc" "$root/cmd/childproc"
go build -o "$tmp/gostart" "$root/bench/gostart"
cp=$tmp/childproc

peers=""
for d in "${CHILDPROC_SHARED:-}" "$root/../shared" "$root/../../shared" /work/shared; do
  if [ -n "$d" ] && [ -x "$d/bench/cli_peers.sh" ]; then peers=$d/bench/cli_peers.sh; break; fi
done
[ -n "$peers" ] || echo "note: shared/bench/cli_peers.sh not found; xargs and GNU parallel rows skipped"
gnu=""; command -v parallel >/dev/null && gnu=parallel
[ -n "$gnu" ] || echo "note: GNU parallel not installed (apt-get install -y parallel); its rows skipped"

seq "$n" >"$tmp/input"
# secs CMD...: wall seconds of CMD with the input on stdin, output discarded.
secs() { local s e; s=$(date +%s.%N); "$@" <"$tmp/input" >/dev/null 2>&1 || true; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f\n", e-s}'; }
# peer NAME CMD: the secs= of NAME's line in cli_peers.sh's output for CMD.
peer() { sed -n "s/^peer=$1 .* secs=\([0-9.]*\) .*/\1/p" <<<"$2"; }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN{printf "%.0f", n/s}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b/a}'; }

: >"$tmp/true.cp"; : >"$tmp/true.xargs"; : >"$tmp/true.gnu"; : >"$tmp/true.gostart"
: >"$tmp/echo.cp"; : >"$tmp/echo.xargs"; : >"$tmp/echo.gnu"
for _ in $(seq "$rounds"); do
  secs "$cp" parallel -j "$j" true >>"$tmp/true.cp"
  secs "$tmp/gostart" -j "$j" true >>"$tmp/true.gostart"
  if [ -n "$peers" ]; then
    out=$("$peers" "$n" "$j" true)
    peer xargs "$out" >>"$tmp/true.xargs"
    [ -z "$gnu" ] || peer gnu-parallel "$out" >>"$tmp/true.gnu"
  fi
  secs "$cp" parallel -j "$j" --joblog "$tmp/log" echo '{}' >>"$tmp/echo.cp"
  if [ -n "$peers" ]; then
    out=$("$peers" "$n" "$j" echo)
    peer xargs "$out" >>"$tmp/echo.xargs"
  fi
  [ -z "$gnu" ] || secs parallel --will-cite -j "$j" --joblog "$tmp/gnulog" echo '{}' >>"$tmp/echo.gnu"
done
for op in true echo; do
  c=$(median <"$tmp/$op.cp")
  line="op=$op n=$n j=$j childproc=$(rate "$n" "$c")/s"
  if [ -s "$tmp/$op.xargs" ]; then x=$(median <"$tmp/$op.xargs"); line="$line xargs=$(rate "$n" "$x")/s vs_xargs=$(ratio "$c" "$x")"; fi
  if [ -s "$tmp/$op.gnu" ]; then g=$(median <"$tmp/$op.gnu"); line="$line gnu=$(rate "$n" "$g")/s vs_gnu=$(ratio "$c" "$g")"; fi
  if [ -s "$tmp/$op.gostart" ]; then s=$(median <"$tmp/$op.gostart"); line="$line gostart=$(rate "$n" "$s")/s vs_gostart=$(ratio "$c" "$s")"; fi
  [ "$op" = echo ] && line="$line (childproc and GNU with --joblog)"
  echo "$line"
done

# 3. 100 jobs x 10 MiB, grouped, into a pipe.
size=10485760; jobs=100
awk -v s="$size" -v n="$jobs" 'BEGIN{for (i = 0; i < n; i++) print s}' >"$tmp/sizes"
head -c $((size * jobs)) /dev/zero >"$tmp/bytes"
: >"$tmp/big.cp"; : >"$tmp/big.cat"; : >"$tmp/big.relay"; : >"$tmp/big.rss"
for _ in $(seq "$rounds"); do
  s=$(date +%s.%N)
  /usr/bin/time -f %M -o "$tmp/rss" sh -c "'$cp' parallel -j '$j' 'head -c {} /dev/zero' <'$tmp/sizes' | cat >/dev/null"
  e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f\n", e-s}' >>"$tmp/big.cp"
  cat "$tmp/rss" >>"$tmp/big.rss"
  s=$(date +%s.%N); cat "$tmp/bytes" | cat >/dev/null; e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f\n", e-s}' >>"$tmp/big.cat"
  s=$(date +%s.%N); for _ in $(seq "$jobs"); do head -c "$size" /dev/zero; done | cat >/dev/null; e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f\n", e-s}' >>"$tmp/big.relay"
done
mb=$((size * jobs / 1048576))
c=$(median <"$tmp/big.cp"); k=$(median <"$tmp/big.cat"); r=$(median <"$tmp/big.relay")
echo "op=grouped-output jobs=$jobs each=10MiB childproc=$(rate "$mb" "$c")MiB/s cat-of-the-bytes=$(rate "$mb" "$k")MiB/s vs_cat=$(ratio "$c" "$k") producers-through-cat=$(rate "$mb" "$r")MiB/s vs_relay=$(ratio "$c" "$r") childproc_peak_rss=$(( $(median <"$tmp/big.rss") / 1024 ))MiB"
