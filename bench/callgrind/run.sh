#!/usr/bin/env bash
# Instructions per request of one server of the bench, counted by callgrind: deterministic
# (the same figure run after run, whatever else the machine does), so a change of a few
# hundred instructions on the request path shows where wrk's throughput cannot tell it
# from noise. docs/BENCHMARKS.md ("Instructions per request") has the figures.
#
# usage: bench/callgrind/run.sh bare|driver|http-layer find|create [N]
#   bare        the bare poem server (`ignition-bench serve-bare`)
#   driver      the no-op driver through Ignition (monitoring on, the embedded default)
#   http-layer  the same with task monitoring off
# Needs valgrind and a release build (`cargo build --release -p ignition-bench`). Prints
# the total and the instructions per request; the profile is kept in target/callgrind/
# for `callgrind_annotate --inclusive=yes`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
server=${1:?bare|driver|http-layer} op=${2:?find|create} n=${3:-2000}
bin=$root/target/release/ignition-bench
out=$root/target/callgrind
mkdir -p "$out"
name=$server-$op
rm -f "$out/$name".out*
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
props="\"application.port\": $port"
[ "$server" = http-layer ] && props="$props, \"infrastructure.async_messaging_enabled\": false"
grind=(valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/$name.out")
case $server in
  bare) "${grind[@]}" "$bin" serve-bare "$port" 2>"$out/$name.log" & ;;
  driver|http-layer)
    BENCH_PROPS="{$props}" RUST_LOG=info "${grind[@]}" "$bin" serve-driver \
      2>"$out/$name.log" >/dev/null & ;;
  *) echo "unknown server $server" >&2; exit 2 ;;
esac
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 120); do
  curl -s -o /dev/null "localhost:$port/management/health" && break
  sleep 0.5
done
path=/api/infrastructure/$op
# Warm up uncounted, then count n requests from 16 connections.
python3 "$root/bench/callgrind/load.py" "$port" "$path" 200 4
callgrind_control -i on "$pid" >/dev/null 2>&1
python3 "$root/bench/callgrind/load.py" "$port" "$path" "$n" 16
callgrind_control -i off "$pid" >/dev/null 2>&1
callgrind_control -d "$pid" >/dev/null 2>&1
kill "$pid"; wait "$pid" 2>/dev/null || true
total=$( (callgrind_annotate "$out/$name.out.1" 2>/dev/null || true) \
  | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
echo "$name: $total instructions for $n requests, $(( total / n )) per request ($out/$name.out.1)"
