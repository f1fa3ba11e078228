# Sourced by the scripts that watch the server under load (syscalls.sh, profile.sh,
# callgrind.sh): one bench point in the background, and the server's pid once a second of its
# measured window has gone.
#
#   start_bench_point RATE SECONDS LOG   # sets $bench (the bench's pid) and $pid (the server's)
#
# `tutorchat-bench --pin chat` at RATE for SECONDS (a fresh server, server and generator on
# their own cores), its output in LOG. Exits with the log if the bench ends before its sockets
# are up. With BENCH_SERVER_BIN set, the bench starts that instead of the release server (a
# wrapper that runs it under a tool).
start_bench_point() {
  local rate=$1 seconds=$2 log=$3
  "$CARGO_TARGET_DIR/release/tutorchat-bench" --pin \
    ${BENCH_SERVER_BIN:+--server-bin "$BENCH_SERVER_BIN"} chat --chats 1000 --devices 2 \
    --rate "$rate" --seconds "$seconds" --warmup 2 >"$log" 2>&1 &
  bench=$!
  until grep -q "sockets authenticated" "$log"; do
    if ! kill -0 "$bench" 2>/dev/null; then
      cat "$log" >&2
      exit 1
    fi
    sleep 0.2
  done
  pid=$(grep -oP '\(pid \K[0-9]+' "$log" | head -1)
  # The generator starts a second after the sockets are up, then warms up for two seconds:
  # return a second into the measured window.
  sleep 4
}
