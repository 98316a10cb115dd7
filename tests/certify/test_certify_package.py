"""The certify package is NumPy/SciPy only, exports its API and documents it with examples."""

import doctest
import subprocess
import sys

import jaxunlearn.certify as certify


def test_importing_certify_does_not_import_jax():
    code = "import sys, jaxunlearn.certify; print('jax' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_every_public_function_is_exported_with_an_example():
    for name in certify.__all__:
        function = getattr(certify, name)
        assert ">>>" in (function.__doc__ or ""), f"{name} has no runnable example"


def test_package_docstring_example_runs():
    result = doctest.testmod(certify, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
