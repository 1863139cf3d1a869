#!/usr/bin/env bash
# Stops the test PostgreSQL server started by start.sh (if it runs), keeping its data.
set -euo pipefail
source "$(dirname "$0")/common.sh"

bin=$(pg_bin) || exit 0
if [ -f "$PGDIR/data/PG_VERSION" ] && as_owner "$bin/pg_ctl" status -D "$PGDIR/data" >/dev/null 2>&1; then
  as_owner "$bin/pg_ctl" stop -D "$PGDIR/data" -m fast -w >&2
fi
