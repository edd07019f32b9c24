# Sourced by the corio-py harness scripts (uvloop_tests.sh, examples.sh,
# ../bench/run.sh): makes (or reuses) the virtualenv they run in, installs
# what they need, and builds and installs corio's wheel into it.
#
#   PYTHON          the interpreter (default: CPython 3.12, else 3.13, else
#                   3.11 from /root/.pyenv/versions, else python3)
#   VENV            use this virtualenv instead of making one under
#                   target/corio-py-harness/
#   CORIO_PY_NO_BUILD=1  do not build corio (use what the venv has)
#   CARGO_TARGET_DIR     where cargo builds (default: the workspace's target/)
#
# Sets HARNESS_PY (the venv's python), HARNESS_DIR (the cache folder),
# CRATE_DIR and REPO_DIR.

CRATE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$CRATE_DIR/../.." && pwd)"
HARNESS_DIR="${CORIO_PY_HARNESS_DIR:-$REPO_DIR/target/corio-py-harness}"
export CORIO_PY_HARNESS_DIR="$HARNESS_DIR"
mkdir -p "$HARNESS_DIR"

if [ -z "${PYTHON:-}" ]; then
    for v in 3.12 3.13 3.11; do
        cand=$(ls -d /root/.pyenv/versions/$v.*/bin/python$v 2>/dev/null | sort -V | tail -1)
        if [ -n "$cand" ]; then PYTHON=$cand; break; fi
    done
    PYTHON=${PYTHON:-python3}
fi
PYVER=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV="${VENV:-$HARNESS_DIR/venv-$PYVER}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "harness: making $VENV with $PYTHON" >&2
    "$PYTHON" -m venv "$VENV"
fi
HARNESS_PY="$VENV/bin/python"

# uvloop's test requirements (its pyproject's `test` extra, less the linters
# of its own source tree), the comparison loops, and the build tool.
REQS="pytest pytest-timeout uvloop==0.23.0 psutil pyOpenSSL aiohttp maturin>=1.5,<2"
stamp="$VENV/.corio-harness-reqs"
if [ "$(cat "$stamp" 2>/dev/null)" != "$REQS rloop" ]; then
    "$HARNESS_PY" -m pip install -q $REQS >&2
    "$HARNESS_PY" -m pip install -q rloop==0.5.0 >&2 ||
        echo "harness: rloop did not install; its rows and runs are skipped" >&2
    echo "$REQS rloop" > "$stamp"
fi

if [ "${CORIO_PY_NO_BUILD:-0}" != 1 ]; then
    if [ -f "$CRATE_DIR/pyproject.toml" ]; then
        wheels="$HARNESS_DIR/wheels"
        rm -rf "$wheels"
        (cd "$CRATE_DIR" &&
            CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_DIR/target}" \
            "$VENV/bin/maturin" build --release -q -o "$wheels" -i "$HARNESS_PY") >&2
        "$HARNESS_PY" -m pip install -q --force-reinstall --no-deps "$wheels"/corio-*.whl >&2
    else
        echo "harness: no crates/corio-py/pyproject.toml: corio not built" >&2
    fi
fi
