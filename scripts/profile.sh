#!/usr/bin/env bash
# Where the server's CPU goes at one rate: `tutorchat-bench --pin chat` at RATE (a fresh server,
# server and generator on their own cores) and `perf record` of the server, with kernel call
# chains, over six seconds of the measured window. Prints the samples by thread and by code
# (ours and SQLite, libc, the kernel), then the kernel's paths behind the system calls as a
# share of all samples and as µs per message (that share of the bench's server CPU per
# message): the socket writes and, mostly inside them, the receiving sides' TCP stacks, which
# on loopback the kernel runs in the sender's time; the reads; the SQLite log's writes and
# syncs.
# Needs root (or perf_event_paranoid ≤ -1) and Debian's linux-perf; not part of CI.
#
#   scripts/profile.sh [RATE]      # default 10000 msg/s; keeps perf.data and says where
#
# perf's own sampling adds a little to the CPU per message of a profiled run. Figures vary
# between machines, kernels and runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tutorchat/target}"
rate="${1:-10000}"
seconds=10
recorded=6

source scripts/bench-point.sh
cargo build --release --locked -p tutorchat-server -p tutorchat-bench
out=$(mktemp -d)
log="$out/bench.log"
start_bench_point "$rate" "$seconds" "$log"
perf record -q -e cpu-clock -F 1999 -g -p "$pid" -o "$out/perf.data" -- sleep "$recorded" \
  >/dev/null 2>&1
wait "$bench"
grep -E "^(sent|acked|delivery|CPU|storage)" "$log"
us_per_msg=$(grep -oP '^CPU +server [0-9.]+ s \(\K[0-9]+' "$log")

echo
echo "samples by thread and code (server pid ${pid}):"
perf report -i "$out/perf.data" --no-children -g none --sort comm,dso --percent-limit 0.5 \
  2>/dev/null | grep -E '^ +[0-9]'
echo
echo "kernel paths, share of all samples and µs per message (of ${us_per_msg}):"
perf report -i "$out/perf.data" --children -g none --sort sym 2>/dev/null |
  awk -v us="$us_per_msg" '
    BEGIN {
      label["__sys_sendto"] = "socket writes (sendto)"
      label["net_rx_action"] = "  TCP receive for the receiving sockets (net_rx_action)"
      label["__sys_recvfrom"] = "socket reads (recvfrom)"
      label["do_epoll_wait"] = "waiting for sockets (epoll_wait)"
      label["__x64_sys_pwrite64"] = "SQLite log and checkpoint writes (pwrite64)"
      label["__x64_sys_fdatasync"] = "durable syncs (fdatasync)"
      order = "__sys_sendto net_rx_action __sys_recvfrom do_epoll_wait __x64_sys_pwrite64 __x64_sys_fdatasync"
    }
    $3 == "[k]" && ($4 in label) { share[$4] = $1 + 0 }
    END {
      n = split(order, names, " ")
      for (i = 1; i <= n; i++) {
        s = share[names[i]] + 0
        printf "  %-56s %5.1f%%  %5.1f µs\n", label[names[i]], s, s * us / 100
      }
    }'
echo
echo "profile kept in $out/perf.data (perf report -i $out/perf.data)"
