#!/usr/bin/env bash
# corio-py from a clean clone: a virtualenv under target/, maturin + pytest,
# a release build of the extension, then the pytest suite. Usage:
#   bash crates/corio-py/ci.sh            (python3 on PATH)
#   PYTHON=python3.12 bash crates/corio-py/ci.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
venv="$root/target/corio-py-venv-$version"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check maturin pytest
# `maturin develop` needs VIRTUAL_ENV to find the environment it installs into.
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"
(cd "$here" && maturin develop --release --quiet)
cd "$here"
python -m pytest -q tests/test_*.py "$@"
