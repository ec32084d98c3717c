#!/usr/bin/env bash
# The interoperability check of `make test`: Triton's Python client (tritonclient[http], from
# PyPI, installed once into .build-interop-venv) against `lathe serve`. Usage: run.sh LATHE_BINARY.
# LATHE_SKIP_INTEROP=1 skips it (for a machine without PyPI; CI has it).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${LATHE_SKIP_INTEROP:-}" = 1 ]; then echo "interop: skipped (LATHE_SKIP_INTEROP=1)"; exit 0; fi
venv=.build-interop-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import tritonclient.http' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r Tests/Interop/requirements.txt || {
        echo "error: cannot install tritonclient[http] from PyPI (set LATHE_SKIP_INTEROP=1 to skip this check)" >&2
        exit 1
    }
fi
exec "$venv/bin/python" Tests/Interop/triton_interop.py "$1"
