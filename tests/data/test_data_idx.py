"""Tests for the IDX reader/writer and the Fashion-MNIST loader, against hand-built files."""

import gzip
import os
import struct

import numpy as np
import pytest

from jaxunlearn.data import load_dataset, load_fashion_mnist, read_idx, write_idx

# IDX type code -> struct format character of one big-endian value.
_STRUCT_FORMATS = {0x08: "B", 0x09: "b", 0x0B: "h", 0x0C: "i", 0x0D: "f", 0x0E: "d"}
_REAL_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def _idx_bytes(values, shape, code):
    """An IDX file built with `struct` only: magic (0, 0, code, ndim), dims, big-endian values."""
    header = struct.pack(">BBBB", 0, 0, code, len(shape))
    header += b"".join(struct.pack(">I", size) for size in shape)
    body = struct.pack(f">{len(values)}{_STRUCT_FORMATS[code]}", *values)
    return header + body


def _write(path, content, compress):
    with open(path, "wb") as handle:
        handle.write(gzip.compress(content) if compress else content)


@pytest.mark.parametrize("compress", [False, True])
def test_reads_handwritten_uint8_images_and_labels(tmp_path, compress):
    images = [(7 * i + 3) % 256 for i in range(4 * 3 * 5)]
    labels = [3, 0, 9, 9]
    suffix = ".gz" if compress else ""
    _write(tmp_path / f"images{suffix}", _idx_bytes(images, (4, 3, 5), 0x08), compress)
    _write(tmp_path / f"labels{suffix}", _idx_bytes(labels, (4,), 0x08), compress)

    read_images = read_idx(tmp_path / f"images{suffix}")
    read_labels = read_idx(str(tmp_path / f"labels{suffix}"))

    assert read_images.dtype == np.uint8 and read_images.shape == (4, 3, 5)
    assert read_images.ravel().tolist() == images
    assert read_labels.dtype == np.uint8 and read_labels.tolist() == labels


@pytest.mark.parametrize(
    "code, values, dtype",
    [
        (0x09, [-128, -1, 0, 127, 5, -7], np.int8),
        (0x0B, [-32768, -2, 0, 300, 32767, 1], np.int16),
        (0x0C, [-(2**31), -70000, 0, 1, 2**31 - 1, 123456], np.int32),
        (0x0D, [-1.5, 0.0, 0.25, 3.0e10, 1.0, -2.0], np.float32),
        (0x0E, [-1.0e-300, 0.0, 0.1, 1.0e300, 2.5, -3.75], np.float64),
    ],
)
def test_reads_every_type_code(tmp_path, code, values, dtype):
    path = tmp_path / "values.idx"
    _write(path, _idx_bytes(values, (2, 3), code), compress=False)
    array = read_idx(path)
    assert array.dtype == dtype and array.dtype.isnative
    assert array.shape == (2, 3)
    np.testing.assert_array_equal(array.ravel(), np.asarray(values, dtype=dtype))


@pytest.mark.parametrize("code", sorted(_STRUCT_FORMATS))
def test_write_idx_matches_handwritten_bytes(tmp_path, code):
    dtype = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32,
             0x0D: np.float32, 0x0E: np.float64}[code]
    array = (np.arange(24).reshape(2, 3, 4) % 100).astype(dtype)
    expected = _idx_bytes(array.ravel().tolist(), array.shape, code)
    write_idx(tmp_path / "plain", array)
    write_idx(tmp_path / "packed.gz", array)
    assert (tmp_path / "plain").read_bytes() == expected
    assert gzip.decompress((tmp_path / "packed.gz").read_bytes()) == expected
    np.testing.assert_array_equal(read_idx(tmp_path / "packed.gz"), array)


def test_write_idx_rejects_unsupported_arrays(tmp_path):
    with pytest.raises(TypeError, match="array"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="array"):
        write_idx(tmp_path / "x", np.zeros((), dtype=np.uint8))


