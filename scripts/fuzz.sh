#!/usr/bin/env bash
# Fuzzes the wire contract: each cargo-fuzz target in fuzz/ runs for a bounded time, and the
# script fails if any of them finds a crash. See docs/fuzzing.md.
#
#   scripts/fuzz.sh               # every target, 60 seconds each
#   scripts/fuzz.sh 300           # every target, 5 minutes each
#   scripts/fuzz.sh 30 validation # only the named targets
#
# cargo-fuzz needs nightly features; on a stable toolchain RUSTC_BOOTSTRAP=1 unlocks them.
# AddressSanitizer is used when it builds (FUZZ_SANITIZER=none turns it off). The build goes to
# $CARGO_TARGET_DIR when set, else fuzz/target; the growing corpus to fuzz/corpus/<target>,
# crash inputs to fuzz/artifacts/<target>/ (both ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(server_frame client_frame validation rest_bodies)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked --version '^0.13'
fi
export RUSTC_BOOTSTRAP=1

cd fuzz
sanitizer="${FUZZ_SANITIZER:-address}"
if ! cargo fuzz build --sanitizer "$sanitizer" --debug-assertions; then
  if [ "$sanitizer" = none ]; then
    exit 1
  fi
  echo "fuzz: the $sanitizer sanitizer does not build here; fuzzing without one" >&2
  sanitizer=none
  cargo fuzz build --sanitizer none --debug-assertions
fi

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
failed=()
summary=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  echo "fuzz: $target for ${seconds}s (sanitizer: $sanitizer)" >&2
  if cargo fuzz run --sanitizer "$sanitizer" --debug-assertions "$target" \
    "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -dict=json.dict -timeout=10 -print_final_stats=1 \
    >"$logs/$target.log" 2>&1 </dev/null; then
    outcome=ok
  else
    outcome=CRASH
    failed+=("$target")
    grep -E "panicked|ERROR: |SUMMARY|Test unit written to" "$logs/$target.log" >&2 || tail -40 "$logs/$target.log" >&2
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$target.log")"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$target.log")"
  summary+=("$(printf '%-14s %-6s %12s runs %8s/s  corpus %s' "$target" "$outcome" "${runs:-?}" \
    "${rate:-?}" "$(find "corpus/$target" -type f | wc -l)")")
done

printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz: crashes in ${failed[*]}; inputs are in fuzz/artifacts/<target>/." >&2
  echo "fuzz: reproduce with: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run <target> artifacts/<target>/<file>)" >&2
  exit 1
fi
