# Shared by start.sh and stop.sh: where the test cluster lives and how to run PostgreSQL's
# tools (as the `postgres` user when run as root, since initdb refuses root).
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# One cluster per checkout, in /tmp so that the `postgres` user can reach it whatever the
# permissions of the checkout's parents.
PGDIR=${STREAM_PG_DIR:-/tmp/stream-pg-$(printf '%s' "$repo" | cksum | cut -d' ' -f1)}

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
