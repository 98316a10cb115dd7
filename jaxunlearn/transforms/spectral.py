"""Layer-wise spectral-norm clipping of dense and convolution layers (FastClip) as an Optax add-on.

Ebrahimpour Boroojeny, Telgarsky & Sundaram, "Spectrum Extraction and Clipping for Implicitly
Linear Layers", AISTATS 2024 (arXiv:2402.16017). A dense or convolution layer is linear in its
input, ``x -> A_W x`` (bias aside), and also linear in its kernel ``W``. Both facts give everything
through automatic differentiation, without forming the matrix ``A_W``:

* the adjoint ``A_W^T`` is the transpose of the layer's own forward pass (``jax.linear_transpose``),
  so power iteration ``V <- orth(A_W^T A_W V)`` (the paper's PowerQR: block power iteration with a
  QR step) finds the top singular pairs ``(sigma_i, u_i, v_i)`` of the layer's map on its real input
  shape, padding and strides included;
* the kernel direction that moves ``<u, A_W v>`` fastest is ``grad_W <u, A_W v>``, the transpose
  of ``W -> A_W v``; for a dense layer it is ``v u^T``.

Clipping (the paper's FastClip step) moves ``W`` so that the top singular pairs above ``c`` satisfy
``A_W v_i = c u_i``, by descent on ``1/2 sum_i ||A_W v_i - min(sigma_i, c) u_i||^2``; for a dense
kernel one exact step is ``W <- W - sum_i (sigma_i - c)_+ v_i u_i^T`` (Flax layout ``y = x @ W``),
which leaves every other singular value as it was.

The clipping numerics live in :mod:`jaxunlearn.spectral.clipping` and the argument
checks in :mod:`jaxunlearn.spectral.arguments`; this module holds the Optax transform.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax import lax

from jaxunlearn.spectral import arguments as _spectral_args
from jaxunlearn.spectral.arguments import (
    _check_batch_norms,
    _check_count,
    _check_flag,
    _check_layers,
    _check_positive_number,
    _concrete_bool,
    _kernel_at,
    _leaf_at,
    _replace_kernels,
    _replace_leaves,
)
from jaxunlearn.spectral.clipping import (
    _clamp_batch_norm_scales,
    _clip_layers,
    _track_layers,
)
from jaxunlearn.spectral.layer_shapes import CONV, LayerSpec, orthonormalize_rows

__all__ = ["ClipSpectralNormState", "clip_spectral_norm"]

BATCH_NORM_MODES = _spectral_args.BATCH_NORM_MODES
"""What :func:`clip_spectral_norm` does to batch-norm scales: leave them, or clamp them."""


class ClipSpectralNormState(NamedTuple):
    """State of :func:`clip_spectral_norm`.

    Attributes:
      count: number of updates so far (int32).
      key: raw PRNG key data (``jax.random.key_data``, uint32) for the exploration vectors.
      right_vectors: ``{path: (num_vectors, *input_shape[1:])}``, orthonormal estimates of each
        layer's top right singular vectors (input-shaped), the warm start of the next clipping
        step; with ``num_vectors=1`` the array has the layer's input shape.
      singular_values: ``{path: ()}``, each layer's estimated operator norm at the last clipping
        step, before clipping (0 until the first one).
    """

    count: jax.Array
    key: jax.Array
    right_vectors: dict[str, jax.Array]
    singular_values: dict[str, jax.Array]


def clip_spectral_norm(
    max_norm: float | jax.Array,
    layers: Mapping[str | tuple[str, ...], LayerSpec],
    every_k_steps: int = 1,
    num_iterations: int = 5,
    num_rounds: int = 1,
    num_vectors: int = 1,
    seed: int = 0,
    *,
    conv_two_sided: bool = True,
    two_sided_tolerance: float = 0.05,
    track_every_step: bool = False,
    batch_norm: str = "leave",
    batch_norms: Mapping[str | tuple[str, ...], float] | None = None,
) -> optax.GradientTransformationExtraArgs:
    """Keeps the operator norm of every listed dense and convolution layer at most ``max_norm``.

    FastClip (Ebrahimpour Boroojeny, Telgarsky & Sundaram, AISTATS 2024, arXiv:2402.16017): for
    each layer in ``layers`` the transform looks at the kernel the step would produce,
    ``W' = W + u`` (``u`` the incoming update), estimates the top singular pairs of its linear map
    ``A_{W'}`` on the layer's real input shape by PowerQR (block power iteration
    ``V <- orth(A^T A V)`` through the layer's forward pass and its transpose), warm-started from
    the vectors kept in the state, and changes ``u`` so that each singular value ``sigma_i > c``
    found is brought to ``c = max_norm``: descent on
    ``1/2 sum_i ||A_W v_i - min(sigma_i, c) u_i||^2`` along
    ``g = grad_W sum_i <(sigma_i - c)_+ u_i, A_W v_i>`` with an exact line search. For a
    dense kernel this is exactly ``W' <- W' - sum_i (sigma_i - c)_+ v_i u_i^T`` (the other singular
    values unchanged); for a convolution ``num_rounds > 1`` repeats estimate-and-clip, as the
    paper's repeated clipping does, to approach ``sigma_1 = c`` and to reach singular values that
    rise to the top once the first is clipped.

    Convolutions are clipped both ways by default, as in the authors' code (``Ali-E/FastClip``,
    also shipped in ``Ali-E/AMUN``: ``models/spectral_normalization_deflate_complex_both_bn.py``,
    ``SpectralNorm._clip_module`` with its default ``exact_flag=True``, and the early exit of
    ``deflate_model_multi`` in ``models/clip_toolbox.py``): a convolution whose top singular value
    is below ``c`` by more than ``two_sided_tolerance`` (0.05 there, an absolute gap) is pushed up
    to ``c`` by the same descent with the target ``c u_1`` (a negative residual), so that its
    norm is ``c`` rather than at most ``c``; one within the tolerance is left alone. Dense layers
    are only clipped down, as there.

    It acts every ``every_k_steps``-th update (the ``k``-th, ``2k``-th, ...); other updates pass
    through unchanged. With ``track_every_step`` each of those other updates also refines the
    carried vectors by one warm power iteration on ``W + u`` (the authors' tracking: their
    ``SpectralNorm.forward`` runs one PowerQR iteration, ``pqr_iter=1``, at every training
    forward pass and keeps the vector in the module); this costs one forward and one transposed
    application of each layer on a batch of ``num_vectors`` inputs per step, and makes the
    ``singular_values`` in the state the latest estimate. It is off by default, unlike the
    authors' code: here each clipping step runs its own ``num_iterations`` warm power iterations
    (the authors run 10 in ``deflate_model_multi`` as well) and adds a fresh random vector, so the
    tracking only improves the warm start, and without it the steps that do not clip cost nothing
    (``experiments/benchmarks/transform_overhead.py`` measures it: about 4 % of a small CNN's SGD
    step on CPU, with clipping every 50 steps). The authors also re-randomise the vector after
    each clipping and refine it with 10 iterations; here the clipped Ritz vectors are kept.

    Batch norm (FastClip's three settings): ``batch_norm="leave"`` leaves its scales alone
    (the authors' "wBN"); ``"clamp"`` (their ``bn_hard``/"clipBN_hard", ``SpectralNorm`` around a
    ``BatchNorm2d``) clamps, on each clipping step, every listed batch-norm scale ``gamma`` so
    that ``gamma + u`` lies in ``[-c sqrt(var + eps), c sqrt(var + eps)]``, ``var`` the running
    variance before the step, so that the layer's per-channel gain ``gamma / sqrt(var + eps)``
    is at most ``c`` in inference mode. Their third setting, no batch norm, is a model
    (``resnet18_nobn``). The authors clamp on their own batch-norm interval (``bn_count``, 100
    steps in their ResNet); here it is ``every_k_steps``.

    Biases are not part of the linear map and are never changed, nor are layers missing from
    ``layers``. Power iteration gives a lower estimate of ``sigma_1``, so with few iterations a
    layer can stay slightly above ``max_norm`` until later steps.

    Place it last in a chain, after the optimizer, so that ``updates`` are the actual parameter
    increments: ``optax.chain(optax.adam(1e-3), clip_spectral_norm(1.0, layers))``.

    Args:
      max_norm: the bound ``c > 0`` on each layer's operator norm (a scalar; may be injected with
        ``optax.inject_hyperparams``).
      layers: ``{path: LayerSpec}``, as returned by :func:`record_layer_shapes`; ``path`` is
        ``"Block_0/Conv_0"`` or ``("Block_0", "Conv_0")``, the location of the layer's ``kernel``
        in ``params``.
      every_k_steps: clip on every ``k``-th update (``k >= 1``). The default 1 keeps the bound
        exactly at every step; FastClip's code clips every 50 steps, which is what the
        ``clip_spectral_norm`` add-on and ``jaxunlearn train`` use and costs a few percent.
      num_iterations: power iterations per clipping round (``>= 1``).
      num_rounds: estimate-and-clip rounds per clipping step (``>= 1``).
      num_vectors: singular vectors tracked per layer, the PowerQR block (``>= 1``; a concrete
        int, it fixes the state's shapes). Each round also adds one fresh random vector.
      seed: seed of the initial vectors and of the exploration vectors.
      conv_two_sided: also push convolutions whose top singular value is below
        ``max_norm - two_sided_tolerance`` up to ``max_norm`` (default True, the authors'
        default for convolutions); False clips convolutions only down, as dense layers.
      two_sided_tolerance: the gap ``c - sigma_1`` (absolute, ``> 0``) a convolution may stay
        below ``c`` by; the authors' 0.05.
      track_every_step: one warm power iteration on every update that does not clip.
      batch_norm: ``"leave"`` or ``"clamp"`` (see above).
      batch_norms: with ``"clamp"``, ``{path: epsilon}`` of the batch-norm layers, as returned
        by :func:`record_batch_norms`; ``path`` locates the layer's ``scale`` in ``params`` and
        its ``var`` in the ``batch_stats`` passed to ``update``.

    Returns:
      An ``optax.GradientTransformationExtraArgs``; ``update(updates, state, params,
      batch_stats=None, **extra_args)`` needs ``params`` (and, with ``batch_norm="clamp"``, the
      model's ``batch_stats`` collection before the step) and ignores other extra arguments. Its
      state is a :class:`ClipSpectralNormState`.

    Raises:
      ValueError: for a non-positive or non-finite ``max_norm`` or ``two_sided_tolerance``;
        ``every_k_steps``, ``num_iterations``, ``num_rounds`` or ``num_vectors`` below 1;
        ``conv_two_sided`` or ``track_every_step`` that are not booleans; an unknown
        ``batch_norm``; ``"clamp"`` without ``batch_norms``; ``layers`` that are not
        LayerSpecs; at ``init``, a path without a kernel or a kernel that does not fit its spec;
        at ``update``, ``"clamp"`` without ``batch_stats``.

    Example:
      >>> import jax, jax.numpy as jnp, optax
      >>> from jaxunlearn.spectral import LayerSpec, spectral_norm
      >>> params = {"Dense_0": {"kernel": 3.0 * jnp.eye(3), "bias": jnp.zeros(3)}}
      >>> layers = {"Dense_0": LayerSpec.dense(3)}
      >>> tx = optax.chain(optax.sgd(0.1), clip_spectral_norm(1.0, layers, num_rounds=3))
      >>> state = tx.init(params)
      >>> grads = jax.tree_util.tree_map(jnp.zeros_like, params)
      >>> updates, state = tx.update(grads, state, params)
      >>> params = optax.apply_updates(params, updates)
      >>> round(float(spectral_norm(params["Dense_0"]["kernel"], layers["Dense_0"])), 4)
      1.0
    """
    _check_positive_number(max_norm, "max_norm")
    _check_count(every_k_steps, "every_k_steps")
    _check_count(num_iterations, "num_iterations")
    _check_count(num_rounds, "num_rounds")
    _check_count(num_vectors, "num_vectors")
    _check_flag(conv_two_sided, "conv_two_sided")
    _check_positive_number(two_sided_tolerance, "two_sided_tolerance")
    _check_flag(track_every_step, "track_every_step")
    named_batch_norms = _check_batch_norms(batch_norm, batch_norms)
    named_layers = _check_layers(layers)
    # a concrete False compiles the one-sided program exactly as before the option existed
    two_sided = _concrete_bool(conv_two_sided) is not False and any(
        spec.kind == CONV for spec in named_layers.values())
    track = _concrete_bool(track_every_step)

    def init_fn(params) -> ClipSpectralNormState:
        try:  # the block size fixes the state's shapes, so it must be a concrete number
            block_rows = int(num_vectors)
        except TypeError:
            raise ValueError(
                "num_vectors must be a concrete int at init; under inject_hyperparams pass "
                "static_args=('num_vectors',)"
            ) from None
        key = jax.random.key(seed)
        vectors, sigmas = {}, {}
        for index, (name, spec) in enumerate(named_layers.items()):
            kernel = _kernel_at(params, name)
            spec.check_kernel(jnp.shape(kernel), name=f"the kernel of layers[{name!r}]")
            dtype = jnp.promote_types(jnp.result_type(kernel), jnp.float32)
            shape = (min(block_rows, math.prod(spec.input_shape)),) + spec.input_shape[1:]
            start = jax.random.normal(jax.random.fold_in(key, index), shape, dtype)
            if shape[0] == 1:
                vectors[name] = start / jnp.linalg.norm(start)
            else:
                vectors[name] = orthonormalize_rows(start)
            sigmas[name] = jnp.zeros((), dtype)
        for name in named_batch_norms:
            _leaf_at(params, name, "scale", "batch-norm scale")
        return ClipSpectralNormState(
            count=jnp.zeros([], jnp.int32),
            key=jax.random.key_data(jax.random.fold_in(key, len(named_layers))),
            right_vectors=vectors,
            singular_values=sigmas,
        )

    def update_fn(updates, state, params=None, batch_stats=None, **extra_args):
        del extra_args
        if params is None:
            raise ValueError("clip_spectral_norm needs params: update(updates, state, params)")
        if named_batch_norms and batch_stats is None:
            raise ValueError("batch_norm='clamp' needs the model's batch_stats: "
                             "update(updates, state, params, batch_stats=...)")
        operands = (
            {name: _kernel_at(updates, name) for name in named_layers},
            state.right_vectors,
            state.singular_values,
            state.key,
        )
        kernels = {name: _kernel_at(params, name) for name in named_layers}
        scale_updates = {name: _leaf_at(updates, name, "scale", "batch-norm scale")
                         for name in named_batch_norms}

        def clip(operands):
            kernel_updates, vectors, sigmas, key = operands
            extra = ((conv_two_sided, two_sided_tolerance) if two_sided else ())
            return _clip_layers(
                kernel_updates, vectors, sigmas, key, kernels, max_norm, num_iterations,
                num_rounds, *extra, layers=tuple(named_layers.items()), two_sided=two_sided,
            )

        def refine(operands):
            kernel_updates, vectors, sigmas, key = operands
            vectors, sigmas = _track_layers(kernel_updates, vectors, sigmas, kernels,
                                            layers=tuple(named_layers.items()))
            return kernel_updates, vectors, sigmas, key

        if track is None:  # traced flag
            skip = lambda ops: lax.cond(track_every_step, refine, lambda o: o, ops)
        else:
            skip = refine if track else (lambda ops: ops)

        should_clip = (state.count + 1) % every_k_steps == 0
        clip_now = _concrete_bool(should_clip)  # a concrete step count picks its branch in Python
        if clip_now is None:
            new_updates, vectors, sigmas, key = lax.cond(should_clip, clip, skip, operands)
        else:
            new_updates, vectors, sigmas, key = clip(operands) if clip_now else skip(operands)
        new_state = ClipSpectralNormState(
            count=optax.safe_increment(state.count),
            key=key,
            right_vectors=vectors,
            singular_values=sigmas,
        )
        updates = _replace_kernels(updates, new_updates)
        if named_batch_norms:
            scales = {name: _leaf_at(params, name, "scale", "batch-norm scale")
                      for name in named_batch_norms}
            variances = {name: _leaf_at(batch_stats, name, "var", "running variance")
                         for name in named_batch_norms}
            clamp = lambda scale_updates: _clamp_batch_norm_scales(
                scale_updates, scales, variances, max_norm, named_batch_norms)
            if clip_now is None:
                scale_updates = lax.cond(should_clip, clamp, lambda u: u, scale_updates)
            elif clip_now:
                scale_updates = clamp(scale_updates)
            updates = _replace_leaves(updates, "scale", scale_updates)
        return updates, new_state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)
