"""Experiment configuration: frozen dataclasses validated when they are built.

A config file is a Python file with a ``get_config()`` function returning one of these
dataclasses (as in the Flax examples' ``configs/``). Any field can be overridden from the
command line with dotted paths, e.g. ``--set train.learning_rate=0.05 --set data.forget_classes=3,5``.
Every check runs at construction, so a bad value fails before anything is compiled or written.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import json
import math
import os
import types
import typing
from typing import Any

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "cosine", "warmup_cosine", "step")
DTYPES = ("float32", "bfloat16", "float16")


def _require(condition: bool, name: str, message: str) -> None:
    if not condition:
        raise ValueError(f"{name}: {message}")


def _finite(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} ({value!r})")
    _require(math.isfinite(value), name, f"must be finite, got {value!r}")


def _positive_int(value: Any, name: str, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    low = 0 if allow_zero else 1
    _require(value >= low, name, f"must be >= {low}, got {value}")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Which dataset to load and how to split it (see :func:`jaxunlearn.data.make_splits`).

    Exactly one forget request must be set: ``forget_fraction`` (random fraction of the training
    set), ``forget_classes`` (whole classes) or ``forget_indices`` (explicit training indices).

    ``train_size`` / ``test_size`` keep a class-stratified random subset of the loaded training /
    test set (drawn with ``seed``; :func:`jaxunlearn.data.stratified_subset`) before splitting,
    e.g. the few thousand Fashion-MNIST images on which the small CNN memorises.

    A public set (for the methods that read ``splits.public``: ALU, SCAR) is requested with
    ``public_fraction`` or ``public_size``. It is drawn from the test set (and removed from it),
    or, with ``public_source`` naming another dataset (a :func:`jaxunlearn.data.load_dataset`
    name), from that dataset's training images resized to this task's input shape
    (:func:`jaxunlearn.data.resize_like`; SCAR's out-of-distribution surrogate images), leaving
    the test set whole.
    """

    name: str = "digits"
    data_dir: str | None = None
    forget_fraction: float | None = 0.1
    forget_classes: tuple[int, ...] = ()
    forget_indices: tuple[int, ...] = ()
    public_fraction: float | None = None
    public_size: int | None = None
    public_source: str | None = None
    public_class_skew: float = 0.0
    public_corruption: float = 0.0
    seed: int = 0
    train_size: int | None = None
    test_size: int | None = None

    def __post_init__(self) -> None:
        _require(bool(self.name), "data.name", "must not be empty")
        requests = [
            self.forget_fraction is not None,
            len(self.forget_classes) > 0,
            len(self.forget_indices) > 0,
        ]
        _require(
            sum(requests) == 1,
            "data.forget_fraction/forget_classes/forget_indices",
            f"set exactly one forget request, got {sum(requests)}",
        )
        if self.forget_fraction is not None:
            _finite(self.forget_fraction, "data.forget_fraction")
            _require(0 < self.forget_fraction < 1, "data.forget_fraction", "must be in (0, 1)")
        if self.public_fraction is not None:
            _finite(self.public_fraction, "data.public_fraction")
            _require(0 < self.public_fraction < 1, "data.public_fraction", "must be in (0, 1)")
            _require(self.public_size is None, "data.public_fraction/public_size",
                     "give at most one of them")
        if self.public_size is not None:
            _positive_int(self.public_size, "data.public_size")
        if self.public_source is not None:
            if not isinstance(self.public_source, str):
                raise TypeError(f"data.public_source must be a dataset name (str), got "
                                f"{type(self.public_source).__name__}")
            _require(bool(self.public_source), "data.public_source", "must not be empty")
            _require(self.public_fraction is not None or self.public_size is not None,
                     "data.public_source", "needs data.public_fraction or data.public_size")
        for name in ("public_class_skew", "public_corruption"):
            _finite(getattr(self, name), f"data.{name}")
            _require(getattr(self, name) >= 0, f"data.{name}", "must be >= 0")
        _positive_int(self.seed, "data.seed", allow_zero=True)
        for name in ("train_size", "test_size"):
            if getattr(self, name) is not None:
                _positive_int(getattr(self, name), f"data.{name}")

    def split_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`jaxunlearn.data.make_splits`."""
        kwargs: dict[str, Any] = {"seed": self.seed}
        if self.forget_fraction is not None:
            kwargs["forget_fraction"] = self.forget_fraction
        elif self.forget_classes:
            kwargs["forget_classes"] = list(self.forget_classes)
        else:
            kwargs["forget_indices"] = list(self.forget_indices)
        if self.public_fraction is not None or self.public_size is not None:
            kwargs.update(
                public_class_skew=self.public_class_skew,
                public_corruption=self.public_corruption,
            )
            if self.public_fraction is not None:
                kwargs["public_fraction"] = self.public_fraction
            else:
                kwargs["public_size"] = self.public_size
        return kwargs


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """A model from the registry (:data:`jaxunlearn.models.MODELS`) and its compute dtype.

    ``options`` holds constructor arguments of the module, e.g. ``{"hidden_sizes": [128]}``.
    """

    name: str = "mlp"
    dtype: str = "float32"
    options: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        _require(bool(self.name), "model.name", "must not be empty")
        _require(self.dtype in DTYPES, "model.dtype", f"must be one of {DTYPES}, got {self.dtype!r}")
        if not isinstance(self.options, dict):
            raise TypeError(f"model.options must be a dict, got {type(self.options).__name__}")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training (or fine-tuning) run: optimizer, schedule, epochs, batching, checkpoints.

    ``steps`` overrides ``epochs`` when positive. ``checkpoint_every_steps`` = 0 saves at the end
    of every epoch; checkpoints are only written when the run is given a work directory.
    ``spectral_max_norm`` > 0 trains with FastClip (Boroojeny, Telgarsky, Sundaram, AISTATS
    2024): every dense and convolution layer's operator norm is clipped to it every
    ``spectral_every_steps`` steps, which makes smooth originals (AMUN's claim is that
    smoothness helps unlearning). As in the authors' code, convolutions are clipped both ways
    (one more than 0.05 below the bound is raised to it) and dense layers only down; batch norm
    is left alone (``model.name=resnet18_nobn`` is their batch-norm-free ResNet-18).
    """

    epochs: int = 10
    steps: int = 0
    batch_size: int = 128
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    warmup_epochs: float = 0.0
    decay_epochs: tuple[int, ...] = ()
    decay_factor: float = 0.1
    augment: bool = True
    seed: int = 0
    checkpoint_every_steps: int = 0
    max_checkpoints: int = 3
    log_every_steps: int = 20
    spectral_max_norm: float = 0.0
    spectral_every_steps: int = 50

    def __post_init__(self) -> None:
        _positive_int(self.epochs, "train.epochs")
        _finite(self.spectral_max_norm, "train.spectral_max_norm")
        _require(self.spectral_max_norm >= 0, "train.spectral_max_norm", "must be >= 0 (0 = off)")
        _positive_int(self.spectral_every_steps, "train.spectral_every_steps")
        _positive_int(self.steps, "train.steps", allow_zero=True)
        _positive_int(self.batch_size, "train.batch_size")
        _require(self.optimizer in OPTIMIZERS, "train.optimizer", f"must be one of {OPTIMIZERS}")
        _require(self.schedule in SCHEDULES, "train.schedule", f"must be one of {SCHEDULES}")
        for name in ("learning_rate", "momentum", "weight_decay", "warmup_epochs", "decay_factor"):
            _finite(getattr(self, name), f"train.{name}")
        _require(self.learning_rate > 0, "train.learning_rate", "must be > 0")
        _require(0 <= self.momentum < 1, "train.momentum", "must be in [0, 1)")
        _require(self.weight_decay >= 0, "train.weight_decay", "must be >= 0")
        _require(self.warmup_epochs >= 0, "train.warmup_epochs", "must be >= 0")
        _require(0 < self.decay_factor <= 1, "train.decay_factor", "must be in (0, 1]")
        _require(
            all(isinstance(e, int) and e > 0 for e in self.decay_epochs),
            "train.decay_epochs",
            "must be positive ints",
        )
        _positive_int(self.seed, "train.seed", allow_zero=True)
        _positive_int(self.checkpoint_every_steps, "train.checkpoint_every_steps", allow_zero=True)
        _positive_int(self.max_checkpoints, "train.max_checkpoints")
        _positive_int(self.log_every_steps, "train.log_every_steps")


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Data, model and the original model's training recipe."""

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-able dict of a (nested) config dataclass."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=list))


