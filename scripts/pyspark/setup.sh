#!/usr/bin/env bash
# Installs pyspark (and what it needs: Java 17+, Python's venv) for the tests that check that
# Spark reads what the file sink writes. Idempotent: what is there is kept. Prints
# `STREAM_PYSPARK=<python of the virtualenv>` on its last line; the tests read that variable, or
# run this script when it is not set.
#
# The virtualenv goes to $STREAM_PYSPARK_VENV, or $CARGO_TARGET_DIR/pyspark-venv, or
# <repo>/target/pyspark-venv.
set -euo pipefail

PYSPARK_VERSION="4.3.0"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${STREAM_PYSPARK_VENV:-${CARGO_TARGET_DIR:-$repo/target}/pyspark-venv}"

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "$@" >&2
}

if ! java -version >/dev/null 2>&1; then
    echo "pyspark: installing Java 17" >&2
    apt_install openjdk-17-jre-headless
fi
if ! command -v python3 >/dev/null; then
    echo "pyspark: installing Python 3" >&2
    apt_install python3 python3-venv
fi
if [ ! -x "$venv/bin/python" ]; then
    echo "pyspark: creating the virtualenv $venv" >&2
    mkdir -p "$(dirname "$venv")"
    if ! python3 -m venv "$venv" >&2; then
        apt_install python3-venv
        python3 -m venv "$venv" >&2
    fi
fi
if ! "$venv/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION')" 2>/dev/null; then
    echo "pyspark: installing pyspark $PYSPARK_VERSION (a few minutes the first time)" >&2
    "$venv/bin/pip" install -q "pyspark==$PYSPARK_VERSION" >&2
fi
echo "STREAM_PYSPARK=$venv/bin/python"
