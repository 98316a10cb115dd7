"""The 2x2 max-pool without select-and-scatter (issue 16) against Flax's windowed pool and a
NumPy loop."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.models._layers import max_pool_2x2


@pytest.mark.parametrize("shape", [(3, 8, 8, 4), (2, 7, 9, 3), (2, 1, 5, 2), (2, 6, 1, 2)])
def test_values_and_gradients_match_the_windowed_pool(shape):
    x = jnp.asarray(np.random.default_rng(0).normal(size=shape), jnp.float32)  # no ties
    window = tuple(2 if size >= 2 else 1 for size in shape[1:3])
    reference = lambda v: nn.max_pool(v, window, window, "VALID")  # noqa: E731
    np.testing.assert_array_equal(max_pool_2x2(x), reference(x))
    weights = jnp.asarray(np.random.default_rng(1).normal(size=reference(x).shape), jnp.float32)
    ours = jax.grad(lambda v: jnp.sum(weights * max_pool_2x2(v)))(x)
    theirs = jax.grad(lambda v: jnp.sum(weights * reference(v)))(x)
    np.testing.assert_array_equal(ours, theirs)


def test_numpy_loop_and_tied_maxima_share_the_gradient():
    x = np.random.default_rng(2).normal(size=(1, 4, 6, 2)).astype(np.float32)
    x[0, 0:2, 0:2, 0] = 5.0  # a block whose four entries tie
    expected = np.zeros((1, 2, 3, 2), np.float32)
    for i in range(2):
        for j in range(3):
            expected[0, i, j] = x[0, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max(axis=(0, 1))
    np.testing.assert_array_equal(max_pool_2x2(jnp.asarray(x)), expected)
    grad = np.asarray(jax.grad(lambda v: max_pool_2x2(v).sum())(jnp.asarray(x)))
    np.testing.assert_allclose(grad[0, 0:2, 0:2, 0], 0.25)  # shared between the tied four
    assert grad.sum() == pytest.approx(expected.size)


def test_a_one_by_one_map_passes_through():
    x = jnp.ones((2, 1, 1, 3))
    assert max_pool_2x2(x) is x


def _numpy_kernel_grad(x, g, size):
    """dK[i, j] = Σ_{n,h,w} x_pad[n, h+i, w+j]ᵀ g[n, h, w], float64."""
    pad = size // 2
    padded = np.pad(x.astype(np.float64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    height, width = x.shape[1:3]
    grad = np.zeros((size, size, x.shape[3], g.shape[3]))
    for i in range(size):
        for j in range(size):
            window = padded[:, i:i + height, j:j + width].reshape(-1, x.shape[3])
            grad[i, j] = window.T @ g.reshape(-1, g.shape[3]).astype(np.float64)
    return grad


@pytest.mark.parametrize("size, channels", [(3, 8), (3, 16), (5, 8), (3, 1)])
def test_cpu_convolution_gradients_match_float64_and_xla(size, channels):
    from jaxunlearn.models._layers import conv_general_dilated

    rng = np.random.default_rng(size + channels)
    x = rng.normal(size=(4, 9, 7, channels)).astype(np.float32)
    kernel = rng.normal(size=(size, size, channels, 6)).astype(np.float32)
    g = rng.normal(size=(4, 9, 7, 6)).astype(np.float32)

    def ours(x, k):
        return conv_general_dilated(x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO",
                                                                               "NHWC"))

    def xla(x, k):
        return jax.lax.conv_general_dilated(x, k, (1, 1), "SAME",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"))

    np.testing.assert_array_equal(ours(x, kernel), xla(x, kernel))
    dx, dk = jax.vjp(ours, x, kernel)[1](g)
    dx_xla, dk_xla = jax.vjp(xla, x, kernel)[1](g)
    np.testing.assert_allclose(dk, _numpy_kernel_grad(x, g, size), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dk, dk_xla, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, dx_xla, rtol=1e-5, atol=1e-5)
    # per-example gradients (vmap over the batch, as the masks' statistics do) agree too
    per_example = jax.vmap(jax.grad(lambda k, xi: jnp.sum(ours(xi[None], k) ** 2)),
                           (None, 0))(kernel, x)
    per_example_xla = jax.vmap(jax.grad(lambda k, xi: jnp.sum(xla(xi[None], k) ** 2)),
                               (None, 0))(kernel, x)
    np.testing.assert_allclose(per_example, per_example_xla, rtol=1e-4, atol=1e-3)


def test_small_cnn_convolutions_are_still_flax_convs_for_fastclip():
    from jaxunlearn.models import get_model
    from jaxunlearn.spectral import record_layer_shapes

    module = get_model("small_cnn", 10)
    x = jnp.zeros((1, 28, 28, 1))
    variables = module.init(jax.random.key(0), x)
    layers = record_layer_shapes(module, variables, x, train=False)
    assert {"conv_0", "conv_1", "dense", "head"} <= {"/".join(k) if isinstance(k, tuple) else k
                                                   for k in layers}


def test_small_cnn_halves_give_the_whole_batch_values_and_gradients(monkeypatch):
    """On CPU the small CNN runs its convolutional stack as two independent half-batches (issue
    16); outputs and gradients equal the one-branch computation up to summation order."""
    import optax

    from jaxunlearn.models import small_cnn
    from jaxunlearn.models.small_cnn import SmallCNN

    module = SmallCNN(num_classes=10)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.random((64, 28, 28, 1)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 10, 64))
    params = module.init(jax.random.key(0), x[:1])["params"]

    def value_and_grad():
        def loss(p):
            logits = module.apply({"params": p}, x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), logits
        return jax.jit(jax.value_and_grad(loss, has_aux=True))(params)

    (loss_halves, logits_halves), grads_halves = value_and_grad()
    monkeypatch.setattr(small_cnn, "_HALVES_MIN_BATCH", 2**62)
    (loss_whole, logits_whole), grads_whole = value_and_grad()
    np.testing.assert_allclose(logits_halves, logits_whole, rtol=1e-5, atol=1e-6)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6),
                 grads_halves, grads_whole)
    # an odd batch runs whole
    odd = module.apply({"params": params}, x[:33])
    np.testing.assert_allclose(odd, logits_whole[:33], rtol=1e-5, atol=1e-6)