# --- loading and overriding -------------------------------------------------------------


def load_config_file(path: str | os.PathLike) -> Any:
    """Run a Python config file and return what its ``get_config()`` returns."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config file {path!r} does not exist")
    spec = importlib.util.spec_from_file_location("_jaxunlearn_config", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    get_config = getattr(module, "get_config", None)
    if not callable(get_config):
        raise ValueError(f"config file {path!r} must define a get_config() function")
    config = get_config()
    if not dataclasses.is_dataclass(config):
        raise TypeError(f"get_config() in {path!r} must return a config dataclass, got {type(config)}")
    return config


def _parse_value(text: str, annotation: Any, path: str) -> Any:
    """Convert the command-line text of one override to the field's annotated type (the one
    value parser: config overrides, ``--hp`` and add-on options all come through here)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in ("none", "null") and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _parse_value(text, option, path)
            except (TypeError, ValueError) as error:
                errors.append(str(error))
        raise ValueError(f"{path}: cannot parse {text!r} ({'; '.join(errors)})")
    if annotation is bool:
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"{path}: expected a boolean, got {text!r}")
    if annotation is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{path}: expected an int, got {text!r}") from None
    if annotation is float:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{path}: expected a number, got {text!r}") from None
    if annotation is str:
        return text
    if origin is tuple:
        element = args[0] if args else str
        stripped = text.strip().strip("()[]")
        if not stripped:
            return ()
        return tuple(_parse_value(item.strip(), element, path) for item in stripped.split(","))
    if annotation is dict or origin is dict:
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = ast.literal_eval(text)
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected a dict, got {text!r}")
        return value
    raise TypeError(f"{path}: overriding fields of type {annotation} is not supported")


