"""Every random key the engine derives, by name.

A run has one base key, ``TrainState.key`` (raw key data of ``jax.random.key(seed)``). Everything
random in a run is a fixed function of it, so a resumed run repeats an uninterrupted one:

============================  =================================================================
what                          derivation
============================  =================================================================
an epoch's data order         ``fold_in(fold_in(run_key, ORDER_SALT), epoch)`` (:func:`order_key`)
step ``t``                    ``fold_in(run_key, t)`` (:func:`step_key`)
training: augmentation,       ``split(step_key)`` (:func:`train_batch_keys`)
  dropout
unlearning term ``i``         ``term_key = fold_in(step_key, i)`` (forget 0, retain 1); its
                              batch's augmentation ``fold_in(term_key, AUGMENT_SALT)``
                              (:func:`term_keys`); the term's own randomness (dropout, SRL's
                              labels) ``term_key``
unlearning streams            ``fold_in(run_key, FORGET_STREAM | RETAIN_STREAM)`` is the base key
                              of the forget / retain stream's epoch orders (:func:`stream_key`)
pool model ``m``              its key ``k_m`` (``key(seeds[m])`` or ``fold_in(key(seed), m)``);
                              ``fold_in(k_m, INIT)`` initialises it, ``fold_in(k_m, RUN)`` is its
                              run key (:func:`pool_model_keys`)
============================  =================================================================

Methods derive their own keys from the run's seed or a term key, also here by name:

============================  =================================================================
what                          derivation
============================  =================================================================
RL's fixed random labels      ``key(seed + 1)`` (:func:`random_label_key`)
SRL's re-drawn labels         ``fold_in(term_key, SRL_LABELS)`` (:func:`srl_label_key`)
I2I's Gaussian noise inputs   ``fold_in(term_key, NOISE_INPUTS)`` (:func:`noise_input_key`)
BE's shadow row               ``fold_in(key(seed), SHADOW_INIT)`` (:func:`shadow_init_key`)
I2I's output perturbation     NumPy seed ``seed · 7919 + 17`` (:func:`output_perturbation_seed`)
ALU's mini-batch permutation  ``fold_in(key(seed), ALU_ORDER)``, then that chain's
                              permutation key (:func:`alu_order_key`)
a Langevin chain's            ``fold_in(noise_key, CHAIN_PERMUTATION)``
  permutation                 (:func:`chain_permutation_key`)
SCAR's class statistics       ``fold_in(key(seed), SCAR_AUGMENT)`` augments the retain set
                              (:func:`scar_key`)
SVD unlearning's samples      ``fold_in(fold_in(key(seed), SVD_SAMPLES), i)``, i = 0 the forget
                              rows, 1 the augmentation and conv windows (:func:`svd_sample_key`)
ℓ2-UL's adversarial set       ``fold_in(fold_in(key(seed), L2UL_ATTACK), i)``, i = 0 the target
                              classes, 1 the attack's random starts (:func:`l2ul_key`)
============================  =================================================================

The constants are those the engine and the methods have always used, so naming them moved no
number.
"""

from __future__ import annotations

import jax

ORDER_SALT = 0x0DA7A
"""Folded into a run key before the epoch number: data orders never share a key with steps."""
AUGMENT_SALT = 7
"""Folded into an unlearning term's key for its batch's augmentation."""
FORGET_STREAM, RETAIN_STREAM = 1, 2
"""Folded into the run key for the base keys of the unlearning streams' orders."""
INIT, RUN = 0, 1
"""Folded into a pool model's key for its initialisation and for its run key."""
SRL_LABELS = 11
"""Folded into SRL's forget-term key for the labels it re-draws."""
NOISE_INPUTS = 1
"""Folded into I2I's noise-target forget-term key for its Gaussian inputs."""
SHADOW_INIT = 0x5AD0
"""Folded into the run's key for Boundary Expanding's shadow-row initialisation."""
ALU_ORDER = 0xA1C
"""Folded into the run's key for ALU's mini-batch permutation."""
CHAIN_PERMUTATION = 0x5EED
"""Folded into a Langevin chain's noise key for its permutation."""
SCAR_AUGMENT = 0x5CA
"""Folded into the run's key for the augmentation of SCAR's retain-set statistics."""
SVD_SAMPLES = 0x5FD
"""Folded into the run's key for SVD unlearning's samples (then 0: which forget rows, 1: the
augmentation and conv windows)."""
L2UL_ATTACK = 0x12A
"""Folded into the run's key for ℓ2-UL's adversarial set (then 0: the targets, 1: the starts)."""


