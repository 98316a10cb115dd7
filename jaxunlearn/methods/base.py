"""What an unlearning method is: data, not code paths.

A :class:`Method` names its two loss terms — the *unlearning* term L_U, evaluated on forget
batches, and the *retain* term L_C, evaluated on retain batches, both minimised — plus the default
optimizer, default hyperparameters, a schedule of which term is active at each step, and an
optional ``prepare`` hook that computes what the terms need before the first step (a saliency
mask, a frozen teacher's logits, adversarial examples, TRW targets). The one generic step in
:mod:`jaxunlearn.methods.step` runs every method; the split into L_U and L_C is what lets the
feasible-update masks (Dine, Furon, Faure 2025) wrap any of them.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxunlearn.models.adapters import submodule_inputs
from jaxunlearn.train.core import Batch, TermContext

__all__ = ["Batch", "TermContext", "Method", "Prepared", "METHODS", "register_method",
           "get_method", "logits_of", "always_both", "sgd_coupled_decay", "adam_coupled_decay",
           "default_optimizer",
           "COMMON_DEFAULTS", "AUGMENT_ROWS", "LossTerm", "Schedule"]


# term(params, model_state, batch, context) -> (loss, new_model_state)
LossTerm = Callable[[Any, dict, Batch, TermContext], tuple[jax.Array, dict]]
# schedule(step, steps_per_epoch, hyper) -> (forget_active, retain_active) as float32 0/1
Schedule = Callable[[jax.Array, int, dict], tuple[jax.Array, jax.Array]]


def logits_of(context: TermContext, params: Any, model_state: dict, inputs: jax.Array,
              train: bool = True) -> tuple[jax.Array, dict]:
    """Run the model inside a term; in eval mode the model state comes back unchanged."""
    logits, new_state = context.apply_fn({"params": params, **model_state}, inputs, train,
                                         rng=context.key)
    return logits, (new_state if train else model_state)


def no_head_error(head_name: str, why: str) -> ValueError:
    """The error of a ``head_name`` hyperparameter that names no submodule of the model."""
    return ValueError(f"hyperparams: head_name {head_name!r}: the model has no Linen submodule of "
                      f"that name ({why}; the library's classifiers call it 'head', "
                      "logistic_regression 'linear')")


def head_input(apply_fn: Callable, variables: dict, inputs: jax.Array, train: bool,
               head_name: str, why: str, rng: jax.Array | None = None
               ) -> tuple[jax.Array, dict, jax.Array]:
    """``(logits, new_state, features)``: the model run with the input of its Linen submodule
    ``head_name`` (the output layer) caught by method interception and flattened to
    ``(batch, d)``; a model without that submodule raises :func:`no_head_error` with ``why``."""
    with submodule_inputs(head_name) as found:
        logits, new_state = apply_fn(variables, inputs, train, rng=rng)
    if not found:
        raise no_head_error(head_name, why)
    features = found[0] if len(found) == 1 else jnp.concatenate(found)
    return logits, new_state, features.reshape(features.shape[0], -1)


def always_both(step, steps_per_epoch, hyper):
    del step, steps_per_epoch, hyper
    return jnp.float32(1.0), jnp.float32(1.0)


def sgd_coupled_decay(learning_rate: Any, hyper: dict) -> optax.GradientTransformation:
    """SGD with ``hyper``'s momentum and weight decay coupled to the gradient (torch's SGD):
    ``learning_rate`` a number or an Optax schedule."""
    base = optax.sgd(learning_rate, momentum=hyper.get("momentum") or None)
    if hyper.get("weight_decay"):
        return optax.chain(optax.add_decayed_weights(hyper["weight_decay"]), base)
    return base


def adam_coupled_decay(hyper: dict, total_steps: int) -> optax.GradientTransformation:
    """Adam at ``hyper``'s learning rate with its weight decay added to the gradient first
    (torch's ``Adam(weight_decay=...)``), the optimizer of SCRUB's and SCAR's code."""
    del total_steps
    return optax.chain(optax.add_decayed_weights(hyper["weight_decay"]),
                       optax.adam(hyper["learning_rate"]))


def default_optimizer(hyper: dict, total_steps: int) -> optax.GradientTransformation:
    """SGD with momentum and coupled weight decay at a constant learning rate, the optimizer of
    the SalUn / Unlearn-Sparse unlearning code (their MultiStep schedule never fires in 10 epochs)."""
    del total_steps
    return sgd_coupled_decay(hyper["learning_rate"], hyper)


# The unlearning defaults of SalUn's and Unlearn-Sparse's code (CIFAR-10 / ResNet-18; masks.md §3):
# 10 epochs, batch 256, SGD with momentum 0.9 and weight decay 5e-4. Each method sets its own
# learning rate (and anything else) from its reference code.
COMMON_DEFAULTS = {
    "epochs": 10,
    "learning_rate": 0.01,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "batch_size": 256,
    # 0 = automatic: as many forget batches per epoch as retain batches, so one epoch sees each
    # forget example once (as SalUn's and Unlearn-Sparse's code does with separate passes)
    "forget_batch_size": 0,
}


@dataclasses.dataclass(frozen=True)
class Method:
    """An unlearning method as data.

    Attributes:
      name: registry key.
      summary: one line: the paper and equation it implements.
      forget_term: L_U on forget batches (minimised; −CE for gradient ascent), or ``None``.
      retain_term: L_C on retain batches (minimised), or ``None``.
      primary: the stream whose size defines an epoch, ``"forget"`` or ``"retain"``.
      defaults: hyperparameters and their defaults; callers may override only these keys.
      schedule: which term is active at each step (e.g. SCRUB's max- and min-steps).
      optimizer: ``optimizer(hyper, total_steps)`` builds the base Optax optimizer.
      prepare: ``prepare(model_fns, variables, splits, hyper, key) -> Prepared`` run once before
        the first step, outside jit.
      from_scratch: re-initialise the model before training (``retrain``).
      class_unlearning: only valid when the forget set is whole classes.
      validate: ``validate(hyper)`` raises a ``ValueError`` naming a bad hyperparameter; run by
        :meth:`hyperparameters`, before anything is prepared or compiled.
      implied_addons: ``implied_addons(hyper) -> tuple`` of add-on specs the hyperparameters
        switch on (AMUN's ``spectral_max_norm`` → ``clip_spectral_norm``), chained after the
        caller's add-ons.
      per_model_data: ``prepare`` builds a stream whose size depends on the model (AMUN's
        adversarial set), so :func:`~jaxunlearn.methods.unlearn_many` runs the models one by one.
      finalize: ``finalize(variables) -> variables`` turns the trained variables into the
        result (Boundary Expanding prunes its shadow class); also applied to a stacked pool.
      retain_value_and_grad: ``None``, or the retain term's step direction when it is not the
        plain gradient of ``retain_term``: ``value_and_grad(retain_term, params, model_state,
        batch, context) -> ((loss, model_state), grads)`` (ALU's per-example-clipped gradient,
        UAM's gradient at a perturbed point; :class:`jaxunlearn.train.core.Term`).
      fixed_update: why the method's update may not be changed (ALU's certificate holds for
        its own Optax chain), or ``""``; when set, :func:`~jaxunlearn.methods.unlearn` refuses a
        ``tx`` and add-ons.
      retain_reads_forget: the step gathers the forget stream's batch for the retain term
        (``TermContext.forget_batch``) even without a forget term (UAM's step direction).
      one_shot: ``prepare`` does the unlearning (SVD unlearning's projection); ``epochs`` may
        be 0, the default, and a run of 0 steps returns the prepared variables.
    """

    name: str
    summary: str
    forget_term: LossTerm | None = None
    retain_term: LossTerm | None = None
    primary: str = "retain"
    defaults: dict = dataclasses.field(default_factory=dict)
    schedule: Schedule = always_both
    optimizer: Callable[[dict, int], optax.GradientTransformation] = default_optimizer
    prepare: Callable[..., "Prepared"] | None = None
    from_scratch: bool = False
    class_unlearning: bool = False
    validate: Callable[[dict], None] | None = None
    implied_addons: Callable[[dict], tuple] | None = None
    per_model_data: bool = False
    finalize: Callable[[dict], dict] | None = None
    retain_value_and_grad: Callable | None = None
    fixed_update: str = ""
    retain_reads_forget: bool = False
    one_shot: bool = False

    def addon_specs(self, addons: Any, hyper: dict) -> tuple:
        """The caller's ``addons`` followed by those the hyperparameters imply."""
        implied = self.implied_addons(hyper) if self.implied_addons is not None else ()
        return (*tuple(addons), *implied)

    def __post_init__(self) -> None:
        if self.forget_term is None and self.retain_term is None:
            raise ValueError(f"method {self.name!r} needs a forget_term or a retain_term")
        if self.primary not in ("forget", "retain"):
            raise ValueError(f"method {self.name!r}: primary must be 'forget' or 'retain'")
        if self.primary == "forget" and self.forget_term is None:
            raise ValueError(f"method {self.name!r}: primary 'forget' needs a forget_term")
        if self.primary == "retain" and self.retain_term is None:
            raise ValueError(f"method {self.name!r}: primary 'retain' needs a retain_term")

    @functools.cached_property
    def hyperparameter_defaults(self) -> dict:
        """Every hyperparameter and its default: the common ones, then the method's own (read
        only; copy before changing)."""
        return {**COMMON_DEFAULTS, **self.defaults}

    @functools.cached_property
    def hyperparameter_type(self) -> type:
        """This method's typed hyperparameters: a frozen dataclass (:class:`Hyperparameters`)
        with one field per hyperparameter, its default the method's, validated at
        construction. ``method.hyperparameter_type(learning_rate=0.1)``; the class is made
        once per method."""
        return _hyperparameter_class(self)

    def result_variables(self, variables: dict) -> dict:
        """The run's result from its trained ``variables`` (``finalize``, if the method has one)."""
        return self.finalize(variables) if self.finalize is not None else variables

    def hyper(self, overrides: dict | None = None) -> "Hyperparameters":
        """The typed hyperparameters with ``overrides`` (a dict) applied, validated: an unknown
        key, a value of the wrong kind or one the method's checks refuse raises a
        ``ValueError`` naming the hyperparameter."""
        overrides = dict(overrides or {})
        defaults = self.hyperparameter_defaults
        for key in overrides:
            if key not in defaults:
                raise ValueError(
                    f"hyperparams: {self.name!r} has no hyperparameter {key!r}; "
                    f"it has {sorted(defaults)}"
                )
        return self.hyperparameter_type(**overrides)

    def parse_hyperparameters(self, items: Any) -> dict:
        """``key=value`` strings as overrides, each value parsed as the type of this method's
        default for that key by the parser config overrides use
        (:func:`jaxunlearn.config.parse_like`); returns the overrides dict, validated."""
        from jaxunlearn.config import parse_like

        if isinstance(items, str):
            raise TypeError("items must be a list of 'key=value' strings, got one string")
        defaults = self.hyperparameter_defaults
        values = {}
        for item in items:
            key, equals, text = str(item).partition("=")
            if not equals:
                raise ValueError(f"hyperparams: {item!r} must look like key=value")
            key = key.strip()
            values[key] = (parse_like(text, defaults[key], f"hyperparams: {key}")
                           if key in defaults else text)
        self.hyper(values)
        return values

    def hyperparameters(self, overrides: "dict | Hyperparameters | None" = None) -> dict:
        """The defaults with ``overrides`` applied, validated, as a plain dict (what the engine
        and the run's log hold). ``overrides`` may be this method's :class:`Hyperparameters`,
        already validated."""
        if isinstance(overrides, Hyperparameters):
            if type(overrides) is not self.hyperparameter_type:
                raise ValueError(f"hyperparams: typed hyperparameters of method "
                                 f"{overrides.method!r}, not of {self.name!r}")
            return overrides.to_dict()
        return self.hyper(overrides).to_dict()

    def _validated(self, values: dict) -> dict:
        """``values`` (every hyperparameter) checked and normalised: the kinds of the defaults,
        finite numbers, Python numbers for NumPy scalars, the common ranges, then the
        method's own ``validate``."""
        hyper = dict(self.hyperparameter_defaults)
        for key, value in values.items():
            _check_kind(self.name, key, value, hyper[key])
            hyper[key] = value
        for key, value in hyper.items():
            if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, str):
                continue
            if not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"hyperparams: {key} must be a finite number, got {value!r}")
            # NumPy scalars become Python numbers: the log stays JSON-able, int checks hold
            hyper[key] = int(value) if isinstance(value, numbers.Integral) else float(value)
        for key in ("epochs", "batch_size", "forget_batch_size"):
            minimum = 0 if key == "forget_batch_size" or (key, self.one_shot) == ("epochs", True) \
                else 1
            if not isinstance(hyper[key], int) or hyper[key] < minimum:
                raise ValueError(f"hyperparams: {key} must be an int >= {minimum}, got {hyper[key]!r}")
        if hyper["learning_rate"] <= 0:
            raise ValueError(f"hyperparams: learning_rate must be > 0, got {hyper['learning_rate']}")
        if self.validate is not None:
            self.validate(hyper)
        return hyper


