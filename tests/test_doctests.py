"""Every docstring example in the public modules (config, transforms, attacks, evaluate, certify,
spectral)
runs as written, and every public transform and attack shows one."""

import doctest
import importlib
import pkgutil

import pytest

import jaxunlearn.attacks
import jaxunlearn.certify
import jaxunlearn.evaluate
import jaxunlearn.spectral
import jaxunlearn.transforms

MODULES = ["jaxunlearn.config", "jaxunlearn.methods.trw_targets"] + [
    f"{package.__name__}.{info.name}"
    for package in (jaxunlearn.transforms, jaxunlearn.attacks, jaxunlearn.evaluate,
                    jaxunlearn.certify, jaxunlearn.spectral)
    for info in pkgutil.iter_modules(package.__path__)
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


TRANSFORM_FACTORIES = (
    "add_langevin_noise", "project_l2_ball", "langevin_dynamics", "tilted_aggregate",
    "feasible_mask", "and_mask", "prob_mask", "focus_mask", "static_mask", "saliency_mask",
    "clip_spectral_norm", "phase_switch", "output_perturbation",
)


@pytest.mark.parametrize("package, names", [
    (jaxunlearn.transforms, TRANSFORM_FACTORIES),
    (jaxunlearn.attacks, [n for n in jaxunlearn.attacks.__all__ if n[0].islower()]),
], ids=["transforms", "attacks"])
def test_every_public_factory_has_an_example(package, names):
    missing = [name for name in names if ">>>" not in (getattr(package, name).__doc__ or "")]
    assert not missing, f"no runnable example in the docstring of: {missing}"
