#!/usr/bin/env bash
# The provider components in a second host runtime, from a clean clone: builds the NextCloud and
# OpenCloud components, transpiles them with jco, starts a NextCloud and an OpenCloud stand-in,
# and runs the Node.js host (run.js) against each. Exits non-zero when anything fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

echo "-- npm ci (pinned jco and preview2-shim)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

echo "-- the provider components (wasm32-wasip2, the workspace's guest profile)"
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
cargo build --quiet -p nextcloud-provider -p opencloud-provider --profile guest --target wasm32-wasip2
target="$(cargo metadata --format-version 1 --no-deps | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
rm -rf "$here/build"
for name in nextcloud opencloud; do
  wasm="$target/wasm32-wasip2/guest/${name}_provider.wasm"
  # A component's preamble is \0asm, version 0x0d, layer 1 (a core module's: version 1, layer 0).
  [ "$(od -An -tx1 -N8 "$wasm" | tr -d ' \n')" = "0061736d0d000100" ] \
    || { echo "error: $wasm is not a component" >&2; exit 1; }
  (cd "$here" && npx --no-install jco transpile "$wasm" -o "build/$name" \
    --instantiation async --no-typescript --quiet)
done

echo "-- the stand-ins"
cargo build --quiet -p shared-folder-harness --bin nextcloud-standin
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# start_standin KIND: starts the stand-in on a free port (into KIND_port), waits until it listens.
start_standin() {
  local kind="$1" port
  port="$(free_port)"
  printf -v "${kind}_port" '%s' "$port"
  "$target/debug/nextcloud-standin" --provider "$kind" --port "$port" >"$work/$kind.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 100); do
    grep -q "stand-in at" "$work/$kind.log" && return
    sleep 0.1
  done
  echo "error: the $kind stand-in did not start:" >&2
  cat "$work/$kind.log" >&2
  exit 1
}
start_standin nextcloud
start_standin opencloud

# write_config KIND PORT: the stand-in's test account, as it printed it, in a `[shared_folder]`.
write_config() {
  local kind="$1" port="$2" account
  account="$(sed -n 's/^account: username "\([^"]*\)", [a-z ]* "\([^"]*\)".*/\1 \2/p' "$work/$kind.log")"
  [ -n "$account" ] || { echo "error: no account in the $kind stand-in's output" >&2; exit 1; }
  cat >"$work/$kind.toml" <<TOML
[shared_folder]
provider = "$kind"
url = "http://127.0.0.1:$port/"
username = "${account%% *}"
password = "${account#* }"
directory = "opentalk/meetings"
expiry = 30
TOML
}
write_config nextcloud "$nextcloud_port"
write_config opencloud "$opencloud_port"

status=0
for name in nextcloud opencloud; do
  echo "-- the Node.js host against the $name stand-in"
  node "$here/run.js" --config "$work/$name.toml" --components "$here/build" || status=1
done
exit "$status"