def _key(key_or_data: jax.Array) -> jax.Array:
    if jax.dtypes.issubdtype(key_or_data.dtype, jax.dtypes.prng_key):
        return key_or_data
    return jax.random.wrap_key_data(key_or_data)


def order_key(run_key: jax.Array, epoch: jax.Array) -> jax.Array:
    """The key of ``epoch``'s data order (``run_key`` a key or raw key data)."""
    return jax.random.fold_in(jax.random.fold_in(_key(run_key), ORDER_SALT), epoch)


def step_key(run_key: jax.Array, step: jax.Array) -> jax.Array:
    """The key of optimizer step ``step``."""
    return jax.random.fold_in(_key(run_key), step)


def train_batch_keys(key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(augmentation key, dropout key)`` of a training step from its :func:`step_key`."""
    augment_key, dropout_key = jax.random.split(key)
    return augment_key, dropout_key


def term_keys(key: jax.Array, index: int) -> tuple[jax.Array, jax.Array]:
    """``(augmentation key, term key)`` of unlearning term ``index`` from its :func:`step_key`."""
    term_key = jax.random.fold_in(key, index)
    return jax.random.fold_in(term_key, AUGMENT_SALT), term_key


def stream_key(run_key: jax.Array, stream: int) -> jax.Array:
    """Raw key data of an unlearning stream's orders (``FORGET_STREAM`` / ``RETAIN_STREAM``)."""
    return jax.random.key_data(jax.random.fold_in(_key(run_key), stream))


def pool_model_keys(model_key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(init key, raw run key data)`` of a pool model from its key (or raw key data)."""
    key = _key(model_key)
    return jax.random.fold_in(key, INIT), jax.random.key_data(jax.random.fold_in(key, RUN))


def random_label_key(seed: int) -> jax.Array:
    """The key of RL's fixed random labels, drawn once in ``prepare`` from the run's seed."""
    return jax.random.key(int(seed) + 1)


def srl_label_key(term_key: jax.Array) -> jax.Array:
    """The key of the labels SRL re-draws for a forget batch, from the term's key."""
    return jax.random.fold_in(term_key, SRL_LABELS)


def noise_input_key(term_key: jax.Array) -> jax.Array:
    """The key of the Gaussian inputs of I2I's noise-target forget term, from the term's key."""
    return jax.random.fold_in(term_key, NOISE_INPUTS)


def shadow_init_key(seed: int) -> jax.Array:
    """The key of Boundary Expanding's shadow row, from the run's seed."""
    return jax.random.fold_in(jax.random.key(int(seed)), SHADOW_INIT)


def output_perturbation_seed(seed: int) -> int:
    """The NumPy seed of I2I's output perturbation, from the run's seed."""
    return int(seed) * 7919 + 17


def alu_order_key(seed: int) -> jax.Array:
    """The key whose :func:`chain_permutation_key` orders an ``alu`` run's mini-batches."""
    return jax.random.fold_in(jax.random.key(int(seed)), ALU_ORDER)


def chain_permutation_key(noise_key: jax.Array) -> jax.Array:
    """The key of a Langevin chain's mini-batch permutation, from its noise key."""
    return jax.random.fold_in(_key(noise_key), CHAIN_PERMUTATION)


def _purpose_key(seed: int, salt: int, purpose: int) -> jax.Array:
    """``fold_in(fold_in(key(seed), salt), purpose)``: one of a method's several seeded keys."""
    return jax.random.fold_in(jax.random.fold_in(jax.random.key(int(seed)), salt), purpose)


def l2ul_key(seed: int, purpose: int) -> jax.Array:
    """ℓ2-UL's key for its attack targets (``purpose`` 0) or its random starts (1), from the run's
    seed."""
    return _purpose_key(seed, L2UL_ATTACK, purpose)


def svd_sample_key(seed: int, purpose: int = 0) -> jax.Array:
    """SVD unlearning's key for its forget rows (``purpose`` 0) or its augmentation and conv
    windows (1), from the run's seed."""
    return _purpose_key(seed, SVD_SAMPLES, purpose)


def scar_key(seed: int) -> jax.Array:
    """The key that augments the retain set behind SCAR's class statistics, from the run's seed."""
    return jax.random.fold_in(jax.random.key(int(seed)), SCAR_AUGMENT)