class Hyperparameters:
    """Base of every method's typed hyperparameters (:attr:`Method.hyperparameter_type`).

    A frozen dataclass, one field per hyperparameter; constructing one validates it (the same
    checks as :meth:`Method.hyperparameters`), so a value that exists is a valid one.
    ``replace(**changes)`` gives a validated copy and ``to_dict()`` the plain dict the engine
    runs on.
    """

    method: str = ""

    def to_dict(self) -> dict:
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> "Hyperparameters":
        return dataclasses.replace(self, **changes)


def _annotation(default: Any) -> Any:
    if default is None or isinstance(default, str):
        return Any  # a choice that may also take numbers (ALU's public_weight) or None
    return type(default)


def _hyperparameter_class(method: "Method") -> type:
    defaults = method.hyperparameter_defaults

    def __post_init__(self):
        for key, value in method._validated(
                {name: getattr(self, name) for name in defaults}).items():
            object.__setattr__(self, key, value)

    name = "".join(part.capitalize() for part in method.name.split("_")) + "Hyperparameters"
    return dataclasses.make_dataclass(
        name, [(key, _annotation(value), dataclasses.field(default=value))
               for key, value in defaults.items()],
        bases=(Hyperparameters,), frozen=True,
        namespace={"__post_init__": __post_init__, "method": method.name,
                   "__module__": __name__})


