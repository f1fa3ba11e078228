#!/usr/bin/env bash
# Builds the Linux installer: a .deb of the desktop app, with the Tauri CLI (which runs the UI
# build, `beforeBuildCommand` in src-tauri/tauri.conf.json, then a release build). Run before a
# release, not in CI: a cold run compiles the Tauri CLI and a release build of the app (see the
# README for the times measured).
#
#   scripts/package.sh          build the .deb; prints its path
#   scripts/package.sh --test   also install it (dpkg, then apt-get -f for its dependencies),
#                               launch the INSTALLED binary under Xvfb with a private D-Bus,
#                               sign in to a real `tutorchat-server --demo` on 127.0.0.1 and
#                               check the chat list (tests/e2e/installed.rs); a screenshot of it
#                               goes to $TUTORCHAT_SCREENSHOTS (default: <target>/package-test).
#
# AppImage, MSI/NSIS and DMG are configured in tauri.conf.json but need a networked Linux
# machine, Windows or macOS respectively: see the README.
set -euo pipefail
cd "$(dirname "$0")/.."

run_test=0
for arg in "$@"; do
  case "$arg" in
    --test) run_test=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "package.sh: unknown argument $arg (expected --test)" >&2; exit 2 ;;
  esac
done

source scripts/setup.sh
source scripts/setup-app.sh
# The Tauri CLI is only needed for bundles, so it is installed here rather than by setup.
if ! cargo tauri --version 2>/dev/null | grep -q '^tauri-cli 2\.'; then
  echo "package: installing tauri-cli 2 (a few minutes, once)" >&2
  cargo install tauri-cli --version "^2" --locked
fi

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
started=$(date +%s)
# Build, strip, then bundle: the release profile keeps line tables for backtraces (180 MB of
# debug info here), which a package should not ship; stripping only the packaged binary keeps
# the profile — and everyone's build cache — as it is.
(cd src-tauri && cargo tauri build --no-bundle)
strip --strip-debug "$target_dir/release/tutorchat-app"
(cd src-tauri && cargo tauri bundle --bundles deb)
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' src-tauri/tauri.conf.json)
debs=("$target_dir"/release/bundle/deb/Tutorchat_"$version"_*.deb)
deb="${debs[0]}"
echo "package: built $deb ($(du -h "$deb" | cut -f1)) in $(($(date +%s) - started)) s"

((run_test)) || exit 0

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "package: installing $deb" >&2
if ! "${sudo_cmd[@]}" dpkg -i "$deb"; then
  # dpkg leaves the package unconfigured when a dependency is missing; apt brings them in.
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get -f install -y -qq
fi
mapfile -t binaries < <(dpkg -L "$(dpkg-deb -f "$deb" Package)" | grep '^/usr/bin/')
installed="${binaries[0]}"
echo "package: installed $installed" >&2

# The test drives the installed binary against a debug server built from this checkout.
export TUTORCHAT_INSTALLED_APP="$installed"
export TUTORCHAT_SCREENSHOTS="${TUTORCHAT_SCREENSHOTS:-$target_dir/package-test}"
cargo build --locked -p tutorchat-server
cargo test --locked -p tutorchat-e2e --test e2e installed -- --ignored --nocapture
echo "package: the installed app signed in and showed the chat list;" \
     "screenshot: $TUTORCHAT_SCREENSHOTS/installed-chat-list.png"
