#!/usr/bin/env bash
# Python event-loop benchmarks (asyncio vs uvloop vs rloop vs corio, same
# run, interleaved): builds corio (release) into the harness virtualenv
# (../scripts/venv.sh) and runs bench.py; arguments go to bench.py:
#   bench/run.sh --quick            # < 60 s smoke run
#   bench/run.sh --samples 5 --out target/corio-py-harness/bench.md
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/venv.sh"
exec "$HARNESS_PY" "$CRATE_DIR/bench/bench.py" "$@"
