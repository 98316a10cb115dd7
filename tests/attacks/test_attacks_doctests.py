"""Every docstring example in jaxunlearn.attacks runs as written."""

import doctest
import importlib
import pkgutil

import pytest

import jaxunlearn.attacks

MODULES = [
    f"jaxunlearn.attacks.{info.name}" for info in pkgutil.iter_modules(jaxunlearn.attacks.__path__)
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_every_public_function_has_an_example():
    missing = [
        name for name in jaxunlearn.attacks.__all__
        if name[0].islower() and ">>>" not in (getattr(jaxunlearn.attacks, name).__doc__ or "")
    ]
    assert not missing, f"attacks without a runnable example: {missing}"
