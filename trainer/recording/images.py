"""The fixed images recording looks through: the probe batch, whose activations are recorded,
and the atlas images, which the Filter Atlas ranks (a larger set, the probe's first images when
none were given). Given to the callback, captured from the first training batch, or, for a
continued run, the very images its store keeps."""

import numpy as np
import tensorflow as tf

from .atlas import ATLAS_K, atlas_count
from .hooks import PROBE_SIZE
from .probe import first_input, probe_labels


def first_samples(data, count=PROBE_SIZE):
    """The first `count` samples of an array or a structure of arrays (several inputs)."""
    return tf.nest.map_structure(lambda a: np.asarray(a)[:count], data)


def as_stored(inputs):
    """Atlas inputs as the store keeps them (the first input as float16): a continued run
    ranks the very images the first one did."""
    flat = tf.nest.flatten(inputs)
    first = np.asarray(flat[0])
    if first.dtype.kind == "f":
        first = first.astype(np.float16).astype(first.dtype)
    return tf.nest.pack_sequence_as(inputs, [first] + flat[1:])


def several_inputs(images):
    """Whether (inputs, labels) feed a model of several inputs (the store keeps the first)."""
    return images is not None and len(tf.nest.flatten(images[0])) > 1


class ProbeImages:
    """probe: (inputs, labels) of the probe batch, or None until it is known; atlas: (inputs,
    labels) of the atlas images (None: no atlas); `atlas_size` 0 records no atlas."""

    def __init__(self, probe=None, atlas_size=0):
        self.atlas_size = atlas_size
        self.probe = self.atlas = None
        if probe is not None:
            self.probe = (first_samples(probe[0]), probe_labels(first_samples(probe[1])))
            if atlas_size:
                count = atlas_count(first_input(probe[0]), atlas_size)
                self.atlas = (as_stored(first_samples(probe[0], count)),
                              probe_labels(first_samples(probe[1], count)))

    @property
    def given(self):
        return self.probe is not None

    def use(self, probe, atlas=None):
        """Look through these probe (inputs, labels) from now on, and for the atlas `atlas`
        (default: the atlas images chosen already, else the probe's)."""
        self.probe = probe
        if self.atlas_size:
            self.atlas = atlas or self.atlas or (as_stored(probe[0]), probe[1])

    def atlas_k(self):
        """How many images the atlas keeps per filter: ATLAS_K, fewer when it has fewer."""
        return min(ATLAS_K, len(first_input(self.atlas[0])))

    def stored_probe(self):
        """(first input, labels) of the probe as the store keeps them."""
        return first_input(self.probe[0]), self.probe[1]

    def stored_atlas(self):
        return first_input(self.atlas[0]), self.atlas[1]
