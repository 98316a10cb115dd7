"""Every docstring example in jaxunlearn.transforms (and the config module) runs as written."""

import doctest
import importlib
import pkgutil

import pytest

import jaxunlearn.transforms

MODULES = ["jaxunlearn.config"] + [
    f"jaxunlearn.transforms.{info.name}"
    for info in pkgutil.iter_modules(jaxunlearn.transforms.__path__)
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_every_public_transform_has_an_example():
    missing = []
    for name in jaxunlearn.transforms.__all__:
        obj = getattr(jaxunlearn.transforms, name)
        if callable(obj) and not isinstance(obj, type) and name[0].islower():
            factory_like = name in {
                "add_langevin_noise", "project_l2_ball", "tilted_aggregate", "feasible_mask",
                "and_mask", "prob_mask", "focus_mask", "static_mask", "saliency_mask",
                "clip_spectral_norm",
            }
            if factory_like and ">>>" not in (obj.__doc__ or ""):
                missing.append(name)
    assert not missing, f"transforms without a runnable example: {missing}"
