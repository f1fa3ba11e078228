#!/usr/bin/env bash
# Installs what building and testing the desktop app needs (Tauri 2 + Yew): WebKitGTK and
# friends from apt (with GNOME Keyring and secret-tool for the Secret Service test in
# client/tests, and an emoji font so "📷 Photo" shows as it does on a desktop), the wasm target, and trunk, wasm-bindgen-cli and tauri-driver from
# crates.io. Skips whatever is already there at the right version. Sourced by run.sh/test.sh.
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.21.14

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
need_apt=()
for pkg in build-essential pkg-config file libwebkit2gtk-4.1-dev libayatana-appindicator3-dev \
           libsoup-3.0-dev xvfb xauth webkit2gtk-driver dbus dunst keyutils libxdo3 xdotool \
           gnome-keyring libsecret-tools fonts-noto-color-emoji; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  echo "setup-app: installing ${need_apt[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown

have_version() { # tool, expected version substring
  command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q "$2"
}
# Tools go to the cargo bin dir; CI machines may keep it between runs.
have_version trunk "$TRUNK_VERSION" || cargo install --locked trunk --version "$TRUNK_VERSION"
# Without --locked: its lockfile pins a webpki-roots the registry here lacks.
have_version wasm-bindgen "$WASM_BINDGEN_VERSION" || cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
command -v tauri-driver >/dev/null 2>&1 || cargo install --locked tauri-driver --version "^2"
