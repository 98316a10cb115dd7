"""FastClip's own behaviours in ``clip_spectral_norm``: two-sided clipping of convolutions,
per-step tracking of the singular vectors and the batch-norm clamp, each checked against an
independent computation (float64 SVDs of explicit matrices, NumPy bounds)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxunlearn.models import get_model
from jaxunlearn.spectral import LayerSpec, record_batch_norms
from jaxunlearn.transforms.spectral import clip_spectral_norm

INPUT_SHAPE = (1, 6, 6, 2)
CONV = {"strides": 1, "padding": "SAME"}


def _kernel(seed, shape, scale=1.0):
    return scale * np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _conv_matrix(kernel, input_shape=INPUT_SHAPE, **attributes):
    """The matrix (outputs x inputs) of a bias-free Flax convolution, column j = conv(e_j)."""
    module = nn.Conv(kernel.shape[-1], kernel.shape[:-2], use_bias=False, **attributes)
    size = int(np.prod(input_shape))
    basis = jnp.eye(size, dtype=jnp.float32).reshape((size, *input_shape[1:]))
    images = module.apply({"params": {"kernel": jnp.asarray(kernel)}}, basis)
    return np.asarray(images, np.float64).reshape(size, -1).T


def _top_singular_value(matrix):
    return np.linalg.svd(np.asarray(matrix, np.float64), compute_uv=False)[0]


def _clip_once(tx, params, updates=None, **extra):
    updates = jax.tree_util.tree_map(jnp.zeros_like, params) if updates is None else updates
    return tx.update(updates, tx.init(params), params, **extra)


def _conv_params():
    kernel = _kernel(2, (3, 3, 2, 4), 0.3)
    return {"Conv_0": {"kernel": jnp.asarray(kernel)}}, _top_singular_value(_conv_matrix(kernel,
                                                                                         **CONV))


def test_two_sided_pushes_a_convolution_well_below_the_bound_up_to_it():
    params, sigma = _conv_params()
    layers = {"Conv_0": LayerSpec.conv(INPUT_SHAPE, **CONV)}
    max_norm = 2.0 * sigma

    def clipped_norm(**options):
        tx = clip_spectral_norm(max_norm, layers, num_iterations=30, num_rounds=10, **options)
        updates, state = _clip_once(tx, params)
        np.testing.assert_allclose(state.singular_values["Conv_0"], sigma, rtol=1e-4)
        clipped = params["Conv_0"]["kernel"] + updates["Conv_0"]["kernel"]
        return _top_singular_value(_conv_matrix(clipped, **CONV))

    # the rounds stop once sigma_1 is within the tolerance of c (0.05 by default)
    after = clipped_norm()
    assert max_norm - 0.05 <= after <= max_norm * (1 + 1e-3), (sigma, after, max_norm)
    np.testing.assert_allclose(clipped_norm(two_sided_tolerance=1e-3), max_norm, rtol=1e-3)
    # one-sided (the behaviour before the option): left alone
    assert clipped_norm(conv_two_sided=False) == pytest.approx(sigma, rel=1e-6)


@pytest.mark.parametrize("gap, tolerance, pushed", [
    (0.03, 0.05, False),  # within the authors' tolerance
    (0.08, 0.05, True),
    (0.08, 0.1, False),
    (0.3, 0.1, True),
])
def test_two_sided_tolerance_is_an_absolute_gap_below_the_bound(gap, tolerance, pushed):
    params, sigma = _conv_params()
    layers = {"Conv_0": LayerSpec.conv(INPUT_SHAPE, **CONV)}
    max_norm = sigma + gap
    tx = clip_spectral_norm(max_norm, layers, num_iterations=60, num_rounds=10,
                            two_sided_tolerance=tolerance)
    updates, _ = jax.jit(tx.update)(jax.tree_util.tree_map(jnp.zeros_like, params),
                                    tx.init(params), params)
    after = _top_singular_value(_conv_matrix(params["Conv_0"]["kernel"]
                                             + updates["Conv_0"]["kernel"], **CONV))
    if pushed:
        assert max_norm - tolerance <= after <= max_norm * (1 + 1e-3), (sigma, after, max_norm)
    else:
        np.testing.assert_array_equal(updates["Conv_0"]["kernel"], 0.0)
        np.testing.assert_allclose(after, sigma, rtol=1e-6)


def test_dense_layers_stay_one_sided():
    dense = _kernel(1, (8, 5), 0.1)
    params = {"Dense_0": {"kernel": jnp.asarray(dense)}, **_conv_params()[0]}
    layers = {"Dense_0": LayerSpec.dense(8), "Conv_0": LayerSpec.conv(INPUT_SHAPE, **CONV)}
    max_norm = 3.0 * _top_singular_value(dense)
    updates, _ = _clip_once(clip_spectral_norm(max_norm, layers, num_iterations=30), params)
    np.testing.assert_array_equal(updates["Dense_0"]["kernel"], 0.0)
    assert np.any(np.asarray(updates["Conv_0"]["kernel"]) != 0)  # the conv is pushed


def test_two_sided_options_can_be_injected():
    params, sigma = _conv_params()
    layers = {"Conv_0": LayerSpec.conv(INPUT_SHAPE, **CONV)}
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    injected = optax.inject_hyperparams(clip_spectral_norm)(
        max_norm=sigma + 0.08, layers=layers, num_iterations=60, num_rounds=10,
        conv_two_sided=True, two_sided_tolerance=0.05)
    state = injected.init(params)
    pushed, _ = jax.jit(injected.update)(zeros, state, params)
    assert np.any(np.asarray(pushed["Conv_0"]["kernel"]) != 0)
    state.hyperparams["two_sided_tolerance"] = jnp.asarray(0.1)
    left, _ = jax.jit(injected.update)(zeros, state, params)
    np.testing.assert_array_equal(left["Conv_0"]["kernel"], 0.0)
    assert "conv_two_sided" not in state.hyperparams  # Optax keeps booleans static


@pytest.mark.parametrize("track", [True, False])
def test_tracking_converges_to_the_top_right_singular_vector(track):
    """One warm iteration per step on W + u; without tracking the vector is only refined when
    clipping, which never happens here."""
    kernel = _kernel(10, (3, 3, 2, 4), 0.3)
    update = _kernel(110, (3, 3, 2, 4), 0.05)
    params = {"Conv_0": {"kernel": jnp.asarray(kernel)}}
    updates = {"Conv_0": {"kernel": jnp.asarray(update)}}
    _, values, right = np.linalg.svd(_conv_matrix(kernel + update, **CONV))
    assert values[1] < 0.9 * values[0]  # a gap, so that 200 iterations converge
    layers = {"Conv_0": LayerSpec.conv(INPUT_SHAPE, **CONV)}
    tx = clip_spectral_norm(1e3, layers, every_k_steps=10**6, track_every_step=track)
    step = jax.jit(tx.update)
    state = start = tx.init(params)
    for _ in range(200):
        new_updates, state = step(updates, state, params)
    np.testing.assert_array_equal(new_updates["Conv_0"]["kernel"], update)
    carried = np.asarray(state.right_vectors["Conv_0"], np.float64).reshape(-1)
    if track:
        assert abs(carried @ right[0]) > 1 - 1e-5
        np.testing.assert_allclose(state.singular_values["Conv_0"], values[0], rtol=1e-5)
    else:
        np.testing.assert_array_equal(state.right_vectors["Conv_0"], start.right_vectors["Conv_0"])
        assert abs(carried @ right[0]) < 0.5


def test_tracking_on_a_dense_block_with_eager_steps():
    kernel = _kernel(5, (8, 5))
    params = {"Dense_0": {"kernel": jnp.asarray(kernel)}}
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    left, values, _ = np.linalg.svd(kernel.astype(np.float64))
    tx = clip_spectral_norm(1e3, {"Dense_0": LayerSpec.dense(8)}, every_k_steps=10**6,
                            num_vectors=2, track_every_step=True)
    state = tx.init(params)
    for _ in range(150):  # eager: the step count is concrete
        _, state = tx.update(zeros, state, params)
    block = np.asarray(state.right_vectors["Dense_0"], np.float64)
    # the carried block spans the top two right singular vectors of x -> x @ W
    projection = block.T @ block
    np.testing.assert_allclose(projection @ left[:, :2], left[:, :2], atol=1e-4)


def _bn_setup():
    rng = np.random.default_rng(7)
    params = {
        "bn": {"scale": jnp.asarray(rng.uniform(-3, 3, 6), jnp.float32),
               "bias": jnp.asarray(rng.standard_normal(6), jnp.float32)},
        "Dense_0": {"kernel": jnp.asarray(_kernel(1, (8, 5), 0.05))},
    }
    batch_stats = {"bn": {"mean": jnp.asarray(rng.standard_normal(6), jnp.float32),
                          "var": jnp.asarray(rng.uniform(0.1, 4.0, 6), jnp.float32)}}
    updates = jax.tree_util.tree_map(
        lambda p: jnp.asarray(0.5 * rng.standard_normal(p.shape), jnp.float32), params)
    updates["Dense_0"]["kernel"] = jnp.zeros((8, 5))  # the dense layer stays below the bound
    return params, batch_stats, updates


def test_clamp_bounds_batch_norm_scales_by_the_running_variance():
    params, batch_stats, updates = _bn_setup()
    max_norm, epsilon = 0.7, 1e-3
    tx = clip_spectral_norm(max_norm, {"Dense_0": LayerSpec.dense(8)}, every_k_steps=2,
                            batch_norm="clamp", batch_norms={"bn": epsilon})
    step = jax.jit(tx.update)
    state = tx.init(params)
    first, state = step(updates, state, params, batch_stats=batch_stats)  # not a clipping step
    jax.tree_util.tree_map(np.testing.assert_array_equal, first, updates)
    second, state = step(updates, state, params, batch_stats=batch_stats)

    scale = np.asarray(params["bn"]["scale"], np.float64)
    proposed = scale + np.asarray(updates["bn"]["scale"], np.float64)
    bound = max_norm * np.sqrt(np.asarray(batch_stats["bn"]["var"], np.float64) + epsilon)
    expected = np.clip(proposed, -bound, bound)
    assert np.any(np.abs(proposed) > bound) and np.any(np.abs(proposed) < bound)
    np.testing.assert_allclose(scale + np.asarray(second["bn"]["scale"]), expected, rtol=1e-6,
                               atol=1e-6)
    np.testing.assert_array_equal(second["bn"]["bias"], updates["bn"]["bias"])
    np.testing.assert_array_equal(second["Dense_0"]["kernel"], updates["Dense_0"]["kernel"])

    # the clamped layer's inference gain gamma / sqrt(var + eps) is at most max_norm
    layer = nn.BatchNorm(use_running_average=True, epsilon=epsilon)
    variables = {"params": {"scale": jnp.asarray(scale) + second["bn"]["scale"],
                            "bias": jnp.zeros(6)}, "batch_stats": batch_stats["bn"]}
    inputs = jnp.stack([jnp.zeros(6), jnp.ones(6)])
    outputs = np.asarray(layer.apply(variables, inputs))
    assert np.all(np.abs(outputs[1] - outputs[0]) <= max_norm * (1 + 1e-5))

    # "leave" (the default) does not touch them
    leave = clip_spectral_norm(max_norm, {"Dense_0": LayerSpec.dense(8)})
    left, _ = leave.update(updates, leave.init(params), params, batch_stats=batch_stats)
    np.testing.assert_array_equal(left["bn"]["scale"], updates["bn"]["scale"])

    with pytest.raises(ValueError, match="batch_stats"):
        tx.update(updates, tx.init(params), params)


def test_record_batch_norms_finds_every_resnet18_batch_norm():
    module = get_model("resnet18", 10)
    images = jax.ShapeDtypeStruct((1, 32, 32, 3), jnp.float32)
    variables = jax.eval_shape(module.init, jax.random.key(0), images)
    epsilons = record_batch_norms(module, variables, images, train=False)
    stats = jax.tree_util.tree_flatten_with_path(variables["batch_stats"])[0]
    expected = {"/".join(entry.key for entry in path[:-1]) for path, _ in stats}
    assert set(epsilons) == expected and len(epsilons) == 20
    assert set(epsilons.values()) == {1e-5}
    assert record_batch_norms(get_model("resnet18_nobn", 10), jax.eval_shape(
        get_model("resnet18_nobn", 10).init, jax.random.key(0), images), images) == {}


@pytest.mark.parametrize("arguments, name", [
    (dict(two_sided_tolerance=0.0), "two_sided_tolerance"),
    (dict(two_sided_tolerance=-0.05), "two_sided_tolerance"),
    (dict(two_sided_tolerance=float("nan")), "two_sided_tolerance"),
    (dict(conv_two_sided="yes"), "conv_two_sided"),
    (dict(conv_two_sided=1), "conv_two_sided"),
    (dict(track_every_step=None), "track_every_step"),
    (dict(batch_norm="hard"), "batch_norm"),
    (dict(batch_norm="noBN"), "batch_norm"),
    (dict(batch_norm="clamp"), "batch_norms"),
    (dict(batch_norm="clamp", batch_norms={"bn": -1.0}), "batch_norms"),
])
def test_bad_options_name_the_argument(arguments, name):
    # raised when the transform is built, before init or update trace anything
    with pytest.raises(ValueError, match=name):
        clip_spectral_norm(1.0, {"Dense_0": LayerSpec.dense(8)}, **arguments)
