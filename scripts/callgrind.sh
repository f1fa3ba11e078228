#!/usr/bin/env bash
# Instructions the server executes per message, counted by `valgrind --tool=callgrind`:
# repeatable where CPU time is not (the same binary and load give nearly the same count on a
# busy machine). `tutorchat-bench --pin chat` at a low RATE against the release server run
# under callgrind, counters zeroed once the load is steady and dumped WINDOW seconds later.
# Prints the instructions per message in all, by thread (the SQLite writer and the async
# runtime), for the main stages of a send, and the functions that cost most themselves.
# Needs valgrind (Debian's package); not part of CI. A run takes about a minute and a half.
#
#   scripts/callgrind.sh [RATE]      # default 150 msg/s: under callgrind the server is slow
#
# At so low a rate every message is its own commit: the counts are those of a lone send, not
# of a loaded server, whose commits carry many. Compare counts between builds, not machines.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tutorchat/target}"
rate="${1:-150}"
window=20

source scripts/bench-point.sh
cargo build --release --locked -p tutorchat-server -p tutorchat-bench
out=$(mktemp -d)
cat >"$out/server" <<WRAPPER
#!/usr/bin/env bash
exec valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
  "$CARGO_TARGET_DIR/release/tutorchat-server" "\$@"
WRAPPER
chmod +x "$out/server"
log="$out/bench.log"
BENCH_SERVER_BIN="$out/server" start_bench_point "$rate" $((window + 20)) "$log"
# Zeroed a few seconds further in, so start-up and warm-up are well behind the counted window.
sleep 4
callgrind_control -z "$pid" >/dev/null
sleep "$window"
callgrind_control -d "$pid" >/dev/null
wait "$bench"
grep -E "^(sent|acked|refused)" "$log"
sent=$(awk '$1 == "sent" { print $2; exit }' "$log")
messages=$((sent * window))
dump=$(ls "$out"/callgrind.out.* | head -1)
total=$(grep -oP '^summary: \K[0-9]+' "$dump")
echo
echo "instructions per message over ${window} s (${messages} messages): $((total / messages))"
echo
echo "by thread and stage (inclusive):"
callgrind_annotate --inclusive=yes --threshold=100 "$dump" 2>/dev/null |
  awk -v n="$messages" '
    BEGIN {
      count = split("writer.rs:std::sys::backtrace::__rust_begin_short_backtrace|" \
        "chats::send_messages [/|chats::store_new [/|chats::message_by_client_id [/|" \
        "sqlite3BtreeCommitPhaseOne.part.0 [/|multi_thread::worker::run [/|" \
        "Session>::serve::{{closure}} [/|hub::encode [/", key, "|")
      split("SQLite writer thread|  store the sends|    number and insert each message|" \
        "    look for a duplicate|  commit (write the log frames)|async runtime|" \
        "  connection tasks|  frames to JSON", label, "|")
    }
    {
      for (i = 1; i <= count; i++) if (!(i in found) && index($0, key[i])) {
        value = $1; gsub(",", "", value); found[i] = value
      }
    }
    END { for (i = 1; i <= count; i++) printf "%10d  %s\n", found[i] / n, label[i] }'
echo
echo "most costly functions themselves, instructions per message:"
# The first lines are the threads' entry frames (their whole cost, as the counters were zeroed
# inside them): skipped.
callgrind_annotate --threshold=100 "$dump" 2>/dev/null |
  awk -v n="$messages" '/^ *[0-9,]+ \(/ && !/PROGRAM TOTALS/ {
      count = $1; gsub(",", "", count)
      name = $0; sub(/ \[.*$/, "", name); sub(/^.*:/, "", name)
      if (name ~ /^(clone|start_thread|thread_start|call_once.*|__rust_begin_short_backtrace|enter_runtime|set|run|poll)$/) next
      printf "%10d  %s\n", count / n, substr(name, 1, 90)
      if (++shown == 15) exit
    }'
echo
echo "callgrind's data: $dump (callgrind_annotate $dump)"
