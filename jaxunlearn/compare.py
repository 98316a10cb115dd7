"""Compare unlearning methods over several seeds against the retrained model: mean ± std tables.

The shared engine of the experiment scripts (``experiments/<paper>/``): for every seed, train the
original model on D, retrain on D_r as the reference, run every variant (a method with add-ons
and hyperparameters) from the same original, and evaluate all of them with
:func:`~jaxunlearn.evaluate.evaluate_models` (UA / RA / TA / MIA-efficacy / agreement / TV
distance / gap); for class unlearning also MIA-NN (TRW's attack: an SVM on logits, the
neighbour class by vote of all seeds' retrained models) and MIA-NN-logistic (an earlier logistic
attack on neighbour log-probabilities), each with its gap to the retrained model. Rows are
aggregated over seeds as mean and sample standard deviation.

When the model is small, the original recipe is plain (no spectral clipping) and vmapping pays
(:func:`vmap_pays`: not for convolutional networks on CPU), the originals and
the retrained references of all seeds are trained vmapped, in one compiled program each
(:func:`~jaxunlearn.evaluate.train_many`), and every variant whose method and add-ons allow it
unlearns all seeds' originals in one vmapped program too
(:func:`~jaxunlearn.methods.unlearn_many`, each seed the run, to float rounding, that
:func:`~jaxunlearn.methods.unlearn` would make with key = the seed); otherwise one seed at a time
with :func:`~jaxunlearn.train.train` and :func:`~jaxunlearn.methods.unlearn`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from typing import Any, Callable, Sequence

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np

from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig, to_dict
from jaxunlearn.evaluate import evaluate_models
from jaxunlearn.evaluate.class_metrics import mia_nn, mia_nn_logistic, nearest_classes
from jaxunlearn.evaluate.signals import softmax
from jaxunlearn.evaluate.shadows import train_many
from jaxunlearn.evaluate.ulira_audit import unstack_model
from jaxunlearn.methods import ADDONS, can_vmap, get_method, unlearn, unlearn_many
from jaxunlearn.methods.run import forget_classes
from jaxunlearn.pipeline import init_variables, prepare
from jaxunlearn.report import bar_chart, write_table
from jaxunlearn.train import predict_logits, train

__all__ = ["Variant", "compare_methods", "aggregate_rows", "write_comparison", "load_tuned",
           "standard_experiment", "method_hyperparams", "cached_models", "add_relative_metrics",
           "trained_pairs", "vmap_pays", "DATASETS",
           "MEMORISING_SIZES", "SETTINGS", "VMAP_MAX_PARAMS"]

VMAP_MAX_PARAMS = 2_000_000
"""Models up to this many parameters train their seeds vmapped (one program for all seeds)."""


@dataclasses.dataclass(frozen=True)
class Variant:
    """One row of a comparison: ``method`` with ``addons`` and hyperparameter overrides.

    ``name`` labels the row (default ``method`` or ``method+addon+...``).
    """

    method: str
    addons: tuple = ()
    hyperparams: dict | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or "+".join([self.method, *[str(a) for a in self.addons]])


DATASETS = ("digits", "fashion_mnist", "fashion_mnist_mem")
"""The recipes of :func:`standard_experiment`."""

MEMORISING_SIZES = (1000, 2000)
"""Training and test images of the memorising Fashion-MNIST recipe (``fashion_mnist_mem``)."""

SETTINGS = {"random10": 0.1, "random50": 0.5, "class": None}
"""The forgetting settings of the paper experiments: a random 10 % or 50 % of the training set,
or one whole class."""


def standard_experiment(data: str, setting: str, *, forget_class: int | None = None,
                        epochs: int | None = None) -> ExperimentConfig:
    """The paper experiments' shared recipe for ``data`` and a forgetting ``setting``.

    Digits: an MLP (256, 256), 30 epochs of SGD, batch 64 (class 3 forgotten by default).
    Fashion-MNIST: the small CNN, 20 epochs, batch 128 (class 6, shirt, by default).
    ``fashion_mnist_mem``, the memorising setting: the same CNN on a class-stratified subset of
    1,000 training images (and 2,000 test images, for faster evaluation), 40 epochs, after which
    it classifies 99.9 % of its training images correctly against about 83 % of the test images,
    as the papers' CIFAR ResNet-18s memorise theirs. All with learning rate 0.05 and weight decay
    5e-4 (cosine schedule); splits and subsets drawn with seed 0.
    """
    if setting not in SETTINGS:
        raise ValueError(f"setting: unknown {setting!r}; choose from {list(SETTINGS)}")
    if data not in DATASETS:
        raise ValueError(f"data: choose from {list(DATASETS)}, got {data!r}")
    digits = data == "digits"
    if forget_class is None:
        forget_class = 3 if digits else 6
    forget = ({"forget_fraction": SETTINGS[setting]} if SETTINGS[setting] is not None
              else {"forget_fraction": None, "forget_classes": (int(forget_class),)})
    if digits:
        return ExperimentConfig(
            data=DataConfig(name="digits", seed=0, **forget),
            model=ModelConfig(name="mlp", options={"hidden_sizes": [256, 256]}),
            train=TrainConfig(epochs=epochs or 30, batch_size=64, learning_rate=0.05,
                              weight_decay=5e-4))
    if data == "fashion_mnist_mem":
        train_size, test_size = MEMORISING_SIZES
        return ExperimentConfig(
            data=DataConfig(name="fashion_mnist", seed=0, train_size=train_size,
                            test_size=test_size, **forget),
            model=ModelConfig(name="small_cnn"),
            train=TrainConfig(epochs=epochs or 40, batch_size=128, learning_rate=0.05,
                              weight_decay=5e-4))
    return ExperimentConfig(
        data=DataConfig(name="fashion_mnist", seed=0, **forget),
        model=ModelConfig(name="small_cnn"),
        train=TrainConfig(epochs=epochs or 20, batch_size=128, learning_rate=0.05,
                          weight_decay=5e-4))


def method_hyperparams(method: str, data: str, setting: str,
                       tuned_dir: str | os.PathLike | None = None) -> dict:
    """A method's hyperparameters in a paper experiment: the tuned choice in
    ``tuned_dir/<data>_<setting>.json`` (``experiments/tune.py --write``) if there is one, else
    on digits the quickstart's (tuned for random forgetting on the digits MLP, with batch 64),
    else ``{}`` (the method's defaults). ``method`` may name a variant ``"method+add-on"``, tuned
    on its own or else taking its base method's hyperparameters."""
    if tuned_dir is not None:
        tuned = load_tuned(os.path.join(os.fspath(tuned_dir), f"{data}_{setting}.json"))
        if method in tuned:
            return dict(tuned[method])
    if "+" in method:  # a masked variant not tuned on its own: its base method's choice
        return method_hyperparams(method.partition("+")[0], data, setting, tuned_dir)
    if data == "digits":
        from jaxunlearn.quickstart import DIGITS_HYPERPARAMS

        return dict(DIGITS_HYPERPARAMS.get(method, {"batch_size": 64}))
    return {}


def load_tuned(path: str | os.PathLike) -> dict[str, dict]:
    """The per-method hyperparameters a tuning run chose (``experiments/tune.py --write``):
    ``{method: {hyperparameter: value}}`` from the file's ``"methods"``, or ``{}`` if the file
    does not exist. A file of another shape is a ``ValueError`` naming it."""
    path = os.fspath(path)
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        try:
            payload = json.load(handle)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not JSON ({error})") from None
    methods = payload.get("methods") if isinstance(payload, dict) else None
    if not isinstance(methods, dict) or not all(
            isinstance(name, str) and isinstance(hyper, dict) for name, hyper in methods.items()):
        raise ValueError(f"{path}: expected {{'methods': {{method: {{hyperparameter: value}}}}}}")
    return {name: dict(hyper) for name, hyper in methods.items()}


def _check_variants(variants: Sequence[Variant], class_unlearning: bool) -> None:
    if not variants:
        raise ValueError("variants: need at least one method to compare")
    labels = [variant.label for variant in variants]
    if len(set(labels)) != len(labels) or "original" in labels or "retrain" in labels:
        raise ValueError(f"variants: labels must be unique and not 'original'/'retrain', got "
                         f"{labels}")
    for variant in variants:
        method = get_method(variant.method)
        if method.class_unlearning and not class_unlearning:
            raise ValueError(f"variants: {variant.method!r} unlearns whole classes; set "
                             "data.forget_classes")
        for addon in variant.addons:
            name = addon[0] if isinstance(addon, tuple) else addon
            if isinstance(name, str) and name not in ADDONS:
                raise ValueError(f"variants: unknown add-on {name!r}; available: {sorted(ADDONS)}")


def cached_models(cache_dir: str | os.PathLike | None, key: dict, build: Callable[[], Any]):
    """``build()``'s variables, kept in ``cache_dir`` under a digest of ``key`` (a JSON-able
    description of everything that decides them: data fingerprints, model, recipe, seeds), so
    that experiments sharing an original (every forgetting setting of one dataset shares its
    originals) or a rerun after an interruption train it once. ``cache_dir=None`` just builds.
    Files are written atomically (a temporary file, then a rename): a killed run leaves no
    half-written model."""
    if cache_dir is None:
        return build()
    text = json.dumps(key, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    path = os.path.join(os.fspath(cache_dir), f"{key.get('kind', 'models')}-{digest}.msgpack")
    if os.path.exists(path):
        with open(path, "rb") as handle:
            restored = flax.serialization.msgpack_restore(handle.read())
        return jax.tree.map(jnp.asarray, restored["variables"])
    variables = build()
    os.makedirs(os.fspath(cache_dir), exist_ok=True)
    payload = flax.serialization.msgpack_serialize(
        {"key": text, "variables": jax.tree.map(np.asarray, variables)})
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "wb") as handle:
        handle.write(payload)
    os.replace(temporary, path)
    return variables


def vmap_pays(variables: Any) -> bool:
    """Whether training or unlearning several seeds as one vmapped program beats running them
    one after another: not on CPU for a network with convolutions (any 4-D kernel), where
    XLA:CPU turns the vmapped convolutions into grouped ones and the three Fashion-MNIST CNN
    originals of the memorising setting train at 730 images/s vmapped against about 2,000
    images/s one by one (2 cores); elsewhere (accelerators, MLPs) it pays."""
    if jax.default_backend() != "cpu":
        return True
    return not any(np.ndim(leaf) >= 4 for leaf in jax.tree.leaves(variables))


def _model_key(kind: str, setup, config: TrainConfig, seeds, dataset) -> dict:
    return {"kind": kind, "data": dataset.fingerprint(), "size": len(dataset),
            "model": type(setup.module).__name__ if setup.module is not None else None,
            "module": repr(setup.module), "train": to_dict(config), "seeds": list(seeds),
            "backend": jax.default_backend(), "jax": jax.__version__}


def _originals(setup, config: TrainConfig, seeds: Sequence[int], progress: bool,
               cache_dir: str | os.PathLike | None = None):
    """Per seed: the original (on D) and the retrained reference (on D_r) variables, plus the
    originals stacked on a model axis when they were trained vmapped (else ``None``). With
    ``cache_dir``, each is loaded from (or saved to) the cache (:func:`cached_models`)."""
    splits, fns = setup.splits, setup.model_fns
    template = init_variables(setup, 0)
    num_params = sum(np.size(leaf) for leaf in jax.tree.leaves(template))
    plain = not config.spectral_max_norm
    retrain_seeds = [seed + 10_000 for seed in seeds]
    if plain and num_params <= VMAP_MAX_PARAMS and len(seeds) > 1 and vmap_pays(template):
        total = len(splits.train)
        retain = np.zeros(total, bool)
        retain[splits.retain_indices] = True
        originals = cached_models(
            cache_dir, _model_key("original", setup, config, seeds, splits.train),
            lambda: train_many(fns, splits.train, np.ones((len(seeds), total), bool), config,
                               seeds=list(seeds)))
        retrains = cached_models(
            cache_dir, _model_key("retrain", setup, config, retrain_seeds, splits.retain_set),
            lambda: train_many(fns, splits.train, np.tile(retain, (len(seeds), 1)), config,
                               seeds=retrain_seeds))
        return ([(unstack_model(originals, i), unstack_model(retrains, i))
                 for i in range(len(seeds))], originals, "vmapped (train_many)")
    pairs = []
    reference = dataclasses.replace(config, spectral_max_norm=0.0)
    for seed, retrain_seed in zip(seeds, retrain_seeds):
        seeded = dataclasses.replace(config, seed=seed)
        original = cached_models(
            cache_dir, _model_key("original", setup, seeded, [seed], splits.train),
            lambda: train(fns.apply, init_variables(setup, seed), splits.train, seeded,
                          progress=progress, description=f"original seed {seed}",
                          module=setup.module).variables)
        retrained = cached_models(
            cache_dir, _model_key("retrain", setup, dataclasses.replace(reference, seed=seed),
                                  [retrain_seed], splits.retain_set),
            lambda: train(fns.apply, init_variables(setup, retrain_seed), splits.retain_set,
                          dataclasses.replace(reference, seed=seed), progress=progress,
                          description=f"retrain seed {seed}").variables)
        pairs.append((original, retrained))
    return pairs, None, "sequential (train)"


def trained_pairs(experiment: ExperimentConfig, seeds: Sequence[int], *,
                  cache_dir: str | os.PathLike | None = None, progress: bool = False):
    """``(setup, [(original, retrained) per seed])``: the models :func:`compare_methods` starts
    from (the same programs, seeds and cache), for experiments that drive the unlearning
    themselves (e.g. per-epoch curves)."""
    setup = prepare(experiment)
    pairs, _, _ = _originals(setup, experiment.train, [int(s) for s in seeds], progress,
                             cache_dir)
    return setup, pairs


def _unlearn_variant(setup, variant: Variant, pairs, stacked, seeds, progress, echo):
    """Every seed's unlearned variables and seconds for ``variant``: one vmapped program over
    the stacked originals when the method and add-ons allow it (:func:`unlearn_many`; each
    seed's seconds are then the shared run's time divided by the number of seeds), else one
    :func:`unlearn` per seed. Returns ``(variables per seed, seconds per seed, vmapped)``."""
    splits = setup.splits
    if stacked is not None and can_vmap(variant.method, variant.addons, module=setup.module):
        started = time.perf_counter()
        result = unlearn_many(setup.model_fns, stacked, splits, variant.method,
                              keys=list(seeds), addons=variant.addons,
                              hyperparams=variant.hyperparams, module=setup.module,
                              progress=progress)
        seconds = (time.perf_counter() - started) / len(seeds)
        vmapped = bool(result.logs[0].get("vmapped"))
        echo(f"{variant.label}: {len(seeds)} seed(s) "
             f"{'vmapped' if vmapped else 'in sequence'} in {seconds * len(seeds):.1f} s")
        return ([unstack_model(result.variables, i) for i in range(len(seeds))],
                [seconds] * len(seeds), vmapped)
    variables, seconds = [], []
    for seed, (original, _) in zip(seeds, pairs):
        started = time.perf_counter()
        result = unlearn(setup.model_fns, original, splits, variant.method,
                         addons=variant.addons, hyperparams=variant.hyperparams, key=seed,
                         module=setup.module, progress=progress)
        seconds.append(time.perf_counter() - started)
        variables.append(result.variables)
        echo(f"seed {seed}: {variant.label} in {seconds[-1]:.1f} s")
    return variables, seconds, False


CLASS_ATTACKS = ("MIA-NN", "MIA-NN-logistic")
"""The class-unlearning attacks of a comparison: TRW's MIA-NN (:func:`mia_nn`) and the logistic
attack this library reported before (:func:`mia_nn_logistic`)."""


def _class_neighbours(apply_fn, retrained: Sequence[dict], splits) -> np.ndarray:
    """MIA-NN's neighbour classes: for each forgotten class, its nearest remaining class by vote
    of all the retrained models (one per seed) on its held-out inputs (:func:`nearest_classes`,
    ``rule="vote"``), as the paper identifies it from several retrained models."""
    classes = forget_classes(splits)
    test = splits.test
    neighbours = set()
    for forgotten in classes:
        inputs = test.inputs[test.labels == forgotten]
        if len(inputs) == 0:
            continue
        probs = np.stack([softmax(predict_logits(apply_fn, variables, inputs))
                          for variables in retrained])
        neighbours.update(int(c) for c in nearest_classes(probs, forgotten, k=1, rule="vote"))
    return np.array(sorted(neighbours - set(classes)), np.int64)


def _class_attack(apply_fn, models: dict, splits, reference: str,
                  neighbours: np.ndarray) -> dict[str, dict[str, float]]:
    """Both class attacks (balanced accuracy, %) of every model on held-out inputs of the
    forgotten classes vs their nearest classes.

    ``"MIA-NN"``: an SVM on logits (:func:`mia_nn`) against ``neighbours``
    (:func:`_class_neighbours`). ``"MIA-NN-logistic"``: :func:`mia_nn_logistic` against the 2
    nearest classes by this seed's ``reference`` model's mean probabilities (as before)."""
    classes = forget_classes(splits)
    test = splits.test
    in_forget = np.isin(test.labels, classes)
    if not in_forget.any():
        return {}
    logistic_neighbours = set()
    for forgotten in classes:
        inputs = test.inputs[test.labels == forgotten]
        probs = softmax(predict_logits(apply_fn, models[reference], inputs))
        logistic_neighbours.update(int(c) for c in nearest_classes(probs, forgotten, k=2,
                                                                     rule="mean"))
    logistic_neighbours = np.array(sorted(logistic_neighbours - set(classes)))
    in_logistic = np.isin(test.labels, logistic_neighbours)
    in_neighbours = np.isin(test.labels, neighbours)
    scores = {attack: {} for attack in CLASS_ATTACKS}
    for name, variables in models.items():
        logits = predict_logits(apply_fn, variables, test.inputs)
        probs = softmax(logits)
        finite = bool(np.isfinite(probs).all() and np.isfinite(logits).all())  # else diverged
        scores["MIA-NN"][name] = (100.0 * mia_nn(logits[in_forget], logits[in_neighbours])
                                  if finite else float("nan"))
        scores["MIA-NN-logistic"][name] = (
            100.0 * mia_nn_logistic(probs[in_forget], probs[in_logistic], logistic_neighbours)
            if finite else float("nan"))
    return scores


def aggregate_rows(per_seed: Sequence[dict], metrics: Sequence[str]) -> list[dict]:
    """Mean and sample standard deviation over seeds of ``metrics``, one row per method.

    Each output row has ``method``, ``seeds``, ``<metric>_mean``, ``<metric>_std`` (0 for a single
    seed) and ``<metric>`` formatted as ``"mean ± std"`` for the Markdown table.
    """
    by_method: dict[str, list[dict]] = {}
    for row in per_seed:
        by_method.setdefault(row["method"], []).append(row)
    rows = []
    for method, group in by_method.items():
        row: dict[str, Any] = {"method": method, "seeds": len(group)}
        for metric in metrics:
            values = [float(r[metric]) for r in group if metric in r]
            if not values:
                continue
            mean = float(np.mean(values))
            std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
            row[f"{metric}_mean"], row[f"{metric}_std"] = mean, std
            row[metric] = f"{mean:.2f} ± {std:.2f}" if math.isfinite(mean) else "nan"
        rows.append(row)
    return rows


def compare_methods(
    experiment: ExperimentConfig,
    variants: Sequence[Variant],
    *,
    seeds: Sequence[int] = (0,),
    reference_hyperparams: dict | None = None,
    progress: bool = False,
    echo: Callable[[str], None] = print,
    cache_dir: str | os.PathLike | None = None,
    attack: Callable[[Callable, dict, Any], dict] | None = None,
) -> tuple[list[dict], list[dict], dict]:
    """Run every variant from the same originals for every seed and evaluate against retraining.

    Args:
      experiment: data (with the forget set), model and the original's training recipe; the
        splits are the same for every seed (``data.seed``), the seeds vary the training.
      variants: the methods to compare (:class:`Variant`).
      seeds: training seeds; each gives an original, a retrained reference and one run per
        variant (unlearning key = the seed).
      reference_hyperparams: recorded with the results (the references are trained with
        ``experiment.train``, without spectral clipping).
      cache_dir: keep the originals and references there (:func:`cached_models`): experiments
        that share them (the forgetting settings of one dataset share the originals) or a rerun
        train them once.
      attack: ``attack(apply_fn, models, splits) -> {model name: {metric: value}}``, run per
        seed on every model (``"original"``, ``"retrain"`` and the variants' labels), e.g. an
        RMIA forget-vs-test AUC; its metrics join the rows and the aggregates.

    Returns:
      ``(per_seed_rows, aggregated_rows, record)``: every model's metrics per seed (with
      ``seed`` and ``seconds``), the mean ± std rows (:func:`aggregate_rows`) and a JSON-able
      record of what ran (how the originals were trained, seconds).
    """
    seeds = [int(seed) for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: need distinct seeds, got {seeds}")
    setup = prepare(experiment)
    splits = setup.splits
    class_unlearning = bool(forget_classes(splits))
    _check_variants(variants, class_unlearning)
    started = time.perf_counter()
    pairs, stacked, how = _originals(setup, experiment.train, seeds, progress, cache_dir)
    originals_seconds = time.perf_counter() - started
    echo(f"originals and references of {len(seeds)} seed(s): {how}, {originals_seconds:.1f} s")
    unlearned, vmapped = {}, {}
    for variant in variants:
        variables, times, vmapped[variant.label] = _unlearn_variant(
            setup, variant, pairs, stacked, seeds, progress, echo)
        unlearned[variant.label] = (variables, times)
    neighbours = (_class_neighbours(setup.model_fns.apply, [r for _, r in pairs], splits)
                  if class_unlearning else None)
    per_seed, extra_metrics = [], {}
    for index, (seed, (original, retrained)) in enumerate(zip(seeds, pairs)):
        models = {"original": original, "retrain": retrained}
        seconds = {"original": float("nan"), "retrain": float("nan")}
        for label, (variables, times) in unlearned.items():
            models[label], seconds[label] = variables[index], times[index]
        rows = evaluate_models(setup.model_fns.apply, models, splits, reference="retrain")
        scores = _class_attack(setup.model_fns.apply, models, splits, "retrain",
                               neighbours) if class_unlearning else {}
        extra = attack(setup.model_fns.apply, models, splits) if attack is not None else {}
        for name, values in extra.items():
            for metric, value in values.items():
                scores.setdefault(metric, {})[name] = float(value)
                extra_metrics.setdefault(metric, None)
        for row in rows:
            row["seed"], row["seconds"] = seed, seconds[row["method"]]
            if row.get("diverged"):
                echo(f"seed {seed}: {row['method']} diverged (non-finite outputs); its metrics "
                     "are NaN")
            for metric, values in scores.items():
                row[metric] = values[row["method"]]
                row[f"{metric}_gap"] = abs(values[row["method"]] - values["retrain"])
        per_seed.extend(rows)
    metrics = ["UA", "RA", "TA", "MIA", "forget_auc", "agreement", "tv_forget", "forget_loss",
               "gap", "seconds"] + ([name for attack in CLASS_ATTACKS
                                     for name in (attack, f"{attack}_gap")]
                                    if class_unlearning else []) + [
        name for metric in extra_metrics for name in (metric, f"{metric}_gap")]
    record = {"seeds": seeds, "originals": how, "originals_seconds": originals_seconds,
              "unlearning_vmapped": vmapped,
              "variants": [dataclasses.asdict(variant) | {"label": variant.label}
                           for variant in variants],
              "class_unlearning": class_unlearning, "splits": splits.summary(),
              "reference_hyperparams": reference_hyperparams}
    if class_unlearning:
        record["mia_nn_neighbours"] = [int(c) for c in neighbours]
    return per_seed, aggregate_rows(per_seed, metrics), record


def add_relative_metrics(per_seed: list[dict]) -> list[str]:
    """Add, in place, the masks paper's metric families that are relative to the original
    (Dine et al., arXiv 2511.02435, abstract: "relative unlearning accuracy"; its definition
    was not in the text we could read, so this is our reading): per seed, against that seed's
    original (o) and retrained (r) models,

    - ``rel_UA`` = (UA − UA_o) / (UA_r − UA_o): the share of the retrained model's forgetting
      reached (0 = none, 1 = as much as retraining, > 1 = more);
    - ``RA_cost`` = RA_o − RA and ``TA_cost`` = TA_o − TA: accuracy points lost.

    Returns the names added (aggregate them with :func:`aggregate_rows`)."""
    by_seed: dict[Any, dict[str, dict]] = {}
    for row in per_seed:
        by_seed.setdefault(row["seed"], {})[row["method"]] = row
    for rows in by_seed.values():
        original, retrained = rows["original"], rows["retrain"]
        span = retrained["UA"] - original["UA"]
        for row in rows.values():
            row["rel_UA"] = (row["UA"] - original["UA"]) / span if span else float("nan")
            row["RA_cost"] = original["RA"] - row["RA"]
            row["TA_cost"] = original["TA"] - row["TA"]
    return ["rel_UA", "RA_cost", "TA_cost"]


def write_comparison(out_dir: str, name: str, per_seed, aggregated, record, *, title: str,
                     metadata: dict, chart_metrics: Sequence[str]) -> dict:
    """Write ``name.{md,csv,json}`` (mean ± std), ``name_per_seed.json`` and ``name.png``."""
    os.makedirs(out_dir, exist_ok=True)
    metric_columns = [key for key in ("UA", "RA", "TA", "MIA", "MIA-NN", "MIA-NN-logistic",
                                      "RMIA_AUC", "rel_UA", "RA_cost", "TA_cost", "tv_forget",
                                      "gap", "seconds") if key in aggregated[0]]
    paths = write_table(aggregated, ["method", "seeds", *metric_columns], out_dir, name,
                        metadata={**metadata, "comparison": record}, digits=3)
    per_seed_path = os.path.join(out_dir, f"{name}_per_seed.json")
    with open(per_seed_path, "w") as handle:
        json.dump(per_seed, handle, indent=1, default=float)
    chart_rows = [{"method": row["method"], **{m: row.get(f"{m}_mean", float("nan"))
                                                for m in chart_metrics}} for row in aggregated]
    chart = bar_chart(chart_rows, list(chart_metrics), os.path.join(out_dir, f"{name}.png"),
                      title=title)
    return {**paths, "per_seed": per_seed_path, "png": chart}
