"""The paper experiments' shared recipes: datasets, forgetting settings and tuned hyperparameters.

:func:`standard_experiment` is the recipe (data, model, training of the original) that the
experiment scripts (``experiments/<paper>/``: AMUN, Ebrahimpour-Boroojeny et al. 2025; TRW, Wang
et al. 2025; the feasible-update masks, Dine et al. 2025) share for a dataset and a forgetting
setting (:data:`SETTINGS`); :func:`method_hyperparams` and :func:`load_tuned` give each method's
hyperparameters there (the choice of ``experiments/tune.py --write``, else the quickstart's on
digits). Re-exported by :mod:`jaxunlearn.compare`, whose :func:`~jaxunlearn.compare.compare_methods`
runs them.
"""

from __future__ import annotations

import json
import os

from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig

__all__ = ["standard_experiment", "method_hyperparams", "load_tuned", "DATASETS",
           "MEMORISING_SIZES", "SETTINGS", "SURROGATES"]


DATASETS = ("digits", "fashion_mnist", "fashion_mnist_mem")
"""The recipes of :func:`standard_experiment`."""

MEMORISING_SIZES = (1000, 2000)
"""Training and test images of the memorising Fashion-MNIST recipe (``fashion_mnist_mem``)."""

SETTINGS = {"random10": 0.1, "random50": 0.5, "class": None}
"""The forgetting settings of the paper experiments: a random 10 % or 50 % of the training set,
or one whole class."""

SURROGATES = {"digits": ("fashion_mnist", 1000), "fashion_mnist": ("digits", 1000),
              "fashion_mnist_mem": ("digits", 1000)}
"""Each recipe's out-of-distribution surrogate set (``standard_experiment(..., surrogate=True)``):
another dataset's training images resized to the task's, and how many. SCAR distils on 10,000
ImageNet images for CIFAR; here the other small grey-scale set plays that part."""


def standard_experiment(data: str, setting: str, *, forget_class: int | None = None,
                        epochs: int | None = None, surrogate: bool = False) -> ExperimentConfig:
    """The paper experiments' shared recipe for ``data`` and a forgetting ``setting``.

    Digits: an MLP (256, 256), 30 epochs of SGD, batch 64 (class 3 forgotten by default).
    Fashion-MNIST: the small CNN, 20 epochs, batch 128 (class 6, shirt, by default).
    ``fashion_mnist_mem``, the memorising setting: the same CNN on a class-stratified subset of
    1,000 training images (and 2,000 test images, for faster evaluation), 40 epochs, after which
    it classifies 99.9 % of its training images correctly against about 83 % of the test images,
    as the papers' CIFAR ResNet-18s memorise theirs. All with learning rate 0.05 and weight decay
    5e-4 (cosine schedule); splits and subsets drawn with seed 0.

    ``surrogate=True`` adds the recipe's out-of-distribution public set (:data:`SURROGATES`) for
    the methods that distil on one (SCAR); it leaves the forget, retain and test sets as they are.
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
    if surrogate:
        source, size = SURROGATES[data]
        forget.update(public_source=source, public_size=size)
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
