"""Spectral-norm clipping (FastClip) against independent references: NumPy SVDs of dense kernels
and of the explicit matrix of a Flax convolution, built with ``jax.jacfwd`` on a small input."""

import doctest

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
import pytest

from jaxunlearn.spectral import (
    LayerSpec,
    layer_shapes,
    layer_spectral_norms,
    record_layer_shapes,
    spectral_norm,
)
from jaxunlearn.transforms import spectral
from jaxunlearn.transforms.spectral import clip_spectral_norm

INPUT_SHAPE = (1, 6, 6, 2)  # 6x6x2 images into 4 channels
CONV_ATTRIBUTES = {
    "stride 2 SAME": dict(strides=2, padding="SAME"),
    "stride 2 explicit": dict(strides=2, padding=((1, 2), (0, 1))),
    "stride 1 int": dict(strides=1, padding=1),
    "VALID dilated": dict(padding="VALID", kernel_dilation=2),
    "CIRCULAR stride (2, 1)": dict(strides=(2, 1), padding="CIRCULAR"),
    "2 groups": dict(feature_group_count=2),
}


def _kernel(key, shape, scale=1.0):
    return scale * jax.random.normal(jax.random.key(key), shape)


def _flax_conv(attributes, features=4):
    return nn.Conv(features, (3, 3), use_bias=False, **attributes)


def _conv_matrix(kernel, attributes, input_shape=INPUT_SHAPE):
    """The explicit matrix of the Flax convolution itself (outputs x inputs), by jacfwd."""
    module = _flax_conv(attributes, kernel.shape[-1])
    jacobian = jax.jacfwd(lambda x: module.apply({"params": {"kernel": kernel}}, x))(
        jnp.zeros(input_shape)
    )
    return np.asarray(jacobian, np.float64).reshape(-1, int(np.prod(input_shape)))


def _singular_values(matrix):
    return np.linalg.svd(np.asarray(matrix, np.float64), compute_uv=False)


def _one_update(tx, params, updates=None, state=None):
    updates = jax.tree_util.tree_map(jnp.zeros_like, params) if updates is None else updates
    state = tx.init(params) if state is None else state
    return tx.update(updates, state, params)


@pytest.mark.parametrize("shape", [(8, 5), (3, 7)])
def test_dense_spectral_norm_matches_svd(shape):
    kernel = _kernel(1, shape)
    expected = _singular_values(kernel)[0]
    np.testing.assert_allclose(spectral_norm(kernel, LayerSpec.dense(shape[0])), expected,
                               rtol=1e-5)
    nested = {"Block_0": {"Dense_0": {"kernel": kernel, "bias": jnp.ones(shape[1])}}}
    norms = layer_spectral_norms(nested, {("Block_0", "Dense_0"): LayerSpec.dense(shape[0])})
    assert list(norms) == ["Block_0/Dense_0"]
    np.testing.assert_allclose(norms["Block_0/Dense_0"], expected, rtol=1e-5)


