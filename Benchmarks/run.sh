#!/usr/bin/env bash
# Builds lathe-bench and lathe in release mode, makes a Python env with scikit-learn (once, in
# .build-bench-venv), and runs Benchmarks/run.py with the given arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Debian packages Lathe links against (the Makefile's list), installed when missing.
make --no-print-directory deps >&2
# The serving suite drives its servers with wrk (a Debian package), installed when missing.
if [ $# -eq 0 ] || printf '%s\n' "$@" | grep -qx serve; then
    if ! command -v wrk >/dev/null; then
        SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
        $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
    fi
fi
swift build -c release --product lathe-bench >&2
swift build -c release --product lathe >&2
if [ ! -x .build-bench-venv/bin/python ]; then
    python3 -m venv .build-bench-venv
    .build-bench-venv/bin/pip install -q -r scripts/requirements.txt
fi
# The serving suite's Flask app (an existing venv gets it on its first serving run).
.build-bench-venv/bin/python -c 'import flask' 2>/dev/null || .build-bench-venv/bin/pip install -q -r Benchmarks/serving/requirements.txt
exec .build-bench-venv/bin/python Benchmarks/run.py "$@"
