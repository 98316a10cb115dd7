"""Augmentation and optimizers against explicit NumPy references."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxunlearn.config import TrainConfig
from jaxunlearn.train import augment, make_optimizer, make_schedule, random_crop, random_flip


def test_random_crop_returns_windows_of_the_zero_padded_image():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((16, 6, 5, 2)).astype(np.float32)
    out = np.asarray(random_crop(jax.random.key(1), jnp.asarray(images), padding=2))
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)))
    offsets_seen = set()
    for i in range(len(images)):
        matches = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if np.array_equal(padded[i, dy : dy + 6, dx : dx + 5], out[i])
        ]
        assert matches, f"example {i} is not a crop of its padded image"
        offsets_seen.update(matches)
    assert len(offsets_seen) > 3  # offsets really vary


def test_random_flip_flips_about_half_and_only_left_right():
    images = np.arange(2000 * 2 * 3, dtype=np.float32).reshape(2000, 2, 3, 1)
    out = np.asarray(random_flip(jax.random.key(0), jnp.asarray(images)))
    same = np.all(out == images, axis=(1, 2, 3))
    flipped = np.all(out == images[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same ^ flipped)
    assert abs(flipped.mean() - 0.5) < 0.05  # binomial sd ≈ 0.011


def test_augment_rejects_unknown_names():
    with pytest.raises(ValueError, match="augmentation"):
        augment(jax.random.key(0), jnp.zeros((1, 4, 4, 1)), "rotate")
    x = jnp.ones((2, 4, 4, 1))
    assert augment(jax.random.key(0), x, None) is x


def test_cosine_and_step_schedules_match_closed_forms():
    config = TrainConfig(learning_rate=0.2, schedule="cosine")
    schedule = make_schedule(config, steps_per_epoch=10, total_steps=100)
    for t in (0, 25, 50, 99):
        assert math.isclose(float(schedule(t)), 0.1 * (1 + math.cos(math.pi * t / 100)), rel_tol=1e-4, abs_tol=1e-7)
    config = TrainConfig(learning_rate=0.1, schedule="step", decay_epochs=(2, 3), decay_factor=0.5)
    schedule = make_schedule(config, steps_per_epoch=10, total_steps=40)
    assert [float(schedule(t)) for t in (0, 19, 20, 29, 30)] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025]
    )
    config = TrainConfig(learning_rate=1.0, schedule="warmup_cosine", warmup_epochs=1)
    schedule = make_schedule(config, steps_per_epoch=10, total_steps=50)
    assert float(schedule(5)) == pytest.approx(0.5)


def test_sgd_with_momentum_and_weight_decay_matches_pytorch_update_rule():
    # PyTorch SGD: g = grad + wd * w; b = mu * b + g; w = w - lr * b  (float64 reference)
    lr, mu, wd = 0.1, 0.9, 0.01
    tx = make_optimizer(
        TrainConfig(learning_rate=lr, momentum=mu, weight_decay=wd, schedule="constant"), 10, 10
    )
    rng = np.random.default_rng(0)
    w = rng.standard_normal(5)
    params = jnp.asarray(w, jnp.float32)
    state = tx.init(params)
    buffer = np.zeros(5)
    for _ in range(4):
        grad = rng.standard_normal(5)
        updates, state = tx.update(jnp.asarray(grad, jnp.float32), state, params)
        params = optax.apply_updates(params, updates)
        buffer = mu * buffer + grad + wd * w
        w = w - lr * buffer
    np.testing.assert_allclose(np.asarray(params), w, rtol=1e-5, atol=1e-6)
