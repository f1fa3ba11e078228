#!/usr/bin/env bash
# The server's work per message against a recorded baseline (bench/baseline.txt): three runs of
# `tutorchat-bench chat` at the baseline's rate, server and generator pinned to their own cores,
# a fresh server each; fails when the median server CPU or bytes written per message is over the
# baseline by more than its margin. Not part of CI (a release build and a minute of load on a
# shared 2-core machine); run it before a change to the send path lands.
#
#   scripts/perf-check.sh            # check against bench/baseline.txt
#   scripts/perf-check.sh --record   # record a new baseline on this machine (6,000 msg/s
#                                    # unless the file names another rate)
#
# A baseline holds for the machine it was recorded on: figures vary between machines.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tutorchat/target}"
baseline=bench/baseline.txt
mode=--check
if [[ "${1:-}" == "--record" ]]; then
  mode=--record
fi
rate=6000
if [[ -f "$baseline" ]]; then
  rate=$(awk -F' *= *' '$1 == "rate" { print $2 }' "$baseline")
elif [[ "$mode" == --check ]]; then
  echo "no $baseline: record one first (scripts/perf-check.sh --record)" >&2
  exit 2
fi
cargo build --release --locked -p tutorchat-server -p tutorchat-bench
"$CARGO_TARGET_DIR/release/tutorchat-bench" --pin chat --chats 1000 --devices 2 \
  --sweep "$rate,$rate,$rate" --seconds 10 --warmup 2 "$mode" "$baseline"