@pytest.mark.parametrize(
    "content, match",
    [
        (b"\x00\x00\x0a\x01" + struct.pack(">I", 1) + b"\x00", "type code"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "magic"),
        (b"\x00\x00\x08\x02" + struct.pack(">II", 2, 2) + b"\x00\x00\x00", "bytes"),
        (b"\x00\x00\x08\x02" + struct.pack(">I", 2), "header"),
        (b"\x00\x00", "short"),
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path, content, match):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        read_idx(path)


def _write_fashion_files(directory, train_images, train_labels, test_images, test_labels):
    files = {
        "train-images-idx3-ubyte.gz": train_images,
        "train-labels-idx1-ubyte": train_labels,
        "t10k-images-idx3-ubyte": test_images,
        "t10k-labels-idx1-ubyte.gz": test_labels,
    }
    for name, array in files.items():
        content = _idx_bytes(array.ravel().tolist(), array.shape, 0x08)
        _write(directory / name, content, compress=name.endswith(".gz"))


def test_load_fashion_mnist_from_small_handwritten_files(tmp_path):
    rng = np.random.default_rng(0)
    train_images = rng.integers(0, 256, size=(6, 5, 4), dtype=np.uint8)
    test_images = rng.integers(0, 256, size=(3, 5, 4), dtype=np.uint8)
    train_labels = np.array([0, 9, 3, 3, 1, 2], dtype=np.uint8)
    test_labels = np.array([9, 0, 4], dtype=np.uint8)
    _write_fashion_files(tmp_path, train_images, train_labels, test_images, test_labels)

    train, test = load_fashion_mnist(tmp_path)

    scaled = train_images.astype(np.float64) / 255.0
    mean, std = scaled.mean(), scaled.std()
    assert train.inputs.shape == (6, 5, 4, 1) and test.inputs.shape == (3, 5, 4, 1)
    assert train.num_classes == 10 and train.name == "fashion_mnist"
    assert train.augmentation is None
    np.testing.assert_allclose(train.mean, [mean], rtol=1e-9)
    np.testing.assert_allclose(train.std, [std], rtol=1e-9)
    np.testing.assert_allclose(train.inputs[..., 0], (scaled - mean) / std, atol=1e-5)
    np.testing.assert_allclose(
        test.inputs[..., 0], (test_images / 255.0 - mean) / std, atol=1e-5
    )
    np.testing.assert_array_equal(train.labels, train_labels)
    np.testing.assert_array_equal(test.labels, test_labels)
    same_train, _ = load_dataset("fashion_mnist", data_dir=str(tmp_path))
    np.testing.assert_array_equal(same_train.inputs, train.inputs)


def test_load_fashion_mnist_missing_directory_or_file_explains_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(tmp_path / "absent")
    train = np.zeros((2, 3, 3), dtype=np.uint8)
    _write_fashion_files(tmp_path, train, np.zeros(2, np.uint8), train, np.zeros(2, np.uint8))
    os.remove(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte") as info:
        load_fashion_mnist(tmp_path)
    assert "data_dir" in str(info.value)


def test_load_fashion_mnist_rejects_mismatched_labels(tmp_path):
    images = np.zeros((3, 2, 2), dtype=np.uint8)
    images[0, 0, 0] = 255
    _write_fashion_files(tmp_path, images, np.zeros(2, np.uint8), images, np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="labels"):
        load_fashion_mnist(tmp_path)


@pytest.mark.skipif(
    not os.path.isdir(_REAL_FASHION_MNIST), reason="Debian dataset-fashion-mnist not installed"
)
def test_load_real_fashion_mnist_files():
    train, test = load_fashion_mnist()
    assert train.inputs.shape == (60000, 28, 28, 1)
    assert test.inputs.shape == (10000, 28, 28, 1)
    assert train.num_classes == 10
    assert set(np.unique(train.labels).tolist()) == set(range(10))
    np.testing.assert_array_equal(np.bincount(train.labels), np.full(10, 6000))
    assert abs(float(train.inputs.mean(dtype=np.float64))) < 1e-4
    assert abs(float(train.inputs.std(dtype=np.float64)) - 1.0) < 1e-4
    # Published statistics of the Fashion-MNIST training images.
    assert train.mean[0] == pytest.approx(0.2860, abs=1e-3)
    assert train.std[0] == pytest.approx(0.3530, abs=1e-3)
