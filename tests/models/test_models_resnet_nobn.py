"""ResNet-18 without batch norm (FastClip's "noBN" network): structure and the halved residual
sum of the projection-shortcut blocks, against a NumPy computation with identity-like kernels."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.models import MODELS, BasicBlock, ResNet18NoBN, count_params, get_model


def _center_identity(size, in_channels, out_channels):
    """A kernel whose convolution copies input channel c to output channel c (c < in_channels)
    at the kernel's centre tap: with one pixel of padding it samples the input grid."""
    kernel = np.zeros((size, size, in_channels, out_channels), np.float32)
    kernel[size // 2, size // 2, np.arange(in_channels), np.arange(in_channels)] = 1.0
    return jnp.asarray(kernel)


def _relu(x):
    return np.maximum(x, 0.0)


@pytest.mark.parametrize("strides, in_channels, channels, halved", [
    (2, 2, 4, True),   # projection shortcut: (residual + shortcut) / 2
    (1, 2, 4, True),   # channel change alone also projects
    (1, 3, 3, False),  # identity shortcut: the plain sum
])
def test_block_without_batch_norm_halves_only_the_projected_sum(strides, in_channels, channels,
                                                               halved):
    block = BasicBlock(channels, strides=strides, batch_norm=False)
    x = np.random.default_rng(0).standard_normal((2, 6, 6, in_channels)).astype(np.float32)
    params = {"conv_1": {"kernel": _center_identity(3, in_channels, channels)},
              "conv_2": {"kernel": _center_identity(3, channels, channels)}}
    if halved:
        params["shortcut_conv"] = {"kernel": _center_identity(1, in_channels, channels)}
    variables = {"params": params}
    assert jax.tree_util.tree_structure(block.init(jax.random.key(0), jnp.asarray(x))) == \
        jax.tree_util.tree_structure(variables)  # no batch norm, no batch_stats
    out = np.asarray(block.apply(variables, jnp.asarray(x), train=True))

    # hand computation: each convolution samples x on the stride grid into the first channels
    sampled = np.zeros((2, 6 // strides, 6 // strides, channels), np.float32)
    sampled[..., :in_channels] = x[:, ::strides, ::strides]
    total = _relu(sampled) + sampled
    expected = _relu(total / 2 if halved else total)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


def test_resnet18_nobn_is_registered_without_batch_norm():
    assert MODELS["resnet18_nobn"] is ResNet18NoBN
    module = get_model("resnet18_nobn", 10)
    images = jnp.asarray(np.random.default_rng(1).uniform(size=(2, 32, 32, 3)), jnp.float32)
    variables = module.init(jax.random.key(0), images)
    assert list(variables) == ["params"]
    names = {"/".join(entry.key for entry in path)
             for path, _ in jax.tree_util.tree_flatten_with_path(variables["params"])[0]}
    assert not any("bn" in name for name in names)
    assert sum(name.endswith("shortcut_conv/kernel") for name in names) == 3
    # ResNet-18's 11,173,962 parameters less two per channel of its 20 batch norms
    bn_channels = 64 + 4 * 64 + (3 + 2) * 128 + (3 + 2) * 256 + (3 + 2) * 512
    assert count_params(variables) == 11_173_962 - 2 * bn_channels == 11_164_362
    logits = module.apply(variables, images, train=True)
    assert logits.shape == (2, 10) and np.all(np.isfinite(np.asarray(logits)))
    np.testing.assert_array_equal(logits, module.apply(variables, images, train=False))
