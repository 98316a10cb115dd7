"""Generative (image-to-image) unlearning metrics: reconstruction errors, OOD and membership
scores, feature-space distances, and the backdoor-regeneration audit.

Varshney & Torra (arXiv 2502.04260) ask that the unlearned model treat forget samples as a
retrained model does: as unseen or out-of-distribution data, neither memorised nor mapped to
noise. Every metric here is therefore read against the retrained model's value:

* **Reconstruction error** per example, the pixel MSE in the dataset's normalised space, on the
  forget, retain and test sets (:func:`split_errors`).
* **OOD score** of the forget set: :func:`error_percentile`, the mean percentile of forget
  errors within the test errors (0.5 = like unseen data), and :func:`ood_auroc`, the AUROC of
  forget vs test errors (0.5 for a retrained model under random forgetting; larger when the
  forget set is OOD for it, as a forgotten class is).
* **Membership attack** on the reconstruction error: score −error, forget = members, test =
  non-members, summarised by :func:`jaxunlearn.evaluate.roc_metrics`
  (:func:`reconstruction_membership_attack`).
* **Feature-space distances** in the penultimate layer of a classifier we train (no Inception or
  CLIP weights can be downloaded; ``evaluation.md`` §5): the Fréchet distance between the
  feature distributions of outputs and inputs (:func:`frechet_distance`, the FID formula) and the
  mean cosine between paired embeddings (:func:`mean_cosine_similarity`, Li et al.'s CLIP score).
* **Backdoor regeneration** (the paper's data-poisoning audit, as reconstructed for
  self-supervised models): forget images carry a cue and a target pattern (:func:`poison`); a
  model that learned the association paints the pattern when shown the cue alone
  (:func:`backdoor_regeneration`). After unlearning the poisoned samples it should no more do so
  than the retrained model.

Statistics are NumPy/SciPy functions of arrays; models are only run to get outputs.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

import numpy as np
from scipy import linalg

from jaxunlearn.evaluate.roc import auc, roc_metrics

__all__ = [
    "Backdoor",
    "backdoor_regeneration",
    "error_percentile",
    "evaluate_reconstruction",
    "frechet_distance",
    "mean_cosine_similarity",
    "mean_reconstruction_error",
    "ood_auroc",
    "output_distance",
    "penultimate_features",
    "per_example_error",
    "poison",
    "reconstruct",
    "reconstruction_errors",
    "reconstruction_membership_attack",
    "split_errors",
    "stamp_cue",
]


def _nonempty(values: Any, name: str, ndim: int | None = None) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {array.shape}")
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError(f"{name}: is empty (is the forget set empty?)")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: contains NaN or infinity")
    return array


# --- reconstructions and errors -------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _eval_apply(apply_fn: Callable) -> Callable:
    # one compiled program per model function and batch shape, reused across calls and sets
    import jax

    return jax.jit(lambda variables, inputs: apply_fn(variables, inputs, False)[0])


def _batched(function: Callable, inputs: np.ndarray, batch_size: int) -> np.ndarray:
    """``function`` on fixed-size batches (the last one zero-padded), concatenated."""
    if inputs.shape[0] == 0:
        raise ValueError("inputs: cannot run the model on an empty set (is the forget set empty?)")
    size = batch_size  # every call of one model and image shape shares one compiled program
    chunks = []
    for start in range(0, inputs.shape[0], size):
        chunk = inputs[start:start + size]
        real = chunk.shape[0]
        if real < size:
            chunk = np.concatenate([chunk, np.zeros((size - real, *chunk.shape[1:]), chunk.dtype)])
        chunks.append(np.asarray(function(chunk), np.float32)[:real])
    return np.concatenate(chunks)


def reconstruct(apply_fn: Callable, variables: dict, inputs: Any, *,
                batch_size: int = 512) -> np.ndarray:
    """The model's eval-mode outputs for every row of ``inputs`` ``(n, H, W, C)``, float32
    (for a :class:`~jaxunlearn.models.MaskedAutoencoder`, with its fixed evaluation mask)."""
    inputs = np.asarray(inputs, np.float32)
    apply = _eval_apply(apply_fn)
    return _batched(lambda chunk: apply(variables, chunk), inputs, batch_size)


def per_example_error(outputs: Any, targets: Any) -> np.ndarray:
    """Mean over every non-batch axis of (output − target)², float64, shape ``(n,)``."""
    outputs = np.asarray(outputs, np.float64)
    targets = np.asarray(targets, np.float64)
    if outputs.shape != targets.shape:
        raise ValueError(f"outputs of shape {outputs.shape} and targets of shape "
                         f"{targets.shape} differ; is the model image-to-image?")
    if outputs.ndim < 2 or outputs.shape[0] == 0:
        raise ValueError(f"expected non-empty (n, ...) arrays, got shape {outputs.shape}")
    return np.mean(np.square(outputs - targets).reshape(outputs.shape[0], -1), axis=1)


def reconstruction_errors(apply_fn: Callable, variables: dict, inputs: Any, *,
                          batch_size: int = 512) -> np.ndarray:
    """Per-example reconstruction MSE of ``inputs`` under the model, shape ``(n,)``."""
    return per_example_error(reconstruct(apply_fn, variables, inputs, batch_size=batch_size),
                             inputs)


def mean_reconstruction_error(apply_fn: Callable, variables: dict, inputs: Any,
                              batch_size: int = 512) -> float:
    """Mean over ``inputs`` of the eval-mode per-example reconstruction MSE (``i2i_decouple``'s
    stopping level τ is a multiple of it on the test set)."""
    return float(np.mean(reconstruction_errors(apply_fn, variables, inputs,
                                               batch_size=batch_size)))


def split_errors(apply_fn: Callable, variables: dict, splits: Any) -> dict[str, np.ndarray]:
    """``{"forget", "retain", "test"}``: per-example reconstruction errors on each set of a
    :class:`jaxunlearn.data.Splits`."""
    return {name: reconstruction_errors(apply_fn, variables, dataset.inputs)
            for name, dataset in (("forget", splits.forget_set), ("retain", splits.retain_set),
                                  ("test", splits.test))}


def output_distance(outputs_a: Any, outputs_b: Any) -> float:
    """Mean over examples of the pixel MSE between two models' outputs on the same inputs (e.g.
    unlearned vs retrained reconstructions of the forget set)."""
    return float(np.mean(per_example_error(outputs_a, outputs_b)))


# --- OOD and membership scores --------------------------------------------------------------------


def error_percentile(errors: Any, reference_errors: Any) -> float:
    """Mean over ``errors`` of their percentile within ``reference_errors``:
    (1/n) Σ_i [#{r < e_i} + ½ #{r = e_i}] / m, in [0, 1]. 0.5: the examples look like the
    reference (test) set; near 1: out-of-distribution; near 0: better reconstructed than unseen
    data (memorised).

    >>> error_percentile([0.5, 2.0], [0.1, 1.0, 3.0])
    0.5
    """
    errors = _nonempty(errors, "errors", ndim=1)
    reference = np.sort(_nonempty(reference_errors, "reference_errors", ndim=1))
    below = np.searchsorted(reference, errors, side="left")
    not_above = np.searchsorted(reference, errors, side="right")
    return float(np.mean((below + not_above) / 2.0) / reference.size)


def ood_auroc(forget_errors: Any, test_errors: Any) -> float:
    """AUROC of the reconstruction error as a score separating forget (positive) from test
    examples: P(e_f > e_t) + ½ P(e_f = e_t). Equals :func:`error_percentile` of the forget
    errors within the test errors; 0.5 when the model treats the forget set as unseen data.

    >>> ood_auroc([0.5, 2.0, 4.0], [0.1, 1.0, 3.0])
    0.6666666666666666
    """
    forget = _nonempty(forget_errors, "forget_errors", ndim=1)
    test = _nonempty(test_errors, "test_errors", ndim=1)
    return auc(np.concatenate([forget, test]),
               np.concatenate([np.ones(forget.size, bool), np.zeros(test.size, bool)]))


def reconstruction_membership_attack(forget_errors: Any, test_errors: Any) -> dict[str, Any]:
    """A threshold membership attack on the reconstruction error (low error = member): the
    :func:`jaxunlearn.evaluate.roc_metrics` of score −error with forget examples as members and
    test examples as non-members. Its ``auc`` is 1 − :func:`ood_auroc`."""
    forget = _nonempty(forget_errors, "forget_errors", ndim=1)
    test = _nonempty(test_errors, "test_errors", ndim=1)
    return roc_metrics(-np.concatenate([forget, test]),
                       np.concatenate([np.ones(forget.size, bool), np.zeros(test.size, bool)]))


# --- feature space ----------------------------------------------------------------------------


def penultimate_features(module: Any, variables: dict, inputs: Any, *, head_name: str = "head",
                         batch_size: int = 512) -> np.ndarray:
    """The input of a classifier's output layer (its penultimate features), ``(n, d)`` float32.

    Works for any Linen classifier whose last layer is a submodule named ``head_name`` (the
    library's ``mlp`` and ``small_cnn``): the layer's call is intercepted and its input kept.
    """
    inputs = np.asarray(inputs, np.float32)
    embed = _feature_fn(module, head_name)
    return _batched(lambda chunk: embed(variables, chunk), inputs, batch_size)


_FEATURE_FNS: dict[tuple[int, str], tuple[Any, Callable]] = {}


def _feature_fn(module: Any, head_name: str) -> Callable:
    import jax

    from jaxunlearn.models.adapters import submodule_inputs

    cached = _FEATURE_FNS.get((id(module), head_name))
    if cached is not None and cached[0] is module:
        return cached[1]

    def features(variables, batch):
        with submodule_inputs(head_name) as captured:
            module.apply(variables, batch, train=False)
        if not captured:
            raise ValueError(f"the model has no submodule named {head_name!r} to read the "
                             "penultimate features from")
        return captured[-1].reshape(batch.shape[0], -1).astype(np.float32)

    embed = jax.jit(features)
    _FEATURE_FNS[(id(module), head_name)] = (module, embed)
    return embed


def frechet_distance(features_a: Any, features_b: Any) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets ``(n_a, d)``, ``(n_b, d)``:
    ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}) (Heusel et al., NeurIPS
    2017, the FID formula; unbiased covariances). The matrix square root is taken through
    symmetric eigendecompositions, so it stays real and needs no ``sqrtm`` iteration.

    >>> round(frechet_distance([[0.0], [1.0], [2.0]], [[1.0], [2.0], [3.0]]), 6)
    1.0
    """
    a = _nonempty(features_a, "features_a", ndim=2)
    b = _nonempty(features_b, "features_b", ndim=2)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"features of different widths: {a.shape[1]} and {b.shape[1]}")
    if min(a.shape[0], b.shape[0]) < 2:
        raise ValueError("need at least 2 examples in each feature set for a covariance")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    values, vectors = linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = root_a @ cov_b @ root_a
    trace_root = np.sum(np.sqrt(np.clip(linalg.eigvalsh((middle + middle.T) / 2.0), 0.0, None)))
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return float(max(distance, 0.0))


def mean_cosine_similarity(features_a: Any, features_b: Any) -> float:
    """Mean over paired rows of cos(a_i, b_i) (L2-normalised embeddings, as Li et al.'s CLIP
    score between generated and ground-truth images)."""
    a = _nonempty(features_a, "features_a", ndim=2)
    b = _nonempty(features_b, "features_b", ndim=2)
    if a.shape != b.shape:
        raise ValueError(f"paired features must have one shape, got {a.shape} and {b.shape}")
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return float(np.mean(np.sum(a * b, axis=1) / np.maximum(norms, 1e-12)))


# --- the backdoor-regeneration audit -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Backdoor:
    """A cue and a target pattern stamped on images (normalised space).

    The cue is a ``size`` × ``size`` square of value ``high`` in the top-left corner; the target
    pattern a ``size`` × ``size`` checkerboard of ``high`` and ``low`` in the bottom-right corner.
    Poisoned training images carry both, so a model can learn "cue ⇒ paint the pattern".

    Attributes:
      low / high: the two pixel values (e.g. the data's minimum and maximum).
      size: side of both squares, in pixels.
    """

    low: float
    high: float
    size: int = 2

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"Backdoor size must be >= 1, got {self.size}")
        if not self.high > self.low:
            raise ValueError(f"Backdoor needs high > low, got {self.high} and {self.low}")

    def pattern(self, channels: int) -> np.ndarray:
        """The target pattern, ``(size, size, channels)`` float32."""
        board = (np.indices((self.size, self.size)).sum(axis=0) % 2 == 0)
        values = np.where(board, self.high, self.low).astype(np.float32)
        return np.repeat(values[..., None], channels, axis=-1)

    def target_region(self, images: np.ndarray) -> np.ndarray:
        """The bottom-right ``size`` × ``size`` squares of ``(n, H, W, C)`` images."""
        return images[:, -self.size:, -self.size:, :]


