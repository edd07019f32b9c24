#!/usr/bin/env bash
# The asyncio documentation's examples, verbatim, on asyncio's loop and on
# corio's (or $CORIO_PY_LOOP's: asyncio, uvloop, rloop): same output wanted.
# Builds corio into the harness virtualenv (venv.sh), then runs pytest on
# tests/examples; extra arguments go to pytest (-k queue, -x, ...).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$CRATE_DIR"
# --noconftest: the examples need none of tests/conftest.py's fixtures (and
# must run where corio is not importable, to check the runner on uvloop).
exec "$HARNESS_PY" -m pytest --noconftest -p no:cacheprovider -q \
    tests/examples "$@"
