#!/usr/bin/env bash
# Property-based tests of the REST API against its own OpenAPI document: schemathesis sends
# generated requests (valid and invalid) to a real `tutorchat-server --demo` on 127.0.0.1 and
# fails on any 5xx, and on any status code, content type or body the document does not declare.
#
#   scripts/schemathesis.sh            # builds the server if needed; exits non-zero on a failure
#
# Environment (all optional):
#   TUTORCHAT_SERVER_BIN     the server binary (default: $CARGO_TARGET_DIR/debug/tutorchat-server,
#                            built with cargo when missing)
#   SCHEMATHESIS_MAX_EXAMPLES  generated cases per operation and phase (default 50)
#   SCHEMATHESIS_SEED        a seed to replay a run (default: random, printed)
#   SCHEMATHESIS_VENV        where schemathesis is installed (default ~/.cache/tutorchat/…)
# See docs/testing.md for what runs, as whom, and how to reproduce a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv="${SCHEMATHESIS_VENV:-$HOME/.cache/tutorchat/schemathesis-$SCHEMATHESIS_VERSION}"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-50}"
seed="${SCHEMATHESIS_SEED:-$((RANDOM * 32768 + RANDOM))}"

# --- Python and schemathesis, installed once ------------------------------------------------
apt_install() {
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "$@"
}
if ! command -v python3 >/dev/null 2>&1; then
  echo "schemathesis: installing python3" >&2
  apt_install python3 python3-venv
fi
if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/st" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "schemathesis: installing python3-venv" >&2
    apt_install python3-venv
  fi
  echo "schemathesis: installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# --- A real server on a free port with a fresh demo school -----------------------------------
server_bin="${TUTORCHAT_SERVER_BIN:-${CARGO_TARGET_DIR:-target}/debug/tutorchat-server}"
if [ ! -x "$server_bin" ]; then
  cargo build --locked -p tutorchat-server
fi
work="$(mktemp -d)"
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

admin_token="st-admin-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
# Rate limits far above what the run sends, so 429s do not hide the answers under test.
"$server_bin" --demo --listen 127.0.0.1:0 --data-dir "$work/data" --admin-token "$admin_token" \
  --login-rate-per-minute 1000000 --api-rate-per-second 1000000 --api-burst 1000000 \
  --message-rate-per-second 1000000 --message-burst 1000000 --log warn \
  >"$work/server.out" 2>"$work/server.err" </dev/null &
server_pid=$!
base=
for _ in $(seq 100); do
  base="$(sed -n 's/^Tutorchat server listening on \(http[^ ]*\).*/\1/p' "$work/server.out")"
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "schemathesis: the server did not start" >&2
  cat "$work/server.out" "$work/server.err" >&2
  exit 1
fi
echo "schemathesis: server at $base, seed $seed, $max_examples examples per operation" >&2

login() {
  python3 - "$base" "$1" <<'PY'
import json, sys, urllib.request
base, email = sys.argv[1], sys.argv[2]
body = json.dumps({"email": email, "password": "tutorchat-demo"}).encode()
req = urllib.request.Request(base + "/api/auth/login", body, {"content-type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=10))["access_token"])
PY
}
student_token="$(login sam@tutorchat.test)"
tutor_token="$(login ada@tutorchat.test)"

# --- The runs: every operation as the caller it is meant for -----------------------------------
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
status=0
run() {
  local who="$1" token="$2"
  shift 2
  echo "schemathesis: operations for the $who" >&2
  # From the temporary directory: schemathesis keeps a cache in the working directory.
  (cd "$work" && "$venv/bin/st" --no-color run "$base/api/openapi.json" \
    --checks "$checks" --max-examples "$max_examples" --seed "$seed" \
    --phases examples,coverage,fuzzing --workers 1 --request-timeout 10 \
    --header "Authorization: Bearer $token" "$@" </dev/null) || status=1
}
run student "$student_token" --exclude-path-regex '^/api/(admin|tutors)/'
run tutor "$tutor_token" --include-path-regex '^/api/(tutors/|chats)'
run admin "$admin_token" --include-path-regex '^/api/admin/'

if grep -q "panicked" "$work/server.err"; then
  echo "schemathesis: the server panicked:" >&2
  grep -A5 "panicked" "$work/server.err" >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "schemathesis: FAILED (replay with SCHEMATHESIS_SEED=$seed)" >&2
fi
exit "$status"
