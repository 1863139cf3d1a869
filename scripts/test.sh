#!/usr/bin/env bash
# The test command: starts the services the tests need (each `scripts/<service>/start.sh`,
# which installs what is missing), exports their addresses, runs `cargo test --workspace`
# and the Parquet tests (with any arguments given, e.g. --locked), and stops the services again.
#   scripts/test.sh [cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# service directory -> the variable its start script's output goes into.
declare -A VARS=(
  [postgres]=STREAM_PG_URL
  [chromium]=STREAM_CHROMIUM
  [kafka]=STREAM_KAFKA_BOOTSTRAP
)

started=()
stop_all() {
  for s in "${started[@]}"; do
    "scripts/$s/stop.sh" || echo "warning: scripts/$s/stop.sh failed" >&2
  done
}
trap stop_all EXIT

for s in "${!VARS[@]}"; do
  [ -x "scripts/$s/start.sh" ] || continue
  var=${VARS[$s]}
  if [ -z "${!var:-}" ]; then
    echo "== starting $s" >&2
    value=$("scripts/$s/start.sh" | tail -n1)
    export "$var=$value"
    started+=("$s")
  fi
  echo "$var=${!var}" >&2
done

cargo test --workspace "$@"
# Parquet is an optional feature (arrow and parquet cost minutes to build): its tests too.
cargo test -p stream-runtime --features parquet --test file_sink "$@"
