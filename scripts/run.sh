#!/usr/bin/env bash
# The main job: build and start the Tutorchat server with the demo school on 127.0.0.1:8080.
# Extra arguments go to the server (e.g. --listen 0.0.0.0:8080). Data lives in ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release -p tutorchat-server
exec ./target/release/tutorchat-server --demo --data-dir "${TUTORCHAT_DATA_DIR:-data}" "$@"
