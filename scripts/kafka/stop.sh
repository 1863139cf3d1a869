#!/usr/bin/env bash
# Stops the broker that scripts/kafka/start.sh started (SIGTERM, then SIGKILL after 30 s).
# Its data stays in .kafka/data; `stop.sh --wipe` removes it too, so the next start is fresh.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="${STREAM_KAFKA_DIR:-$root/.kafka}"

if [ -f "$dir/pid" ]; then
  pid="$(cat "$dir/pid")"
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka: stopping the broker (pid $pid)" >&2
    kill "$pid"
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "kafka: still running after 30 s: killing it" >&2
      kill -9 "$pid"
    fi
  fi
  rm -f "$dir/pid"
else
  echo "kafka: no broker started by start.sh is running" >&2
fi
if [ "${1:-}" = "--wipe" ]; then
  rm -rf "$dir/data" "$dir/server.log" "$dir/stdout.log"
fi
