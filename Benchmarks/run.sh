#!/usr/bin/env bash
# Builds lathe-bench and lathe in release mode, makes a Python env with scikit-learn (once, in
# .build-bench-venv), and runs Benchmarks/run.py with the given arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product lathe-bench >&2
swift build -c release --product lathe >&2
if [ ! -x .build-bench-venv/bin/python ]; then
    python3 -m venv .build-bench-venv
    .build-bench-venv/bin/pip install -q -r scripts/requirements.txt
fi
exec .build-bench-venv/bin/python Benchmarks/run.py "$@"
