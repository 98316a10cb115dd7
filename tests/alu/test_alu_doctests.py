"""Every docstring example in jaxunlearn.alu runs as written."""

import doctest
import importlib
import pkgutil

import pytest

import jaxunlearn.alu

MODULES = [f"jaxunlearn.alu.{info.name}" for info in pkgutil.iter_modules(jaxunlearn.alu.__path__)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
