"""SVD unlearning (Kodge et al., TMLR 2024): the one-shot kernel projection against a float64
NumPy replay on a digits MLP, a closed form on a linear model whose forget and retain inputs
span orthogonal subspaces, the conv-kernel layout against XLA's own patches, and the method
through ``unlearn_many`` and its checks."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.data import from_arrays, make_splits
from jaxunlearn.methods import unlearn, unlearn_many
from jaxunlearn.methods.svd_unlearning import project_kernel
from jaxunlearn.models import create_model_fns
from jaxunlearn.train import stack_models
from tests.methods.method_helpers import (
    assert_trees_close, mlp_logits_float64, trained_digits_mlp,
)


@pytest.fixture(scope="module")
def digits_mlp():
    fns, variables, train_set, test_set = trained_digits_mlp((32,), epochs=5)
    return fns, variables, make_splits(train_set, test_set, forget_classes=[3], seed=0)


def _soft(representation, alpha):
    u, s, _ = np.linalg.svd(representation, full_matrices=False)
    r = s ** 2 / (s ** 2).sum()
    return u @ np.diag(alpha * r / ((alpha - 1) * r + 1)) @ u.T


def test_projection_matches_a_float64_replay_on_an_mlp(digits_mlp):
    """Samples as the code takes them (the first 100 of each remaining class in training order;
    all 146 rows of the forgotten class, fewer than 900), every dense layer's inputs, M = U
    diag(αr/((α−1)r+1)) Uᵀ, W ← (I − M_f + M_f M_r) W; biases untouched; no step."""
    fns, variables, splits = digits_mlp
    result = unlearn(fns, variables, splits, "svd_unlearning", key=0, progress=False)
    assert result.log["steps"] == 0 and result.log["forget_samples"] == 146
    labels = np.asarray(splits.train.labels)
    retain_rows = np.concatenate([np.asarray(splits.retain_indices)[
        labels[splits.retain_indices] == c][:100] for c in range(10) if c != 3])
    forget_rows = np.asarray(splits.forget_indices)
    params = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), variables["params"])
    inputs = {name: np.asarray(splits.train.inputs[rows], np.float64).reshape(len(rows), -1)
              for name, rows in (("retain", retain_rows), ("forget", forget_rows))}
    hidden = {name: np.maximum(x @ params["hidden_0"]["kernel"] + params["hidden_0"]["bias"], 0)
              for name, x in inputs.items()}
    for layer, acts in (("hidden_0", inputs), ("head", hidden)):
        m_r, m_f = _soft(acts["retain"].T, 100.0), _soft(acts["forget"].T, 3.0)
        expected = (np.eye(len(m_f)) - m_f + m_f @ m_r) @ params[layer]["kernel"]
        got = result.variables["params"][layer]
        np.testing.assert_allclose(np.asarray(got["kernel"]), expected, rtol=2e-4, atol=2e-5)
        np.testing.assert_array_equal(np.asarray(got["bias"]),
                                      np.asarray(variables["params"][layer]["bias"]))
    # it forgets: most of class 3 now goes elsewhere, while the other classes mostly stay
    before = mlp_logits_float64(variables["params"], splits.forget_set.inputs).argmax(-1)
    after = mlp_logits_float64(result.variables["params"], splits.forget_set.inputs).argmax(-1)
    assert (after == 3).mean() < 0.5 * (before == 3).mean()


def test_orthogonal_forget_features_are_projected_out_in_closed_form():
    """Softmax regression on 8 features: the forgotten class uses features 5–7 only, the others
    features 0–4. M_f M_r = 0, so P = I − M_f; with α_f huge every used forget direction has λ
    ≈ 1 and P zeroes the kernel rows of features 5–7 (exactly what the forget inputs read)
    while leaving rows 0–4 as they were."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 50)
    inputs = np.zeros((200, 8), np.float32)
    inputs[labels != 2, :5] = rng.normal(size=(150, 5))
    inputs[labels == 2, 5:] = rng.normal(size=(50, 3))
    data = from_arrays(inputs, labels, num_classes=4, name="orthogonal")
    splits = make_splits(data, data.subset(np.arange(20)), forget_classes=[2], seed=0)
    fns = create_model_fns("logistic_regression", 4)
    variables = fns.init(jax.random.key(0), inputs[:1])
    result = unlearn(fns, variables, splits, "svd_unlearning", progress=False,
                     hyperparams={"alpha_f": 1e9, "samples": 120})
    kernel = np.asarray(variables["params"]["linear"]["kernel"])
    new = np.asarray(result.variables["params"]["linear"]["kernel"])
    np.testing.assert_allclose(new[5:], 0.0, atol=1e-5)
    np.testing.assert_allclose(new[:5], kernel[:5], rtol=1e-5, atol=1e-6)


