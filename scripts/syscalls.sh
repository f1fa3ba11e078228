#!/usr/bin/env bash
# The system calls the server makes per message, by kind: `tutorchat-bench --pin chat` at one
# rate (server and generator on their own cores, a fresh server), and `perf stat` counting the
# server's system calls (the kernel's syscall tracepoints) over the middle of the measured
# window, divided by the messages sent in it. What the kernel's share of the server's CPU
# (the bench's "of which kernel") is spent on. Needs root (or perf_event_paranoid ≤ -1) and
# Debian's linux-perf; not part of CI.
#
#   scripts/syscalls.sh [RATE]      # default 6000 msg/s
#
# Figures vary between machines and kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tutorchat/target}"
rate="${1:-6000}"
seconds=10
counted=6
events=(raw_syscalls:sys_enter syscalls:sys_enter_sendto syscalls:sys_enter_recvfrom
  syscalls:sys_enter_write syscalls:sys_enter_pwrite64 syscalls:sys_enter_fdatasync
  syscalls:sys_enter_epoll_wait syscalls:sys_enter_futex context-switches)

source scripts/bench-point.sh
cargo build --release --locked -p tutorchat-server -p tutorchat-bench
log=$(mktemp)
counts=$(mktemp)
trap 'rm -f "$log" "$counts"' EXIT
start_bench_point "$rate" "$seconds" "$log"
perf stat -x, -e "$(IFS=,; echo "${events[*]}")" -p "$pid" -- sleep "$counted" 2>"$counts"
wait "$bench"
sent_per_sec=$(awk '$1 == "sent" { print $2; exit }' "$log")
grep -E "^(sent|acked|CPU|storage)" "$log"
echo
echo "per message, over ${counted} s at ${sent_per_sec} msg/s sent (server pid ${pid}):"
awk -F, -v msgs="$(awk -v r="$sent_per_sec" -v s="$counted" 'BEGIN { print r * s }')" '
  $1 ~ /^[0-9]+$/ {
    name = $3
    sub(/^syscalls:sys_enter_/, "", name)
    sub(/^raw_syscalls:sys_enter$/, "all system calls", name)
    printf "  %-18s %6.2f\n", name, $1 / msgs
  }' "$counts"