@pytest.mark.parametrize("name", list(CONV_ATTRIBUTES))
def test_conv_spectral_norm_matches_the_explicit_matrix(name):
    attributes = CONV_ATTRIBUTES[name]
    spec = LayerSpec.conv(INPUT_SHAPE, **attributes)
    kernel = _kernel(2, (3, 3, 2 // spec.feature_group_count, 4))
    expected = _singular_values(_conv_matrix(kernel, attributes))[0]
    np.testing.assert_allclose(spectral_norm(kernel, spec), expected, rtol=1e-4)


def test_apply_linear_is_the_flax_layer_without_bias():
    inputs = _kernel(3, (2,) + INPUT_SHAPE[1:])
    for attributes in CONV_ATTRIBUTES.values():
        spec = LayerSpec.conv(INPUT_SHAPE, **attributes)
        kernel = _kernel(4, (3, 3, 2 // spec.feature_group_count, 4))
        expected = _flax_conv(attributes).apply({"params": {"kernel": kernel}}, inputs)
        np.testing.assert_allclose(layer_shapes.apply_linear(kernel, inputs, spec), expected,
                                   rtol=1e-5, atol=1e-5)


def test_dense_clip_brings_the_top_singular_value_to_max_norm_and_keeps_the_rest():
    kernel = _kernel(1, (8, 5))
    before = _singular_values(kernel)  # about [4.62, 4.01, 2.77, 1.64, 0.97]
    params = {"Dense_0": {"kernel": kernel, "bias": jnp.ones(5)}}
    layers = {"Dense_0": LayerSpec.dense(8)}
    max_norm = 0.5 * (before[0] + before[1])
    updates, state = _one_update(clip_spectral_norm(max_norm, layers, num_iterations=60), params)
    after = _singular_values(kernel + updates["Dense_0"]["kernel"])
    np.testing.assert_allclose(after, [max_norm, *before[1:]], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(updates["Dense_0"]["bias"], 0.0)  # biases are left alone
    np.testing.assert_allclose(state.singular_values["Dense_0"], before[0], rtol=1e-5)

    # several singular values above the bound: each is brought down to it, over rounds or at
    # once with a block of vectors
    for options in (dict(num_rounds=3), dict(num_vectors=3)):
        tx = clip_spectral_norm(2.0, layers, num_iterations=60, **options)
        updates, state = _one_update(tx, params)
        after = _singular_values(kernel + updates["Dense_0"]["kernel"])
        np.testing.assert_allclose(after, [2.0, 2.0, 2.0, *before[3:]], rtol=1e-4, atol=1e-4)
    assert state.right_vectors["Dense_0"].shape == (3, 8)


@pytest.mark.parametrize("name", ["stride 2 SAME", "stride 2 explicit"])
def test_conv_clip_brings_the_operator_norm_to_max_norm(name):
    attributes = CONV_ATTRIBUTES[name]
    kernel = _kernel(2, (3, 3, 2, 4))
    before = _singular_values(_conv_matrix(kernel, attributes))[0]
    max_norm = 0.8 * before
    params = {"Conv_0": {"kernel": kernel}}
    tx = clip_spectral_norm(
        max_norm, {"Conv_0": LayerSpec.conv(INPUT_SHAPE, **attributes)},
        num_iterations=30, num_rounds=10,
    )
    updates, _ = _one_update(tx, params)
    after = _singular_values(_conv_matrix(kernel + updates["Conv_0"]["kernel"], attributes))[0]
    assert after <= max_norm * (1 + 1e-3)
    np.testing.assert_allclose(after, max_norm, rtol=1e-3)


def test_layers_under_the_bound_or_not_listed_are_left_alone():
    params = {
        "Conv_0": {"kernel": _kernel(2, (3, 3, 2, 4), 0.05)},
        "Dense_0": {"kernel": _kernel(1, (8, 5), 0.1)},
        "Dense_1": {"kernel": _kernel(5, (5, 3), 10.0)},  # far above the bound, not listed
    }
    layers = {"Conv_0": LayerSpec.conv(INPUT_SHAPE, strides=2), "Dense_0": LayerSpec.dense(8)}
    updates = jax.tree_util.tree_map(lambda p: 0.01 * jnp.ones_like(p), params)
    # one-sided convolutions (the default is two-sided: Conv_0 would be pushed up to 2)
    tx = clip_spectral_norm(2.0, layers, num_iterations=10, conv_two_sided=False)
    new_updates, _ = jax.jit(tx.update)(updates, tx.init(params), params)
    jax.tree_util.tree_map(np.testing.assert_array_equal, new_updates, updates)


def test_warm_start_vectors_converge_so_one_iteration_suffices():
    kernel = _kernel(1, (8, 5))
    left, values, _ = np.linalg.svd(np.asarray(kernel, np.float64))
    params = {"Dense_0": {"kernel": kernel}}
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    layers = {"Dense_0": LayerSpec.dense(8)}
    track = clip_spectral_norm(100.0, layers, num_iterations=1)  # never clips
    step = jax.jit(track.update)
    state = track.init(params)
    errors = []
    for _ in range(8):
        _, state = step(zeros, state, params)
        errors.append(abs(float(state.singular_values["Dense_0"]) - values[0]))
    # the top right singular vector of x -> x @ W is the top left singular vector of W
    alignment = abs(float(state.right_vectors["Dense_0"].reshape(-1) @ left[:, 0]))
    assert alignment > 1 - 1e-5
    assert errors[-1] < 1e-4 * values[0] < errors[0]

    max_norm = 0.5 * (values[0] + values[1])
    clip = clip_spectral_norm(max_norm, layers, num_iterations=1)
    warm, _ = clip.update(zeros, state, params)
    cold, _ = clip.update(zeros, clip.init(params), params)
    warm_top = _singular_values(kernel + warm["Dense_0"]["kernel"])[0]
    cold_top = _singular_values(kernel + cold["Dense_0"]["kernel"])[0]
    assert abs(warm_top - max_norm) < 1e-4
    assert abs(cold_top - max_norm) > 10 * abs(warm_top - max_norm)


def test_every_k_steps_leaves_the_off_steps_unchanged():
    kernel = _kernel(1, (8, 5))
    params = {"Dense_0": {"kernel": kernel}}
    updates = {"Dense_0": {"kernel": 0.1 * jnp.ones((8, 5))}}
    tx = clip_spectral_norm(1.0, {"Dense_0": LayerSpec.dense(8)}, every_k_steps=3,
                            num_iterations=30, num_rounds=4)
    step = jax.jit(tx.update)
    state = tx.init(params)
    for count in range(1, 7):
        previous = state
        new_updates, state = step(updates, state, params)
        assert int(state.count) == count
        if count % 3:
            np.testing.assert_array_equal(new_updates["Dense_0"]["kernel"],
                                          updates["Dense_0"]["kernel"])
            jax.tree_util.tree_map(np.testing.assert_array_equal,
                                   state.right_vectors, previous.right_vectors)
        else:
            top = _singular_values(kernel + new_updates["Dense_0"]["kernel"])[0]
            np.testing.assert_allclose(top, 1.0, rtol=1e-4)
    assert state.key.dtype == jnp.uint32


class _Block(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.relu(nn.Conv(6, (3, 3), padding=((1, 1), (0, 2)))(x))


class _SmallCNN(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool = False):
        x = nn.relu(nn.Conv(4, (3, 3), strides=2, padding="SAME")(x))
        x = _Block()(x)
        x = nn.Dense(10)(x.reshape(x.shape[0], -1))
        return nn.Dense(3, name="head")(nn.relu(x))


def test_record_layer_shapes_on_a_small_cnn(tmp_path):
    model = _SmallCNN()
    images = jnp.zeros((5, 8, 8, 3))
    abstract = jax.eval_shape(model.init, jax.random.key(0), images)
    rng = np.random.default_rng(0)  # NumPy values: no initialiser to compile
    variables = jax.tree_util.tree_map(
        lambda leaf: jnp.asarray(0.2 * rng.standard_normal(leaf.shape), leaf.dtype), abstract
    )
    specs = record_layer_shapes(model, variables, images, train=False)
    assert specs == {
        "Conv_0": LayerSpec.conv((1, 8, 8, 3), strides=2, padding="SAME"),
        "_Block_0/Conv_0": LayerSpec.conv((1, 4, 4, 4), padding=((1, 1), (0, 2))),
        "Dense_0": LayerSpec.dense(4 * 4 * 6),
        "head": LayerSpec.dense(10),
    }
    assert specs["Conv_0"].strides == (2, 2)
    # shapes alone give the same record
    assert record_layer_shapes(model, abstract, jax.ShapeDtypeStruct((1, 8, 8, 3), jnp.float32)) \
        == specs

    # the recorded specs drive the transform: the layers above the bound are clipped to it, the
    # convolution below it is pushed up to it (two-sided, the default), the dense layer below it
    # is left alone (operator norms: Conv_0 1.68, _Block_0/Conv_0 2.22, Dense_0 2.44, head 0.86)
    params = variables["params"]
    tx = clip_spectral_norm(2.0, specs, num_iterations=10, num_rounds=8)
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    updates, state = jax.jit(tx.update)(zeros, jax.jit(tx.init)(params), params)
    for name in ("Conv_0", "head"):
        assert float(state.singular_values[name]) < 2.0
    np.testing.assert_array_equal(updates["head"]["kernel"], 0.0)
    new_params = optax.apply_updates(params, updates)
    stem = _conv_matrix(new_params["Conv_0"]["kernel"], {"strides": 2, "padding": "SAME"},
                        input_shape=(1, 8, 8, 3))
    # raised from 1.68 until within the two-sided tolerance (0.05) of the bound: 1.96
    assert 2.0 - 0.05 <= _singular_values(stem)[0] <= 2.0 * (1 + 3e-3)
    top = _singular_values(new_params["Dense_0"]["kernel"])[0]
    np.testing.assert_allclose(top, 2.0, rtol=1e-4)
    block_conv = new_params["_Block_0"]["Conv_0"]["kernel"]
    matrix = _conv_matrix(block_conv, {"padding": ((1, 1), (0, 2))}, input_shape=(1, 4, 4, 4))
    np.testing.assert_allclose(_singular_values(matrix)[0], 2.0, rtol=3e-3)

    # the state, with "/" in its layer keys, survives an Orbax round trip
    with ocp.StandardCheckpointer() as checkpointer:
        checkpointer.save(tmp_path / "state", state)
        checkpointer.wait_until_finished()
        restored = checkpointer.restore(tmp_path / "state", state)
    jax.tree_util.tree_map(np.testing.assert_array_equal, restored, state)


def test_record_layer_shapes_rejects_a_layer_called_on_two_shapes():
    class Shared(nn.Module):
        @nn.compact
        def __call__(self, x):
            conv = nn.Conv(2, (3, 3))
            return conv(x), conv(x[:, ::2, ::2])

    images = jnp.zeros((1, 8, 8, 2))
    variables = Shared().init(jax.random.key(0), images)
    with pytest.raises(ValueError, match="Conv_0"):
        record_layer_shapes(Shared(), variables, images)


def test_injected_hyperparameters_including_integers():
    kernel = _kernel(1, (8, 5))
    params = {"Dense_0": {"kernel": kernel}}
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    layers = {"Dense_0": LayerSpec.dense(8)}
    injected = optax.inject_hyperparams(clip_spectral_norm)(
        max_norm=1.0, layers=layers, every_k_steps=1, num_iterations=40, num_rounds=5
    )
    state = injected.init(params)
    state.hyperparams["max_norm"] = jnp.asarray(2.5)
    updates, _ = jax.jit(injected.update)(zeros, state, params)
    top = _singular_values(kernel + updates["Dense_0"]["kernel"])[0]
    np.testing.assert_allclose(top, 2.5, rtol=1e-4)


@pytest.mark.parametrize(
    "arguments, name",
    [
        (dict(max_norm=0.0), "max_norm"),
        (dict(max_norm=-1.0), "max_norm"),
        (dict(max_norm=float("nan")), "max_norm"),
        (dict(max_norm=float("inf")), "max_norm"),
        (dict(max_norm=jnp.ones(2)), "max_norm"),
        (dict(every_k_steps=0), "every_k_steps"),
        (dict(every_k_steps=1.5), "every_k_steps"),
        (dict(num_iterations=0), "num_iterations"),
        (dict(num_rounds=0), "num_rounds"),
        (dict(num_vectors=0), "num_vectors"),
        (dict(layers={"Dense_0": (1, 8)}), "layers"),
        (dict(layers=[LayerSpec.dense(8)]), "layers"),
    ],
)
def test_bad_hyperparameters_name_the_argument(arguments, name):
    arguments = {"max_norm": 1.0, "layers": {"Dense_0": LayerSpec.dense(8)}, **arguments}
    with pytest.raises(ValueError, match=name):
        clip_spectral_norm(**arguments)


def test_bad_layers_and_specs_are_reported():
    params = {"Dense_0": {"kernel": jnp.ones((8, 5))}}
    with pytest.raises(ValueError, match="layers"):
        clip_spectral_norm(1.0, {"Dense_9": LayerSpec.dense(8)}).init(params)
    with pytest.raises(ValueError, match="layers"):
        clip_spectral_norm(1.0, {"Dense_0": LayerSpec.dense(7)}).init(params)
    with pytest.raises(ValueError, match="params"):
        tx = clip_spectral_norm(1.0, {"Dense_0": LayerSpec.dense(8)})
        tx.update(params, tx.init(params))
    with pytest.raises(ValueError, match="input_shape"):
        LayerSpec.conv((2, 6, 6, 2))
    with pytest.raises(ValueError, match="padding"):
        LayerSpec.conv(INPUT_SHAPE, padding="FULL")
    with pytest.raises(ValueError, match="strides"):
        LayerSpec.conv(INPUT_SHAPE, strides=0)


@pytest.mark.parametrize("module", [spectral, layer_shapes], ids=["spectral", "layer_shapes"])
def test_docstring_examples_run(module):
    assert doctest.testmod(module, raise_on_error=False).failed == 0
