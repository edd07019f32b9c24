"""uvloop's own `uvloop/_testbase.py`, read from the downloaded sdist (the
file named by $CORIO_UVLOOP_TESTBASE) and run unchanged as this module. Its
`UVTestCase.new_loop()` calls `uvloop.new_event_loop()`, which the shim
package (this folder's __init__.py) points at the loop under test."""

import os as _os

_path = _os.environ.get("CORIO_UVLOOP_TESTBASE")
if not _path or not _os.path.isfile(_path):
    raise ImportError("set CORIO_UVLOOP_TESTBASE to the sdist's "
                      "uvloop/_testbase.py (scripts/uvloop_suite.py does)")
with open(_path, encoding="utf-8") as _f:
    exec(compile(_f.read(), _path, "exec"))
