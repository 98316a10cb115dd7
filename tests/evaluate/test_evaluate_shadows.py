"""Shadow pools: membership masks and outputs (jaxunlearn.evaluate.shadows), and the pools'
vmapped training (jaxunlearn.train.pools)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import Dataset
from jaxunlearn.evaluate.shadows import membership_masks, model_outputs
from jaxunlearn.train.pools import train_many, train_sequential
from jaxunlearn.models import create_model_fns, from_linen


class _NormDropNet(nn.Module):
    """A tiny net with batch norm (mutable state) and dropout (per-step rng)."""

    @nn.compact
    def __call__(self, x, train=False):
        x = x.reshape((x.shape[0], -1))
        x = nn.Dense(16)(x)
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
        x = nn.relu(x)
        x = nn.Dropout(0.2, deterministic=not train)(x)
        return nn.Dense(4)(x)


def _random_pool(num_examples=96, features=12, num_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((num_examples, features)).astype(np.float32)
    labels = rng.integers(0, num_classes, num_examples).astype(np.int32)
    return Dataset(inputs, labels, num_classes)


def _close(tree_a, tree_b, atol=1e-5):
    leaves_a, leaves_b = jax.tree.leaves(tree_a), jax.tree.leaves(tree_b)
    assert len(leaves_a) == len(leaves_b)
    for a, b in zip(leaves_a, leaves_b):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=1e-4)


MLP = create_model_fns("mlp", 4, hidden_sizes=(16,))
CONFIG = TrainConfig(epochs=2, batch_size=16, learning_rate=0.05, schedule="cosine",
                     weight_decay=5e-4, augment=False, seed=3)


# --- membership ---------------------------------------------------------------------------


@pytest.mark.parametrize("num_models", [2, 4, 8, 16])
def test_membership_is_balanced_per_example(num_models):
    mask = membership_masks(num_models, 500, 0)
    assert mask.shape == (num_models, 500) and mask.dtype == np.bool_
    np.testing.assert_array_equal(mask.sum(axis=0), num_models // 2)
    # each model gets about half of the pool
    assert np.all(np.abs(mask.mean(axis=1) - 0.5) < 0.15)


def test_membership_is_deterministic_and_seeded():
    first = membership_masks(8, 200, 7)
    np.testing.assert_array_equal(first, membership_masks(8, 200, 7))
    np.testing.assert_array_equal(first, membership_masks(8, 200, jax.random.key(7)))
    assert not np.array_equal(first, membership_masks(8, 200, 8))


def test_membership_fraction():
    mask = membership_masks(8, 100, 0, fraction=0.25)
    np.testing.assert_array_equal(mask.sum(axis=0), 2)
    np.testing.assert_array_equal(membership_masks(3, 10, 0, fraction=1.0), True)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(num_models=0, num_examples=10, key_or_seed=0), "num_models"),
        (dict(num_models=4, num_examples=0, key_or_seed=0), "num_examples"),
        (dict(num_models=4, num_examples=10, key_or_seed=0, fraction=0.0), "fraction"),
        (dict(num_models=4, num_examples=10, key_or_seed=0, fraction=1.5), "fraction"),
        (dict(num_models=4, num_examples=10, key_or_seed=-1), "key_or_seed"),
    ],
)
def test_membership_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        membership_masks(**kwargs)


# --- training -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool():
    return _random_pool()


@pytest.fixture(scope="module")
def mask(pool):
    return membership_masks(4, len(pool), 1)


def test_vmapped_training_matches_sequential(pool, mask):
    many, history = train_many(MLP, pool, mask, CONFIG, return_history=True)
    one_by_one, sequential_history = train_sequential(MLP, pool, mask, CONFIG,
                                                      return_history=True)
    assert jax.tree.leaves(many)[0].shape[0] == 4
    _close(many, one_by_one)
    np.testing.assert_allclose(history, sequential_history, atol=1e-5)
    assert history.shape == (4, CONFIG.epochs, 2)
    # models differ: own initialisation and own data
    kernel = np.asarray(many["params"]["head"]["kernel"])
    assert not np.allclose(kernel[0], kernel[1])


def test_vmapped_matches_sequential_with_batch_norm_dropout_and_seeds(pool, mask):
    fns = from_linen(_NormDropNet())
    # SGD, not Adam: the dense bias before batch norm has a zero gradient, which Adam would turn
    # from rounding noise into unit-size steps.
    config = TrainConfig(epochs=2, batch_size=16, learning_rate=0.05, schedule="constant",
                         augment=False)
    seeds = [11, 5, 11, 2]
    many = train_many(fns, pool, mask, config, seeds=seeds)
    assert "batch_stats" in many
    _close(many, train_sequential(fns, pool, mask, config, seeds=seeds))
    # a subset of models through model_indices is the same as those rows
    _close(jax.tree.map(lambda leaf: leaf[2:3], many),
           train_sequential(fns, pool, mask, config, seeds=seeds, model_indices=[2]))


def test_training_is_deterministic_and_seed_dependent(pool, mask):
    first = train_many(MLP, pool, mask, CONFIG)
    _close(first, train_many(MLP, pool, mask, CONFIG), atol=0)
    other = train_many(MLP, pool, mask, CONFIG, seeds=CONFIG.seed + 1)
    assert not np.allclose(first["params"]["head"]["kernel"], other["params"]["head"]["kernel"])


def test_model_never_reads_non_members(pool, mask):
    clean = train_many(MLP, pool, mask, CONFIG)
    poisoned_inputs = np.array(pool.inputs)
    poisoned_inputs[~mask[0]] = 1e30
    poisoned = Dataset(poisoned_inputs, pool.labels, pool.num_classes)
    result = train_many(MLP, poisoned, mask, CONFIG)
    model_zero = jax.tree.map(lambda leaf: leaf[0], result)
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(model_zero))
    _close(model_zero, jax.tree.map(lambda leaf: leaf[0], clean), atol=0)
    # the models that do train on those examples are changed by the poison
    assert not all(np.isfinite(leaf[1:]).all() for leaf in jax.tree.leaves(result))


def test_small_member_set_is_independent_of_the_other_models(pool):
    # Constant schedule, no augmentation/dropout: all-padding steps are skipped, so a model with
    # few members trains the same next to a large model as alone.
    config = TrainConfig(epochs=2, batch_size=16, learning_rate=0.05, schedule="constant",
                         augment=False)
    small = np.zeros(len(pool), bool)
    small[:20] = True
    large = np.ones(len(pool), bool)
    together = train_many(MLP, pool, np.stack([small, large]), config, seeds=[4, 9])
    alone = train_many(MLP, pool, small[None], config, seeds=[4])
    _close(jax.tree.map(lambda leaf: leaf[:1], together), alone, atol=1e-6)


def test_members_are_more_confident_than_non_members():
    data = _random_pool(num_examples=128, features=20, seed=2)
    mask = membership_masks(4, len(data), 3)
    fns = create_model_fns("mlp", 4, hidden_sizes=(64,))
    config = TrainConfig(epochs=60, batch_size=32, optimizer="adam", learning_rate=1e-2,
                         weight_decay=0.0, schedule="constant", augment=False)
    logits = model_outputs(fns.apply, train_many(fns, data, mask, config), data.inputs,
                           batch_size=50)
    probabilities = jax.nn.softmax(logits, axis=-1)
    true_label = probabilities[:, np.arange(len(data)), data.labels]
    for model in range(4):
        members = true_label[model][mask[model]].mean()
        non_members = true_label[model][~mask[model]].mean()
        assert members > 0.9 and members > non_members + 0.4, (model, members, non_members)


def test_model_outputs_equal_per_model_apply(pool, mask):
    fns = from_linen(_NormDropNet())
    config = TrainConfig(epochs=1, batch_size=16, augment=False)
    stacked = train_many(fns, pool, mask, config)
    outputs = model_outputs(fns.apply, stacked, pool.inputs, batch_size=40)  # 96 = 40+40+16
    assert outputs.shape == (4, len(pool), 4) and outputs.dtype == np.float32
    for model in range(4):
        variables = jax.tree.map(lambda leaf: leaf[model], stacked)
        expected, _ = fns.apply(variables, jnp.asarray(pool.inputs), False)
        np.testing.assert_allclose(outputs[model], expected, atol=1e-5, rtol=1e-5)


# --- bad inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_mask, message",
    [
        (np.ones((4, 95), bool), "in_mask"),
        (np.ones(96, bool), "in_mask"),
        (np.zeros((0, 96), bool), "in_mask"),
        (np.concatenate([np.ones((1, 96), bool), np.zeros((1, 96), bool)]), "in_mask"),
        (np.full((2, 96), 2), "in_mask"),
    ],
)
@pytest.mark.parametrize("trainer", [train_many, train_sequential])
def test_training_rejects_bad_masks(pool, bad_mask, message, trainer):
    with pytest.raises(ValueError, match=message):
        trainer(MLP, pool, bad_mask, CONFIG)


def test_training_rejects_bad_seeds_and_indices(pool, mask):
    with pytest.raises(ValueError, match="seeds"):
        train_many(MLP, pool, mask, CONFIG, seeds=[1, 2, 3])
    with pytest.raises(ValueError, match="seeds"):
        train_many(MLP, pool, mask, CONFIG, seeds=-1)
    with pytest.raises(ValueError, match="model_indices"):
        train_sequential(MLP, pool, mask, CONFIG, model_indices=[4])


def test_model_outputs_rejects_bad_arguments(pool):
    stacked = {"params": {"w": np.zeros((3, 2)), "b": np.zeros((2,))}}
    with pytest.raises(ValueError, match="stacked_variables"):
        model_outputs(MLP.apply, stacked, pool.inputs)
    good = {"params": {"w": np.zeros((3, 2))}}
    with pytest.raises(ValueError, match="batch_size"):
        model_outputs(MLP.apply, good, pool.inputs, batch_size=0)
    with pytest.raises(ValueError, match="inputs"):
        model_outputs(MLP.apply, good, pool.inputs[:0])


def test_vmapped_matches_sequential_with_augmentation():
    rng = np.random.default_rng(5)
    images = Dataset(rng.standard_normal((64, 8, 8, 1)).astype(np.float32),
                     rng.integers(0, 4, 64).astype(np.int32), 4, augmentation="crop_flip")
    mask = membership_masks(2, len(images), 0)
    config = TrainConfig(epochs=1, batch_size=16, learning_rate=0.05, augment=True)
    _close(train_many(MLP, images, mask, config), train_sequential(MLP, images, mask, config))
