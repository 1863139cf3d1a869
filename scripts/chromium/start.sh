#!/usr/bin/env bash
# "Starts" chromium for the tests: installs Debian's chromium if it is missing (idempotent, with
# apt-get), and prints the path of its binary, for STREAM_CHROMIUM:
#   export STREAM_CHROMIUM=$(scripts/chromium/start.sh)
# Each test launches its own headless browser from it, so there is nothing to keep running.
# The web UI's browser test (stream-runtime/tests/ui_browser.rs) runs it headless; it reads the path
# from STREAM_CHROMIUM, or runs this script itself.
set -euo pipefail

find_chromium() {
  for c in chromium chromium-browser; do
    if command -v "$c" >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

if ! path=$(find_chromium); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "chromium is missing and installing it needs root: apt-get install chromium" >&2
    exit 1
  fi
  echo "installing chromium with apt-get..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
  path=$(find_chromium) || { echo "chromium was installed but is not on PATH" >&2; exit 1; }
fi
echo "$path"
