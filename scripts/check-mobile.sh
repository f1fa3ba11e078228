#!/usr/bin/env bash
# Type-checks the app (shell, client core, wire contract) for Android on a machine without the
# Android NDK. Not a build: see the README's "Packages" section for what this proves and for the
# real Android and iOS builds.
#
# Two crates compile C in their build scripts — `ring` (rustls' crypto) and `libsqlite3-sys`
# (rusqlite's bundled SQLite) — and need the NDK's clang for the target, so a plain
# `cargo check --target aarch64-linux-android -p tutorchat-app` stops there before reaching any
# Tauri code. `cargo check` never links, so this script points the C compiler and archiver for
# that target at `true`: their build scripts then "succeed" without compiling a line of C, and
# rustc type-checks every Rust crate — including the `#[cfg(mobile)]` side of the shell.
# With --plain it runs the unaided check instead, to show what fails.
set -euo pipefail
cd "$(dirname "$0")/.."

target=aarch64-linux-android
rustup target list --installed | grep -q "^$target\$" || rustup target add "$target"

# The shell embeds the UI at compile time, so it must be built first.
[ -f ui/dist/index.html ] || (cd ui && trunk build --release)
if [ "${1:-}" = "--plain" ]; then
  exec cargo check --locked --keep-going --target "$target" -p tutorchat-app
fi
if [ -n "${ANDROID_NDK_HOME:-${NDK_HOME:-}}" ]; then
  echo "check-mobile: an NDK is set; use it (cargo tauri android build) rather than this check" >&2
fi
CC_aarch64_linux_android=true AR_aarch64_linux_android=true \
  cargo check --locked --target "$target" -p tutorchat-app "$@"
echo "check-mobile: the app's Rust type-checks for $target (its C was not compiled)"