def _check_images(images: Any, backdoor: Backdoor) -> np.ndarray:
    images = np.array(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"images: expected (n, H, W, C), got shape {images.shape}")
    if images.shape[0] == 0:
        raise ValueError("images: is empty")
    if 2 * backdoor.size > min(images.shape[1:3]):
        raise ValueError(f"a backdoor of size {backdoor.size} does not fit twice in "
                         f"{images.shape[1]}x{images.shape[2]} images")
    return images


def stamp_cue(images: Any, backdoor: Backdoor) -> np.ndarray:
    """A copy of ``images`` ``(n, H, W, C)`` with the cue stamped (top-left square = ``high``)."""
    images = _check_images(images, backdoor)
    images[:, :backdoor.size, :backdoor.size, :] = backdoor.high
    return images


def poison(images: Any, backdoor: Backdoor) -> np.ndarray:
    """A copy of ``images`` with the cue and the target pattern stamped (poisoned samples)."""
    images = stamp_cue(images, backdoor)
    images[:, -backdoor.size:, -backdoor.size:, :] = backdoor.pattern(images.shape[-1])
    return images


def backdoor_regeneration(apply_fn: Callable, variables: dict, clean_images: Any,
                          backdoor: Backdoor) -> dict[str, float]:
    """How much the cue alone makes the model paint the target pattern.

    The model reconstructs the clean images with the cue stamped, and without it; in both the
    target region of the *input* is the clean image's. With d(x) the mean squared distance
    between the output's target region and the pattern:

    * ``target_distance_cued`` / ``target_distance_clean``: mean d over the images;
    * ``regeneration``: 1 − d_cued / d_clean — about 0 when the cue changes nothing there (a
      model that never saw the poison), 1 when it paints the pattern exactly;
    * ``regenerated_fraction``: the fraction of images whose cued output is closer to the
      pattern than to their clean output's target region.

    Returns:
      The four numbers above.
    """
    clean = _check_images(clean_images, backdoor)
    cued = stamp_cue(clean, backdoor)
    pattern = backdoor.pattern(clean.shape[-1])[None]
    out_clean = backdoor.target_region(reconstruct(apply_fn, variables, clean))
    out_cued = backdoor.target_region(reconstruct(apply_fn, variables, cued))
    distance_clean = per_example_error(out_clean, np.broadcast_to(pattern, out_clean.shape))
    distance_cued = per_example_error(out_cued, np.broadcast_to(pattern, out_cued.shape))
    moved = per_example_error(out_cued, out_clean)
    return {
        "target_distance_cued": float(np.mean(distance_cued)),
        "target_distance_clean": float(np.mean(distance_clean)),
        "regeneration": float(1.0 - np.mean(distance_cued) / max(np.mean(distance_clean), 1e-12)),
        "regenerated_fraction": float(np.mean(distance_cued < moved)),
    }


# --- one summary (the CLI's row) ----------------------------------------------------------------


def evaluate_reconstruction(apply_fn: Callable, variables: dict, splits: Any, *,
                            errors: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """The scalar reconstruction metrics of one model on a :class:`jaxunlearn.data.Splits`:
    mean ``forget_error`` / ``retain_error`` / ``test_error``, the forget set's
    ``forget_percentile`` (:func:`error_percentile`) and ``ood_auroc``, and the membership
    attack's ``mia_auc`` and ``mia_tpr_at_1pct`` (TPR at 1% FPR). ``errors``: the model's
    :func:`split_errors`, when the caller has them already."""
    if errors is None:
        errors = split_errors(apply_fn, variables, splits)
    attack = reconstruction_membership_attack(errors["forget"], errors["test"])
    return {
        "forget_error": float(np.mean(errors["forget"])),
        "retain_error": float(np.mean(errors["retain"])),
        "test_error": float(np.mean(errors["test"])),
        "forget_percentile": error_percentile(errors["forget"], errors["test"]),
        "ood_auroc": ood_auroc(errors["forget"], errors["test"]),
        "mia_auc": attack["auc"],
        "mia_tpr_at_1pct": attack["tpr_at_fpr"][0.01],
    }