def _kind(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "a boolean (true or false)"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, numbers.Real):
        return "a number"
    return type(value).__name__


def _check_kind(method: str, key: str, value: Any, default: Any) -> None:
    """An override of a number must be a number (an int is fine for a float), of a boolean a
    boolean; a string default may stand for a choice that also takes numbers (ALU's
    ``public_weight``: ``"uniform"`` or a weight), so the method validates those itself."""
    if default is None or value is None or isinstance(default, str):
        return
    if _kind(value) != _kind(default):
        raise ValueError(f"hyperparams: {method!r} hyperparameter {key} must be {_kind(default)} "
                         f"(default {default!r}), got {value!r}")


# The ``Prepared.aux`` key of the forget stream's per-row augmentation flags (read by the step).
AUGMENT_ROWS = "augment_rows"


@dataclasses.dataclass
class Prepared:
    """What ``Method.prepare`` hands the step.

    Attributes:
      aux: a pytree of arrays the terms read through ``TermContext.aux`` (per-example arrays
        are indexed with ``Batch.indices`` of their stream).
      forget_inputs / forget_labels: replace the forget stream (e.g. AMUN's D ∪ D_adv).
        If ``aux`` is a dict with an ``"augment_rows"`` entry (booleans, one per row of the
        forget stream), the step augments only the rows marked True (AMUN's D_adv is never
        augmented).
      retain_inputs / retain_labels: replace the retain stream (ALU's D_r ∪ D_pub).
      retain_order: one fixed order of the retain stream's rows, visited the same way every
        epoch (ALU's mini-batches cut from one permutation, as PNSGD's certificate assumes),
        instead of a fresh shuffle per epoch.
      hyper: hyperparameters the preparation resolves (ALU's batch size at full batch).
      variables: replace the starting variables (e.g. SalUn's masked start is unchanged, but a
        method could re-initialise layers).
      addons: transforms the method itself places after the optimizer (SalUn's static mask).
      log: facts to record in the result (e.g. the mask's kept fraction).
    """

    aux: Any = dataclasses.field(default_factory=dict)
    forget_inputs: np.ndarray | None = None
    forget_labels: np.ndarray | None = None
    retain_inputs: np.ndarray | None = None
    retain_labels: np.ndarray | None = None
    retain_order: np.ndarray | None = None
    hyper: dict = dataclasses.field(default_factory=dict)
    variables: dict | None = None
    addons: tuple = ()
    log: dict = dataclasses.field(default_factory=dict)


METHODS: dict[str, Method] = {}


def register_method(method: Method) -> Method:
    """Add ``method`` to :data:`METHODS` under its name (names are unique)."""
    if method.name in METHODS:
        raise ValueError(f"method name {method.name!r} is already registered")
    METHODS[method.name] = method
    return method


def get_method(name: str | Method) -> Method:
    """Look a method up by name (a :class:`Method` passes through)."""
    if isinstance(name, Method):
        return name
    if name not in METHODS:
        raise ValueError(f"method: unknown method {name!r}; available: {sorted(METHODS)}")
    return METHODS[name]
