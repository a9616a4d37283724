"""Datasets: IDX files and .npz given by path, the splits, and clear errors."""

import gzip
import struct

import numpy as np
import pytest

from trainer.datasets import DatasetError, load_dataset, read_idx


def write_idx(path, array, compress):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(data)


def test_idx_directory_splits_off_validation(tmp_path):
    rng = np.random.default_rng(0)
    train, test = rng.integers(0, 256, (120, 28, 28)), rng.integers(0, 256, (30, 28, 28))
    write_idx(str(tmp_path / "train-images-idx3-ubyte.gz"), train, True)
    write_idx(str(tmp_path / "train-labels-idx1-ubyte.gz"), np.arange(120) % 10, True)
    write_idx(str(tmp_path / "t10k-images-idx3-ubyte"), test, False)
    write_idx(str(tmp_path / "t10k-labels-idx1-ubyte"), np.arange(30) % 10, False)
    data = load_dataset(str(tmp_path))
    assert data.x_train.shape == (110, 28, 28, 1) and data.x_val.shape == (10, 28, 28, 1)
    assert data.x_test.shape == (30, 28, 28, 1) and data.classes == 10
    np.testing.assert_allclose(data.x_train[0, ..., 0], train[0] / 255.0, rtol=1e-6)
    assert data.x_train.dtype == np.float32 and 0.0 <= data.x_train.min() <= data.x_train.max() <= 1.0


def test_npz_and_the_embedded_digits(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "d.npz", x_train=rng.integers(0, 256, (60, 28, 28)), y_train=np.arange(60) % 3,
             x_test=rng.integers(0, 256, (12, 28, 28)), y_test=np.arange(12) % 3)
    data = load_dataset(str(tmp_path / "d.npz"))
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (55, 5, 12)
    digits = load_dataset("mnist-5k")
    assert (len(digits.x_train), len(digits.x_val), len(digits.x_test)) == (4000, 500, 500)
    assert digits.classes == 10 and set(np.unique(digits.y_train)) == set(range(10))


def test_bad_dataset_files_are_clear_errors(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(DatasetError, match="bad.npz: cannot read as .npz"):
        load_dataset(str(tmp_path / "bad.npz"))
    (tmp_path / "t.idx").write_bytes(struct.pack(">BBBBI", 0, 0, 8, 1, 10) + b"abc")
    with pytest.raises(DatasetError, match="truncated IDX file"):
        read_idx(str(tmp_path / "t.idx"))
    with pytest.raises(DatasetError, match="no train-images-idx3-ubyte"):
        load_dataset(str(tmp_path))
