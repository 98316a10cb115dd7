"""SVD-based class unlearning (Kodge, Saha & Roy, "Deep Unlearning: Fast and Efficient
Gradient-free Approach to Class Forgetting", TMLR 2024), as the authors' code runs it
(``sangamesh-kodge/class_forgetting``: ``main.py: our_unlearn``, ``get_projection_matrix``;
``models/model_utils.py: reshape_conv_input_activation``, ``forward_cache_projections``).

One shot, no gradient step. From a retain batch (the first ``samples // (C − 1)`` training
examples of every remaining class) and a forget batch (``samples`` random examples of the
forgotten class), both augmented as in training and run once through the model in eval mode,
each dense and convolution layer's *inputs* R (conv: the layer's own patches from one random
3k × 3k window of the feature map when it is wider than 3k, at most ``max_patches`` of them)
give, by SVD R = U S Vᵀ with energy shares r_i = s_i² / Σ_j s_j²,

    M = U diag(λ) Uᵀ,   λ_i = α r_i / ((α − 1) r_i + 1)        (α_r on retain, α_f on forget),

a soft projector onto each space (no mean-centring, no hard energy cut). Every layer's kernel is
then projected away from the forget space except where the retain space shares it,

    W ← (I − (M_f − M_f M_r)) W        (Flax layout y = x W; the code's W Pᵀ),

biases and batch-norm statistics unchanged. The paper's text could only be read as its abstract;
the formulas follow the code. Its scripts use ``samples`` 900, α_r 100, α_f 3 (CIFAR-10;
1000/30 on CIFAR-100), which are the defaults. ``epochs`` is 0; more fine-tune on D_r with CE
after the projection (not in the paper).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import numpy as np

from jaxunlearn.methods.base import Method, Prepared, register_method
from jaxunlearn.methods.run import forget_classes
from jaxunlearn.methods.terms import retain_cross_entropy
from jaxunlearn.spectral.layer_shapes import layer_spec
from jaxunlearn.train import keys
from jaxunlearn.train.augment import augment


def soft_projector(representation: np.ndarray, alpha: float) -> np.ndarray:
    """M = U diag(α r / ((α − 1) r + 1)) Uᵀ of a (d, N) representation matrix, float64."""
    u, s, _ = np.linalg.svd(np.asarray(representation, np.float64), full_matrices=False)
    energy = s ** 2 / max(float(np.sum(s ** 2)), 1e-300)
    scaled = alpha * energy / ((alpha - 1.0) * energy + 1.0)
    return (u * scaled) @ u.T


def _patches(inputs: np.ndarray, module: nn.Conv, crop_key: jax.Array, name: str) -> np.ndarray:
    """The conv layer's input patches as rows (channel-major, the order of the kernel reshaped
    from (C, kh, kw)), from one random 3k × 3k window (the same for the whole batch) when the map
    is wider than 3k; strides, padding and dilations as :func:`jaxunlearn.spectral.layer_shapes.
    layer_spec` reads them off the layer."""
    spec = layer_spec(module, tuple(inputs.shape))
    if spec.feature_group_count != 1 or spec.spatial_rank != 2:
        raise ValueError(f"svd_unlearning: layer {name} is a grouped or non-2-D convolution, "
                         "which the method does not handle")
    kh, kw = module.kernel_size
    height, width = inputs.shape[1:3]
    if width > 3 * kw:
        top = int(jax.random.randint(crop_key, (), 0, height - 3 * kh + 1))
        left = int(jax.random.randint(jax.random.fold_in(crop_key, 1), (), 0, width - 3 * kw + 1))
        inputs = inputs[:, top:top + 3 * kh, left:left + 3 * kw]
    patches = jax.lax.conv_general_dilated_patches(
        jax.numpy.asarray(inputs), (kh, kw), spec.strides, spec.padding,
        lhs_dilation=spec.input_dilation, rhs_dilation=spec.kernel_dilation,
        dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return np.asarray(patches).reshape(-1, patches.shape[-1])


def layer_representations(apply_fn, variables: dict, inputs: np.ndarray, key: jax.Array,
                          max_patches: int) -> dict[tuple, tuple[str, np.ndarray]]:
    """``{params path: (kind, R)}`` for every ``nn.Dense`` and ``nn.Conv`` the model calls: R the
    (d_in, N) matrix of its inputs (dense) or input patches (conv: shuffled, at most
    ``max_patches``), in eval mode. A layer called more than once (the small CNN runs its batch
    as two halves on CPU) contributes the rows of every call, with the same conv window."""
    found: dict = {}

    def interceptor(next_fun, args, kwargs, context):
        module = context.module
        if context.method_name == "__call__" and isinstance(module, (nn.Dense, nn.Conv)):
            path = tuple(module.path)
            layer_key = jax.random.fold_in(key, list(found).index(path) if path in found
                                           else len(found))
            x = np.asarray(args[0], np.float32)
            if isinstance(module, nn.Conv):
                kind, rows = "conv", _patches(x, module, layer_key, "/".join(path))
            else:
                kind, rows = "dense", x.reshape(-1, x.shape[-1])
            found.setdefault(path, (kind, layer_key, []))[2].append(rows)
        return next_fun(*args, **kwargs)

    with nn.intercept_methods(interceptor):
        apply_fn(variables, inputs, False)
    representations = {}
    for path, (kind, layer_key, parts) in found.items():
        rows = np.concatenate(parts)
        if kind == "conv":
            shuffle = jax.random.permutation(jax.random.fold_in(layer_key, 1), len(rows))
            rows = rows[np.asarray(shuffle)][:max_patches]
        representations[path] = (kind, rows.T)
    return representations


def project_kernel(kernel: np.ndarray, projector: np.ndarray, kind: str) -> np.ndarray:
    """P W for a dense kernel (d_in, d_out), or a conv kernel (kh, kw, C, O) taken as its
    (C·kh·kw, O) matrix."""
    kernel = np.asarray(kernel, np.float64)
    if kind == "dense":
        return projector @ kernel
    kh, kw, channels, out = kernel.shape
    flat = np.transpose(kernel, (2, 0, 1, 3)).reshape(channels * kh * kw, out)
    return np.transpose((projector @ flat).reshape(channels, kh, kw, out), (1, 2, 0, 3))


def _samples(splits, hyper, key):
    """The retain rows (first ``samples // (C − 1)`` of each remaining class, training order)
    and forget rows (``samples`` drawn without replacement from the forget set)."""
    forgotten = set(forget_classes(splits))
    labels = np.asarray(splits.train.labels)
    retain = np.asarray(splits.retain_indices)
    per_class = max(hyper["samples"] // max(splits.train.num_classes - len(forgotten), 1), 1)
    rows = [retain[labels[retain] == c][:per_class]
            for c in range(splits.train.num_classes) if c not in forgotten]
    forget = np.asarray(splits.forget_indices)
    chosen = np.asarray(jax.random.permutation(keys.svd_sample_key(key), len(forget)))
    return np.concatenate(rows), forget[np.sort(chosen[:hyper["samples"]])]


def _prepare(model_fns, variables, splits, hyper, key):
    retain_rows, forget_rows = _samples(splits, hyper, key)
    augment_key, retain_key, forget_key = jax.random.split(keys.svd_sample_key(key, 1), 3)
    augmentation = splits.train.augmentation if hyper.get("augment", True) else None
    spaces = []
    for rows, alpha, batch_key in ((retain_rows, hyper["alpha_r"], retain_key),
                                   (forget_rows, hyper["alpha_f"], forget_key)):
        inputs = augment(jax.random.fold_in(augment_key, len(spaces)),
                         jax.numpy.asarray(splits.train.inputs[rows]), augmentation)
        spaces.append((layer_representations(model_fns.apply, variables, np.asarray(inputs),
                                             batch_key, hyper["max_patches"]), alpha))
    (retain, alpha_r), (forget, alpha_f) = spaces
    params = jax.tree_util.tree_map(np.asarray, variables["params"])
    for path, (kind, representation) in forget.items():
        m_f = soft_projector(representation, alpha_f)
        m_r = soft_projector(retain[path][1], alpha_r)
        projector = np.eye(len(m_f)) - (m_f - m_f @ m_r)
        layer = params
        for name in path:
            layer = layer[name]
        layer["kernel"] = project_kernel(layer["kernel"], projector, kind).astype(
            layer["kernel"].dtype)
    projected = {**variables, "params": jax.tree_util.tree_map(jax.numpy.asarray, params)}
    return Prepared(variables=projected, log={
        "projected_layers": ["/".join(path) for path in forget],
        "retain_samples": int(len(retain_rows)), "forget_samples": int(len(forget_rows))})


def _validate(hyper: dict) -> None:
    for name in ("alpha_r", "alpha_f"):
        if not hyper[name] > 0:
            raise ValueError(f"hyperparams: {name} must be > 0, got {hyper[name]!r}")
    for name in ("samples", "max_patches"):
        if not isinstance(hyper[name], int) or hyper[name] < 1:
            raise ValueError(f"hyperparams: {name} must be an int >= 1, got {hyper[name]!r}")


SVD_UNLEARNING = register_method(Method(
    name="svd_unlearning",
    summary="SVD unlearning: kernels projected off the forget-only activation space, one shot "
            "(Kodge et al., TMLR 2024; class_forgetting's get_projection_matrix)",
    retain_term=retain_cross_entropy,
    primary="retain",
    defaults={"epochs": 0, "samples": 900, "alpha_r": 100.0, "alpha_f": 3.0,
              "max_patches": 10_000},
    prepare=_prepare,
    validate=_validate,
    class_unlearning=True,
    one_shot=True,
))