def test_conv_kernels_are_projected_in_patch_space():
    """A conv with kernel P W (as the (C·kh·kw, O) matrix) equals the conv with W applied to
    patches transformed by Pᵀ: XLA's patches @ (P W_flat) (``F.unfold``'s channel-major order)."""
    x = jax.random.normal(jax.random.key(0), (2, 9, 9, 3))
    conv = nn.Conv(4, (3, 3), padding="SAME", strides=(2, 2))
    variables = conv.init(jax.random.key(1), x)
    kernel = np.asarray(variables["params"]["kernel"])
    projector = np.random.default_rng(2).normal(size=(27, 27))
    new = project_kernel(kernel, projector, "conv").astype(np.float32)
    out = conv.apply({"params": {**variables["params"], "kernel": jnp.asarray(new)}}, x)
    patches = np.asarray(jax.lax.conv_general_dilated_patches(
        x, (3, 3), (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")), np.float64)
    flat = np.transpose(kernel, (2, 0, 1, 3)).reshape(27, 4)
    np.testing.assert_allclose(np.asarray(out), patches @ (projector @ flat), rtol=1e-4,
                               atol=1e-4)


def test_svd_unlearning_runs_on_a_cnn_and_as_a_pool():
    from jaxunlearn.data import load_digits

    train_set, test_set = load_digits()
    splits = make_splits(train_set, test_set, forget_classes=[1], seed=0)
    fns = create_model_fns("small_cnn", 10)
    one = fns.init(jax.random.key(0), np.asarray(train_set.inputs[:1]))
    two = fns.init(jax.random.key(1), np.asarray(train_set.inputs[:1]))
    hyper = {"samples": 90, "max_patches": 300}
    pool = unlearn_many(fns, stack_models([one, two]), splits, "svd_unlearning", keys=[0, 1],
                        hyperparams=hyper, progress=False)
    assert pool.logs[0]["projected_layers"] == ["conv_0", "conv_1", "dense", "head"]
    single = unlearn(fns, two, splits, "svd_unlearning", key=1, hyperparams=hyper,
                     progress=False)
    assert_trees_close(pool[1].variables, single.variables, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("hyper, pattern", [
    ({"alpha_r": 0.0}, "alpha_r must be > 0"),
    ({"samples": 0}, "samples must be an int >= 1"),
    ({"max_patches": 1.5}, "max_patches must be"),
])
def test_bad_hyperparameters_fail_before_anything_runs(digits_mlp, hyper, pattern):
    fns, variables, splits = digits_mlp
    with pytest.raises(ValueError, match=pattern):
        unlearn(fns, variables, splits, "svd_unlearning", hyperparams=hyper, progress=False)


def test_it_needs_whole_classes(digits_mlp):
    fns, variables, _ = digits_mlp
    from jaxunlearn.data import load_digits

    train_set, test_set = load_digits()
    random = make_splits(train_set, test_set, forget_fraction=0.1, seed=0)
    with pytest.raises(ValueError, match="unlearns whole classes"):
        unlearn(fns, variables, random, "svd_unlearning", progress=False)
