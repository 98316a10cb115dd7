"""Makes the helper modules at the top of ``tests/`` (e.g. ``variable_fill``) importable from
every test folder."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
