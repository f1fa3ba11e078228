#!/usr/bin/env bash
# The main job: start the server with the demo school on 127.0.0.1:8080 and the desktop app on
# its login screen. Needs a graphical session (DISPLAY or WAYLAND_DISPLAY). Data lives in
# ./data (server) and the OS data directory (app). Extra arguments go to the server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/setup-app.sh
(cd ui && trunk build --release)
cargo build --release -p tutorchat-server
cargo build --release -p tutorchat-app --features custom-protocol
./target/release/tutorchat-server --demo --data-dir "${TUTORCHAT_DATA_DIR:-data}" "$@" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
sleep 1
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "No graphical session: the server runs on http://127.0.0.1:8080 (Ctrl-C to stop)." >&2
  echo "Open the app on a desktop with ./target/release/tutorchat-app" >&2
  wait "$server"
else
  ./target/release/tutorchat-app
fi
