"""Batch-norm behaviour of ResNet-18 and VGG-16-BN in train and eval mode."""

from __future__ import annotations

import jax
import numpy as np
import pytest

# Model name -> (first convolution, the batch norm right after it).
FIRST_LAYERS = {"resnet18": ("stem_conv", "stem_bn"), "vgg16_bn": ("conv_1", "bn_1")}


def _conv3x3_same(images: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """Cross-correlation of NHWC ``images`` with an HWIO 3x3 ``kernel``, zero padding 1."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    height, width = images.shape[1:3]
    out = np.zeros(images.shape[:3] + (kernel.shape[-1],))
    for row in range(3):
        for col in range(3):
            out += padded[:, row : row + height, col : col + width, :] @ kernel[row, col]
    return out if bias is None else out + bias


def _with_first_running_stats(variables: dict, name: str, mean, var) -> dict:
    _, bn = FIRST_LAYERS[name]
    batch_stats = {**variables["batch_stats"], bn: {"mean": mean, "var": var}}
    return {**variables, "batch_stats": batch_stats}


def _leaves_equal(left, right) -> list[bool]:
    assert jax.tree.structure(left) == jax.tree.structure(right)
    return [
        np.array_equal(np.asarray(a), np.asarray(b))
        for a, b in zip(jax.tree.leaves(left), jax.tree.leaves(right))
    ]


@pytest.mark.parametrize("name", sorted(FIRST_LAYERS))
def test_train_mode_updates_running_stats_with_momentum_0_9(name, model_cache):
    conv, bn = FIRST_LAYERS[name]
    rng = np.random.default_rng(7)
    channels = model_cache.variables(name)["batch_stats"][bn]["mean"].shape[0]
    old_mean = rng.normal(size=channels).astype(np.float32)
    old_var = rng.uniform(0.5, 2.0, size=channels).astype(np.float32)
    variables = _with_first_running_stats(model_cache.variables(name), name, old_mean, old_var)

    _, new_mutable = model_cache.apply(name)(variables, model_cache.images, train=True)

    params = variables["params"][conv]
    features = _conv3x3_same(
        np.asarray(model_cache.images, np.float64),
        np.asarray(params["kernel"], np.float64),
        np.asarray(params["bias"], np.float64) if "bias" in params else None,
    )
    batch_mean = features.mean(axis=(0, 1, 2))
    batch_var = features.var(axis=(0, 1, 2))  # biased, as in Ioffe & Szegedy (2015), Alg. 1
    new_stats = new_mutable["batch_stats"][bn]
    np.testing.assert_allclose(
        new_stats["mean"], 0.9 * old_mean + 0.1 * batch_mean, rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(
        new_stats["var"], 0.9 * old_var + 0.1 * batch_var, rtol=1e-4, atol=1e-5
    )
    assert set(new_mutable) == {"batch_stats"}
    assert not any(_leaves_equal(new_mutable["batch_stats"], variables["batch_stats"]))


@pytest.mark.parametrize("name", sorted(FIRST_LAYERS))
def test_eval_mode_returns_running_stats_unchanged(name, model_cache):
    variables = model_cache.variables(name)
    _, new_mutable = model_cache.apply(name)(variables, model_cache.images, train=False)
    assert set(new_mutable) == {"batch_stats"}
    assert all(_leaves_equal(new_mutable["batch_stats"], variables["batch_stats"]))


@pytest.mark.parametrize("name", sorted(FIRST_LAYERS))
def test_eval_mode_normalises_with_running_stats_not_the_batch(name, model_cache):
    variables, images = model_cache.variables(name), model_cache.images
    apply = model_cache.apply(name)
    other_images = images.at[1].set(3.0 * images[1] + 1.0)

    # With running statistics an example's logits do not depend on the rest of the batch ...
    logits, _ = apply(variables, images, train=False)
    logits_other_batch, _ = apply(variables, other_images, train=False)
    np.testing.assert_allclose(logits[0], logits_other_batch[0], rtol=1e-5, atol=1e-5)
    # ... with batch statistics they do.
    train_logits, _ = apply(variables, images, train=True)
    train_logits_other_batch, _ = apply(variables, other_images, train=True)
    assert not np.allclose(train_logits[0], train_logits_other_batch[0], rtol=1e-3, atol=1e-3)

    # And the running statistics are what eval mode reads.
    _, bn = FIRST_LAYERS[name]
    stats = variables["batch_stats"][bn]
    shifted = _with_first_running_stats(variables, name, stats["mean"] + 0.5, 4.0 * stats["var"])
    shifted_logits, _ = apply(shifted, images, train=False)
    assert not np.allclose(shifted_logits, logits, rtol=1e-3, atol=1e-3)
