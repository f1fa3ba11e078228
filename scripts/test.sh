#!/usr/bin/env bash
# Every check CI runs: formatting, clippy with warnings denied, every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
