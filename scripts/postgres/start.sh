#!/usr/bin/env bash
# Starts a PostgreSQL server for the tests on 127.0.0.1 (installing Debian's `postgresql` with
# apt-get if it is missing), idempotently: if it already runs, just prints its URL. The URL is
# the only line on stdout, for STREAM_PG_URL:
#   export STREAM_PG_URL=$(scripts/postgres/start.sh)
# The cluster lives in /tmp/stream-pg-<checkout> (or STREAM_PG_DIR), trusts local connections,
# and is stopped by scripts/postgres/stop.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"

if ! bin=$(pg_bin); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is missing and installing it needs root: apt-get install postgresql" >&2
    exit 1
  fi
  echo "installing postgresql with apt-get..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  bin=$(pg_bin)
fi

url() {
  echo "postgresql://postgres@127.0.0.1:$(cat "$PGDIR/port")/postgres"
}

if [ -f "$PGDIR/port" ] && as_owner "$bin/pg_ctl" status -D "$PGDIR/data" >/dev/null 2>&1; then
  url
  exit 0
fi

mkdir -p "$PGDIR"
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$PGDIR"
fi
if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
  as_owner "$bin/initdb" -D "$PGDIR/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 || {
    cat "$PGDIR/initdb.log" >&2
    exit 1
  }
fi
# A free port, chosen by the kernel.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)))
as_owner sh -c "echo $port > '$PGDIR/port'"
as_owner "$bin/pg_ctl" start -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$PGDIR' -c fsync=off" >&2 || {
  tail -20 "$PGDIR/server.log" >&2
  exit 1
}
url
