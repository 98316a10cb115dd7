"""Surrogate public sets: another dataset's images resampled to the task's shape (SCAR's
out-of-distribution distillation data)."""

import pathlib

import numpy as np
import pytest

from jaxunlearn.config import DataConfig, ExperimentConfig, apply_overrides
from jaxunlearn.data import from_arrays, make_splits, resize_like
from jaxunlearn.data.surrogate import area_weights

FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")


def _resample_by_supersampling(image: np.ndarray, size_out: int, factor: int) -> np.ndarray:
    """Area resampling of a 2-D image, the slow way: split each input pixel into factor × factor
    equal sub-pixels, then average the sub-pixels whose centres fall in each output cell (exact
    when size_in · factor is a multiple of size_out)."""
    fine = np.repeat(np.repeat(image.astype(np.float64), factor, 0), factor, 1)
    block = fine.shape[0] // size_out
    assert block * size_out == fine.shape[0]
    return fine.reshape(size_out, block, size_out, block).mean(axis=(1, 3))


@pytest.mark.parametrize("size_in, size_out, factor", [(28, 8, 2), (8, 28, 7), (10, 4, 2),
                                                        (28, 7, 1), (6, 9, 3)])
def test_area_resampling_matches_supersampling(size_in, size_out, factor):
    image = np.random.default_rng(0).normal(size=(size_in, size_in))
    weights = area_weights(size_in, size_out)
    resized = weights @ image @ weights.T
    np.testing.assert_allclose(resized, _resample_by_supersampling(image, size_out, factor),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-12)


def test_integer_factors_are_block_means_and_repeats():
    image = np.arange(16.0).reshape(4, 4)
    down = area_weights(4, 2) @ image @ area_weights(4, 2).T
    np.testing.assert_allclose(down, image.reshape(2, 2, 2, 2).mean(axis=(1, 3)))
    up = area_weights(4, 8) @ image @ area_weights(4, 8).T
    np.testing.assert_allclose(up, np.repeat(np.repeat(image, 2, 0), 2, 1))


def _images(n, size, channels, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return from_arrays(rng.normal(2.0, 3.0, (n, size, size, channels)).astype(np.float32),
                       rng.integers(0, classes, n), num_classes=classes, name="src")


def test_resize_like_resamples_maps_channels_and_standardises():
    source, like = _images(50, 12, 1), _images(5, 6, 3, seed=1)
    out = resize_like(source, like, chunk=7)  # several chunks
    assert out.input_shape == (6, 6, 3) and out.name == "src@6x6x3" and len(out) == 50
    np.testing.assert_array_equal(out.labels, source.labels)
    raw = np.stack([area_weights(12, 6) @ x[..., 0].astype(np.float64) @ area_weights(12, 6).T
                    for x in source.inputs])
    expected = (raw - raw.mean()) / raw.std()
    for channel in range(3):  # one channel repeated, then standardised per channel
        np.testing.assert_allclose(out.inputs[..., channel], expected, atol=2e-5)
    grey = resize_like(_images(20, 4, 3), _images(3, 4, 1))
    colour = _images(20, 4, 3).inputs.astype(np.float64).mean(-1)
    np.testing.assert_allclose(grey.inputs[..., 0], (colour - colour.mean()) / colour.std(),
                               atol=2e-5)


@pytest.mark.parametrize("source, like, match", [
    (_images(5, 4, 1, classes=3), _images(5, 4, 1), "classes"),
    (_images(5, 4, 2), _images(5, 4, 3), "channels"),
    (from_arrays(np.ones((5, 7)), np.zeros(5, int), num_classes=10), _images(5, 4, 1), "source"),
])
def test_resize_like_errors(source, like, match):
    with pytest.raises(ValueError, match=match):
        resize_like(source, like)


def test_surrogate_public_set_leaves_the_other_splits_alone():
    train, test = _images(60, 8, 1), _images(30, 8, 1, seed=2)
    surrogate = resize_like(_images(40, 12, 1, seed=3), train)
    plain = make_splits(train, test, forget_classes=[2], seed=1)
    splits = make_splits(train, test, forget_classes=[2], seed=1, public_source=surrogate,
                         public_size=25)
    np.testing.assert_array_equal(splits.forget_indices, plain.forget_indices)
    assert len(splits.test) == len(test) and len(splits.public) == 25
    assert splits.public.name == "src@8x8x1"


def test_data_config_public_source_and_size():
    config = apply_overrides(ExperimentConfig(), ["data.public_source=fashion_mnist",
                                                  "data.public_size=100"])
    assert config.data.public_source == "fashion_mnist" and config.data.public_size == 100
    assert config.data.split_kwargs()["public_size"] == 100
    assert "public_fraction" not in config.data.split_kwargs()
    for kwargs, match in [({"public_source": "digits"}, "data.public_source"),
                          ({"public_size": 0}, "data.public_size"),
                          ({"public_size": 5, "public_fraction": 0.1}, "public_size"),
                          ({"public_source": "", "public_size": 5}, "data.public_source")]:
        with pytest.raises(ValueError, match=match):
            DataConfig(**kwargs)
    with pytest.raises(TypeError, match="data.public_source"):
        DataConfig(public_source=3, public_size=5)


def test_prepare_rejects_an_unknown_public_source():
    from jaxunlearn.pipeline import prepare

    config = ExperimentConfig(data=DataConfig(public_source="no_such_set", public_size=5))
    with pytest.raises(ValueError, match="data.public_source"):
        prepare(config)


@pytest.mark.skipif(not FASHION.exists(), reason="needs Debian's dataset-fashion-mnist")
def test_standard_recipe_surrogate_is_the_other_dataset():
    from jaxunlearn.compare import standard_experiment
    from jaxunlearn.pipeline import prepare

    plain = prepare(standard_experiment("digits", "class"))
    setup = prepare(standard_experiment("digits", "class", surrogate=True))
    assert setup.splits.public.input_shape == (8, 8, 1) and len(setup.splits.public) == 1000
    assert setup.splits.public.name == "fashion_mnist@8x8x1"
    assert setup.splits.test.fingerprint() == plain.splits.test.fingerprint()
    np.testing.assert_array_equal(setup.splits.forget_indices, plain.splits.forget_indices)
    assert setup.splits.public.inputs.std() == pytest.approx(1.0, abs=0.05)
