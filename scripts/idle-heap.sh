#!/usr/bin/env bash
# Heap bytes per idle authenticated socket, to the byte: `tutorchat-bench idle` against a server
# whose allocator counts the bytes requested from it and not yet freed. The idle benchmark's RSS
# figure moves by a few hundred bytes per socket from run to run with what the allocator keeps;
# this count does not move at all between runs, so a change of a few dozen bytes shows.
#
#   scripts/idle-heap.sh               # HEAD, 18,000 sockets over 1,000 users
#   scripts/idle-heap.sh 8f45924       # another revision, to compare
#   CONNECTIONS=9000 scripts/idle-heap.sh
#   USERS=18000 scripts/idle-heap.sh  # one device per user (the default is 18 each)
#
# The counting allocator needs `unsafe` (a GlobalAlloc), which the workspace forbids, so it is
# a patch (scripts/idle-heap.patch) applied to a throwaway worktree of the revision and built
# into a target directory of its own (the first build there is a full release build, ~6 min
# here); nothing of it ships. Counts requested sizes: what the allocator rounds them up to and
# keeps around them comes on top (README, Performance).
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:-HEAD}"
patch="$PWD/scripts/idle-heap.patch"
work="$(mktemp -d)"
cleanup() {
  git worktree remove --force "$work" >/dev/null 2>&1 || rm -rf "$work"
  git worktree prune
}
trap cleanup EXIT
git worktree add --quiet --detach "$work" "$rev"
git -C "$work" apply "$patch"
export CARGO_TARGET_DIR="${HEAP_TARGET_DIR:-$HOME/.cache/tutorchat/target-heap}"
(cd "$work" && cargo build --release --locked -p tutorchat-server -p tutorchat-bench)
"$CARGO_TARGET_DIR/release/tutorchat-bench" --connect-concurrency 32 idle \
  --connections "${CONNECTIONS:-18000}" --users "${USERS:-1000}" 2>&1 | tee "$work/idle.log" | grep -v '^HEAP '
python3 - "$work/idle.log" <<'PY'
import re
import sys

samples = [(int(held), int(files), dict(map(int, kv.split(":")) for kv in sizes.split(",") if kv))
           for held, files, sizes in
           re.findall(r"^HEAP (\d+) FDS (\d+) SIZES (\S*)$", open(sys.argv[1]).read(), re.M)]
if not samples:
    sys.exit("no HEAP lines: did the patch apply?")
# Before: the last sample before the sockets opened (the probe pair and the listener only).
before = [s for s in samples if s[1] < 100][-1]
most = max(files for _, files, _ in samples)
after = [s for s in samples if s[1] == most][-1]
sockets = max(after[1] - before[1], 1)
print(f"heap held: {before[0]} bytes with {before[1]} files open, {after[0]} with {after[1]}: "
      f"{(after[0] - before[0]) // sockets} bytes per idle socket")
# What the sockets hold, by requested size: blocks per socket and bytes per socket.
print("size (bytes; 4096 = 4096 or more)  blocks/socket  bytes/socket")
for size in sorted(set(before[2]) | set(after[2])):
    blocks = (after[2].get(size, 0) - before[2].get(size, 0)) / sockets
    if abs(blocks) >= 0.05:
        print(f"{size:>33}  {blocks:>13.2f}  {blocks * size:>12.0f}")
PY
