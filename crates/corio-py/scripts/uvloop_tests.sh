#!/usr/bin/env bash
# uvloop's own test suite (its sdist, downloaded at test time) against
# corio's event loop: builds corio into the harness virtualenv (venv.sh) and
# runs uvloop_suite.py. Arguments go to uvloop_suite.py:
#   scripts/uvloop_tests.sh                      # all files, against corio
#   scripts/uvloop_tests.sh --target uvloop      # validate: uvloop itself
#   scripts/uvloop_tests.sh --target asyncio test_tcp.py test_udp.py
# Counts per file, the failures and the known gaps are printed as markdown
# and kept under target/corio-py-harness/runs/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
exec "$HARNESS_PY" "$CRATE_DIR/scripts/uvloop_suite.py" "$@"
