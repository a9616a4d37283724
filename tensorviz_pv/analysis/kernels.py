"""Every layer's weights in one layout: conv's (spatial..., in, out), so that glyphs and
correlations treat Conv1D/2D/3D, transposed, depthwise and separable kernels alike.

Layouts (store/format.py KINDS): conv (spatial..., in, out); transpose (spatial..., out, in);
depthwise (spatial..., in, multiplier): output channel i * multiplier + m sees input channel i
only; dense (in, out); vector (n,): biases, normalization parameters.
"""

import numpy as np

CONV_LAYOUTS = ("conv", "transpose", "depthwise")


def canonical(tensor, layout):
    """The tensor in conv's layout (dense and vector tensors as they are); a depthwise kernel
    becomes (spatial..., 1, in * multiplier): each filter has its one input channel."""
    tensor = np.asarray(tensor)
    if layout == "transpose":
        return np.swapaxes(tensor, -1, -2)
    if layout == "depthwise":
        return tensor.reshape(tensor.shape[:-2] + (1, tensor.shape[-2] * tensor.shape[-1]))
    return tensor


def check_rank(tensor, layout):
    """ValueError unless the tensor's rank fits its layout."""
    ranks = {"dense": (2,), "vector": (1,)}.get(layout, (3, 4, 5) if layout in CONV_LAYOUTS else ())
    if np.ndim(tensor) not in ranks:
        raise ValueError(f"cannot lay out a {layout} tensor of shape {np.shape(tensor)}")
