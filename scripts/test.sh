#!/usr/bin/env bash
# Every check CI runs: formatting, clippy with warnings denied, every test — including the
# desktop app driven end to end in a real webview under Xvfb, and schemathesis against the
# real server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/setup-app.sh
(cd ui && trunk build --release)
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The end-to-end tests run these binaries as separate processes.
cargo build --locked -p tutorchat-server -p tutorchat-app
# The REST API against its OpenAPI document, on that server binary (docs/testing.md).
bash scripts/schemathesis.sh
cargo test --workspace --locked
# The fuzz crate is its own workspace: lint it and replay its seeds and regression inputs on
# stable (fuzzing itself is scripts/fuzz.sh; docs/fuzzing.md).
(cd fuzz && cargo fmt -- --check && cargo clippy --locked --all-targets -- -D warnings &&
  cargo test --locked)
