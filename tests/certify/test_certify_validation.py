"""Invalid arguments raise a ValueError that names the argument."""

import math

import numpy as np
import pytest

from jaxunlearn import certify

LANGEVIN = dict(sigma=0.03, steps=10, n_private=1000, strong_convexity=0.01, step_size=3.8)
PNSGD = dict(step_size=3.8, strong_convexity=0.01, clip_norm=1.0, n=1000, batch_size=100,
             sigma=0.03)
CURVE = lambda a: a / 2.0  # noqa: E731


def sensitivity(**overrides):
    kwargs = dict(num_deleted=1, clip_norm=1.0, n_private=100)
    kwargs.update(overrides)
    return certify.gradient_sensitivity(**kwargs)


def langevin(**overrides):
    return certify.langevin_epsilon(**{**LANGEVIN, **overrides})


CASES = [
    # gradient_sensitivity
    (lambda: sensitivity(num_deleted=101), "num_deleted"),
    (lambda: sensitivity(num_deleted=0), "num_deleted"),
    (lambda: sensitivity(num_deleted=1.5), "num_deleted"),
    (lambda: sensitivity(clip_norm=0.0), "clip_norm"),
    (lambda: sensitivity(clip_norm=math.inf), "clip_norm"),
    (lambda: sensitivity(n_private=0), "n_private"),
    (lambda: sensitivity(n_public=-1), "n_public"),
    (lambda: sensitivity(n_public=10, public_weight=1.0), "public_weight"),
    (lambda: sensitivity(n_public=10, public_weight=-0.1), "public_weight"),
    (lambda: sensitivity(public_weight=0.5), "public_weight"),
    (lambda: sensitivity(adjacency="swap"), "adjacency"),
    (lambda: sensitivity(num_deleted=100, adjacency="remove"), "num_deleted"),
    (lambda: certify.logistic_constants(0.0, 10), "regularization"),
    (lambda: certify.logistic_constants(1e-6, 0), "n_total"),
    # Langevin bounds
    (lambda: certify.lu_eps0(1.0, 0.1, 0.01, 0.03), "alpha"),
    (lambda: certify.lu_eps0(np.array([2.0, 0.5]), 0.1, 0.01, 0.03), "alpha"),
    (lambda: certify.lu_eps0(math.nan, 0.1, 0.01, 0.03), "alpha"),
    (lambda: certify.lu_eps0(2.0, -0.1, 0.01, 0.03), "sensitivity"),
    (lambda: certify.lu_eps0(2.0, 0.1, 0.0, 0.03), "strong_convexity"),
    (lambda: certify.lu_eps0(2.0, 0.1, 0.01, 0.0), "sigma"),
    (lambda: certify.lu_eps0(2.0, 0.1, 0.01, -1.0), "sigma"),
    (lambda: certify.lu_renyi(2.0, -1, 3.8, 0.01, 1.0), "steps"),
    (lambda: certify.lu_renyi(2.0, 1, 0.0, 0.01, 1.0), "step_size"),
    (lambda: certify.lu_renyi(2.0, 1, 3.8, 0.01, -1.0), "eps0"),
    (lambda: certify.lu_renyi(2.0, 1, 3.8, 0.01, lambda a: -a), "eps0"),
    (lambda: certify.lu_sequential(2.0, [], 3.8, 0.01, 0.1, 0.03), "steps_list"),
    (lambda: certify.lu_sequential(2.0, [1, -2], 3.8, 0.01, 0.1, 0.03), r"steps_list\[1\]"),
    (lambda: certify.lu_sequential(2.0, [1, 2], 3.8, 0.01, [0.1], 0.03), "sensitivity"),
    # PNSGD bounds
    (lambda: certify.pnsgd_Z(3.8, 0.01, 1.0, 1000, 1001), "batch_size"),
    (lambda: certify.pnsgd_Z(3.8, 0.01, 1.0, 1000, 0), "batch_size"),
    (lambda: certify.pnsgd_Z(200.0, 0.01, 1.0, 1000, 10), "step_size"),
    (lambda: certify.pnsgd_Z(3.8, 0.01, 1.0, 1000, 10, radius=0.0), "radius"),
    (lambda: certify.pnsgd_renyi(2.0, -1, **PNSGD), "epochs"),
    (lambda: certify.pnsgd_renyi(0.5, 1, **PNSGD), "alpha"),
    (lambda: certify.pnsgd_renyi(2.0, 1, **{**PNSGD, "sigma": 0.0}), "sigma"),
    (lambda: certify.pnsgd_sequential(2.0, [], **PNSGD), "epochs_list"),
    (lambda: certify.pnsgd_renyi_finite_T(2.0, 1, 1, 1.0, q=1.0, **PNSGD), "q"),
    (lambda: certify.pnsgd_renyi_finite_T(2.0, 1, -1, 1.0, **PNSGD), "learn_epochs"),
    (lambda: certify.pnsgd_renyi_finite_T(2.0, 1, 1, 0.0, **PNSGD), "radius"),
    # conversion and inverses
    (lambda: certify.rdp_to_dp(CURVE, 0.0), "delta"),
    (lambda: certify.rdp_to_dp(CURVE, 1.0), "delta"),
    (lambda: certify.rdp_to_dp(CURVE, 1e-5, method="renyi"), "method"),
    (lambda: certify.rdp_to_dp(CURVE, 1e-5, alpha_range=(1.0, 10.0)), r"alpha_range\[0\]"),
    (lambda: certify.rdp_to_dp(CURVE, 1e-5, alpha_range=(10.0, 2.0)), "alpha_range"),
    (lambda: certify.rdp_to_dp(CURVE, 1e-5, alpha_range=(2.0, math.inf)), r"alpha_range\[1\]"),
    (lambda: certify.rdp_to_dp(lambda a: -a, 1e-5), "renyi_fn"),
    (lambda: certify.rdp_to_dp(3.0, 1e-5), "renyi_fn"),
    (lambda: certify.steps_for_target(0.0, 1e-5, lambda a, k: a), "target_epsilon"),
    (lambda: certify.steps_for_target(1.0, 1e-5, lambda a, k: a, max_steps=0), "max_steps"),
    (lambda: certify.sigma_for_target(1.0, 1e-5, lambda a, s: a / s**2, bracket=(0.0, 1.0)),
     r"bracket\[0\]"),
    (lambda: certify.sigma_for_target(1.0, 1e-5, lambda a, s: a / s**2, bracket=(5.0, 1.0)),
     "bracket"),
    (lambda: certify.sigma_for_target(-1.0, 1e-5, lambda a, s: a / s**2), "target_epsilon"),
    # baselines
    (lambda: certify.d2d_sigma(iterations=0, strong_convexity=0.01, smoothness=0.26,
                               clip_norm=1.0, n=100, epsilon=1.0, delta=0.01), "iterations"),
    (lambda: certify.d2d_sigma(iterations=1, strong_convexity=0.3, smoothness=0.26,
                               clip_norm=1.0, n=100, epsilon=1.0, delta=0.01), "smoothness"),
    (lambda: certify.d2d_sigma(iterations=1, strong_convexity=0.01, smoothness=0.26,
                               clip_norm=1.0, n=100, epsilon=0.0, delta=0.01), "epsilon"),
    (lambda: certify.pabi_sigma(0.0, 1.0, 0.1, 10, 1.0), "C0"),
    (lambda: certify.pabi_sigma(1.0, 1.0, 0.1, 0, 1.0), "T"),
    (lambda: certify.pabi_sigma(1.0, 1.0, 0.1, 10, 0.0), "eps_R"),
    (lambda: certify.pabi_sigma(1.0, 1.0, 0.1, 10, 1.0, weight_decay=20.0), "weight_decay"),
    # high level
    (lambda: langevin(sigma=0.0), "sigma"),
    (lambda: langevin(sigma=-0.1), "sigma"),
    (lambda: langevin(steps=-1), "steps"),
    (lambda: langevin(num_deleted=1001), "num_deleted"),
    (lambda: langevin(n_public=10, public_weight=1.5), "public_weight"),
    (lambda: langevin(step_size=5.0, smoothness=0.26), "step_size"),
    (lambda: langevin(strong_convexity=0.3, smoothness=0.26, step_size=1.0), "strong_convexity"),
    (lambda: langevin(delta=2.0), "delta"),
    (lambda: langevin(method="classic"), "method"),
    (lambda: langevin(alpha_range=(0.5, 10.0)), "alpha_range"),
    (lambda: certify.langevin_steps_for_target(0.0, **{k: v for k, v in LANGEVIN.items()
                                                       if k != "steps"}), "target_epsilon"),
    (lambda: certify.langevin_sigma_for_target(1.0, -1, **{k: v for k, v in LANGEVIN.items()
                                                          if k not in ("steps", "sigma")}),
     "steps"),
]


@pytest.mark.parametrize("call, name", CASES, ids=[f"{i}-{c[1]}" for i, c in enumerate(CASES)])
def test_invalid_argument_is_named(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_booleans_and_strings_are_not_numbers():
    with pytest.raises(ValueError, match="sigma"):
        langevin(sigma=True)
    with pytest.raises(ValueError, match="n_private"):
        langevin(n_private="1000")


def test_step_size_at_exactly_one_over_smoothness_is_accepted():
    assert langevin(step_size=1 / 0.26, smoothness=0.26)["epsilon"] > 0
