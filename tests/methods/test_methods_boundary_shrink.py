"""Boundary Shrink (Chen et al., CVPR 2023): its neighbour labels against a float64 NumPy FGSM
on pixels (clamped, 8-bit rounded), its effect on a class, and its errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.data import Dataset, load_digits, make_splits
from jaxunlearn.methods import unlearn
from jaxunlearn.methods.boundary_shrink import neighbour_labels
from jaxunlearn.models import create_model_fns

from method_helpers import trained_digits_mlp


@pytest.fixture(scope="module")
def logistic():
    """Logistic regression with random weights on 300 digits (pixels /16, then standardised)."""
    train_set, test_set = load_digits()
    fns = create_model_fns("logistic_regression", 10)
    rng = np.random.default_rng(0)
    variables = fns.init(jax.random.key(0), np.asarray(train_set.inputs[:1]))
    variables = jax.tree.map(lambda leaf: jnp.asarray(rng.normal(0, 0.3, leaf.shape),
                                                      leaf.dtype), variables)
    return fns, variables, train_set.subset(np.arange(300)), test_set


def _numpy_neighbours(variables, dataset, bound):
    """argmax of the linear model at round(255 · clip(p + bound · sign(∂CE/∂p), 0, 1)) / 255,
    p the pixels; ∂CE/∂p = ((softmax − onehot) Wᵀ) / std, whose sign is that of (softmax −
    onehot) Wᵀ."""
    kernel = np.asarray(variables["params"]["linear"]["kernel"], np.float64)
    bias = np.asarray(variables["params"]["linear"]["bias"], np.float64)
    mean, std = float(dataset.mean[0]), float(dataset.std[0])
    x = np.asarray(dataset.inputs, np.float64).reshape(len(dataset.labels), -1)
    pixels = x * std + mean
    logits = x @ kernel + bias
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(p)), dataset.labels] -= 1.0
    moved = np.round(np.clip(pixels + bound * np.sign(p @ kernel.T), 0.0, 1.0) * 255.0) / 255.0
    return ((moved - mean) / std @ kernel + bias).argmax(1), moved


def test_neighbour_labels_match_a_numpy_fgsm_on_pixels(logistic):
    fns, variables, dataset, _ = logistic
    expected, moved = _numpy_neighbours(variables, dataset, 0.1)
    # the point is on the 8-bit grid inside the box, and it moved
    assert np.all((moved >= 0) & (moved <= 1))
    np.testing.assert_allclose(moved * 255, np.round(moved * 255), atol=1e-9)
    got = neighbour_labels(fns.apply, variables, jnp.asarray(dataset.inputs),
                           jnp.asarray(dataset.labels), bound=0.1,
                           mean=jnp.asarray(dataset.mean, jnp.float32),
                           std=jnp.asarray(dataset.std, jnp.float32))
    assert np.mean(np.asarray(got) == expected) >= 0.99  # ties at the 8-bit rounding aside
    original = np.asarray(fns.apply(variables, jnp.asarray(dataset.inputs), False)[0]).argmax(1)
    assert np.mean(expected != original) > 0.2  # the step crosses boundaries


def test_boundary_shrink_moves_a_class_to_its_neighbour_labels():
    """The forgotten digit's samples end predicted as their neighbour labels (the original's
    prediction at the FGSM point), which half of them differ from; the other digits stay."""
    fns, variables, train_set, test_set = trained_digits_mlp((64,), epochs=15)
    splits = make_splits(train_set, test_set, forget_classes=[3], seed=0)
    forget = splits.forget_set
    neighbours = np.asarray(neighbour_labels(
        fns.apply, variables, jnp.asarray(forget.inputs), jnp.asarray(forget.labels), bound=0.1,
        mean=jnp.asarray(forget.mean), std=jnp.asarray(forget.std)))
    result = unlearn(fns, variables, splits, "boundary_shrink", key=0, progress=False,
                     hyperparams={"epochs": 5, "learning_rate": 0.01, "forget_batch_size": 32})

    def predictions(v, data):
        return np.asarray(fns.apply(v, jnp.asarray(data.inputs), False)[0]).argmax(1)

    before, after = predictions(variables, forget), predictions(result.variables, forget)
    assert np.mean(before == forget.labels) > 0.95 and np.mean(neighbours != forget.labels) > 0.3
    assert np.mean(after == neighbours) > 0.8 > np.mean(before == neighbours) + 0.2
    assert np.mean(after == forget.labels) < np.mean(before == forget.labels) - 0.25
    others = np.asarray(test_set.labels) != 3
    kept = lambda v: np.mean(predictions(v, test_set)[others] == np.asarray(test_set.labels)[others])  # noqa: E731
    assert kept(result.variables) > kept(variables) - 0.05


@pytest.mark.parametrize("hyper, message", [
    ({"bound": 0.0}, r"bound must be > 0"),
    ({"bound": -0.1}, r"bound must be > 0"),
    ({"clamp_pixels": 1}, r"clamp_pixels must be a boolean"),
])
def test_bad_hyperparameters_are_named(logistic, hyper, message):
    fns, variables, dataset, test_set = logistic
    splits = make_splits(dataset, test_set, forget_fraction=0.1, seed=0)
    with pytest.raises(ValueError, match=message):
        unlearn(fns, variables, splits, "boundary_shrink", hyperparams=hyper, progress=False)


def test_clamping_inputs_that_are_not_pixels_is_refused(logistic):
    fns, variables, dataset, test_set = logistic
    wide = Dataset(np.asarray(dataset.inputs) * 50.0, dataset.labels, 10, name="wide",
                   mean=dataset.mean, std=dataset.std)
    splits = make_splits(wide, test_set, forget_fraction=0.1, seed=0)
    with pytest.raises(ValueError, match=r"clamp_pixels=True needs inputs .* clamp_pixels=False"):
        unlearn(fns, variables, splits, "boundary_shrink", progress=False)
    result = unlearn(fns, variables, splits, "boundary_shrink", progress=False, steps=2,
                     hyperparams={"clamp_pixels": False})
    assert all(np.isfinite(np.asarray(leaf)).all()
               for leaf in jax.tree_util.tree_leaves(result.variables))
