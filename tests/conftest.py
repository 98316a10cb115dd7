"""Makes the helper modules at the top of ``tests/`` (e.g. ``variable_fill``) importable from
every test folder."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# The command line's persistent compilation cache stays off in tests (in-process calls would turn
# it on for the whole test process); tests/test_cli_compile_cache.py turns it on where it checks it.
os.environ.setdefault("JAXUNLEARN_NO_COMPILE_CACHE", "1")