def parse_like(text: Any, default: Any, path: str) -> Any:
    """``text`` (a command-line value) as the type of ``default``, by :func:`_parse_value`: a bool
    from true/false/1/0/yes/no/on/off, an int, a float (an int's text too), a string; a ``None``
    default takes ``none`` or whichever of int, float, bool and string parses first. A value that
    is not a string is returned unchanged (a Python caller's own types are checked where they
    are used). ``path`` names the value in the error, e.g. ``--hp learning_rate``.

    >>> parse_like("true", False, "x"), parse_like("3", 0.5, "x"), parse_like("3", 5, "x")
    (True, 3.0, 3)
    """
    if not isinstance(text, str):
        return text
    text = text.strip()
    if default is None:
        if text.lower() in ("none", "null"):
            return None
        for annotation in (int, float, bool):
            try:
                return _parse_value(text, annotation, path)
            except ValueError:
                continue
        return text
    for annotation in (bool, int, float, str):  # bool before int: True is an int
        if isinstance(default, annotation):
            return _parse_value(text, annotation, path)
    raise TypeError(f"{path}: overriding a value of type {type(default).__name__} from the "
                    "command line is not supported")


def apply_overrides(config: Any, overrides: list[str] | tuple[str, ...]) -> Any:
    """Return ``config`` with dotted ``path=value`` overrides applied, then validated.

    All overrides of one section are applied together before it is validated, so changes that
    are only consistent together (``data.forget_fraction=none data.forget_classes=3``) work.

    >>> cfg = apply_overrides(ExperimentConfig(), ["train.learning_rate=0.05", "data.seed=3"])
    >>> cfg.train.learning_rate, cfg.data.seed
    (0.05, 3)
    """
    tree: dict[str, Any] = {}
    for override in overrides:
        if "=" not in override:
            raise ValueError(f"override {override!r} must look like section.field=value")
        path, text = override.split("=", 1)
        path = path.strip()
        parts = path.split(".")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"{path}: conflicts with another override")
        node[parts[-1]] = (text, path)
    return _replace_fields(config, tree, prefix="")


def _replace_fields(node: Any, changes: dict[str, Any], prefix: str) -> Any:
    if not dataclasses.is_dataclass(node):
        raise ValueError(f"{prefix.rstrip('.')}: {type(node).__name__} has no fields to override")
    fields = {f.name for f in dataclasses.fields(node)}
    hints = typing.get_type_hints(type(node))
    values = {}
    for name, change in changes.items():
        if name not in fields:
            raise ValueError(
                f"{prefix}{name}: unknown field {name!r} of {type(node).__name__}; "
                f"fields are {sorted(fields)}"
            )
        if isinstance(change, dict):
            values[name] = _replace_fields(getattr(node, name), change, f"{prefix}{name}.")
        else:
            text, path = change
            values[name] = _parse_value(text, hints[name], path)
    return dataclasses.replace(node, **values)
