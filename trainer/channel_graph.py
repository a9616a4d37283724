"""Which channels of a functional Keras model depend on which conv layer's filters, for filter
reduction of any CNN (trainer/surgery.py rebuilds the model).

Every conv layer's output starts a channel *space* (its filters). A tensor's channels are a list
of segments (space, count, multiplier): BatchNormalization, activations, pooling, padding and
dropout pass them on; DepthwiseConv2D multiplies each channel by its depth multiplier;
Concatenate joins segments; Flatten keeps them, interleaved with the positions; global pooling
keeps them. A residual Add ties the spaces of its inputs channel by channel: tied spaces form
one *group*, reduced together. Conv2D, SeparableConv2D and Dense read channels (mix them into
their own outputs). A space read by any other layer, or reaching a model output, cannot be
reduced: `why_not_reducible` says so, per conv layer.

A group's merges fold into its readers (w_k += c * w_j, the poster's fold) only when that is
exact: a single conv whose output reaches its readers through at most a chain of
BatchNormalization/activation layers with no other reader (the *measured* tensor, where the
merge is planned) and then only layers that commute with a -> c * a + d (pooling, dropout,
flatten, concatenation). Otherwise (a residual group, a depthwise reader) the merged-away
channels are removed without a fold (pruned), and `Group.fold_refused` says why.
"""

from dataclasses import dataclass, field

import keras
from keras import layers as L

from tensorviz_pv.errors import TensorVizError

CHANNELWISE = (L.BatchNormalization, L.ReLU, L.Activation, L.LeakyReLU, L.ELU, L.PReLU,
               L.Softmax)
COMMUTING = (L.MaxPooling2D, L.AveragePooling2D, L.Dropout, L.SpatialDropout2D,
             L.GaussianNoise, L.GaussianDropout, L.ZeroPadding2D, L.Cropping2D, L.UpSampling2D,
             L.Identity)
GLOBAL_POOLING = (L.GlobalAveragePooling2D, L.GlobalMaxPooling2D)
PRODUCERS = (L.SeparableConv2D, L.Conv2D)  # SeparableConv2D first: it is no Conv2D subclass


class SurgeryError(TensorVizError):
    """A reduction plan that cannot be applied to the model."""


@dataclass
class Segment:
    space: int
    count: int
    multiplier: int = 1


@dataclass
class Group:
    """Conv layers whose filters are reduced together (tied by residual adds)."""
    members: list
    measured: object = None          # the KerasTensor the merges are planned from
    fold_refused: str = ""           # why merges are pruned instead of folded ('' when folded)
    readers: list = field(default_factory=list)   # layers reading the group's channels


def is_reader(layer):
    return isinstance(layer, (L.Conv2D, L.SeparableConv2D, L.Dense)) and \
        not isinstance(layer, (L.DepthwiseConv2D, L.Conv2DTranspose))


def _channels_last(layer):
    return getattr(layer, "data_format", "channels_last") == "channels_last"


class ChannelGraph:
    """The channel dependencies of a flat functional Keras model (channels last)."""

    def __init__(self, model):
        if not isinstance(model, keras.Model) or not hasattr(model, "_nodes_by_depth") \
                or isinstance(model, keras.Sequential):
            raise SurgeryError(f"model {model.name!r}: filter surgery needs a functional Keras "
                               "model (keras.Model(inputs, outputs))")
        self.model = model
        self._parent = []          # union-find over spaces
        self._producer = []        # space -> conv layer name, or None (input, dense, unknown)
        self._blocked = {}         # space -> why it cannot be reduced
        self.segments = {}         # id(KerasTensor) -> [Segment]
        self.positions = {}        # id(KerasTensor) -> positions interleaved by Flatten (or 1)
        self.tensors = {}          # id(KerasTensor) -> KerasTensor
        self.consumers = {}        # id(KerasTensor) -> [layer]
        self.inputs_of = {}        # layer name -> [KerasTensor]
        self.space_of = {}         # conv layer name -> its space
        self.order = []            # layers in graph order
        for node in self._nodes_in_order():
            self._visit(node)
        for tensor in model.outputs:
            for segment in self.segments.get(id(tensor), []):
                self._block(segment.space, "its channels are a model output")

    # -- building ---------------------------------------------------------------------------
    def _nodes_in_order(self):
        nodes = []
        for depth in sorted(self.model._nodes_by_depth, reverse=True):
            nodes += self.model._nodes_by_depth[depth]
        return nodes

    def _new_space(self, producer):
        self._parent.append(len(self._parent))
        self._producer.append(producer)
        return len(self._parent) - 1

    def find(self, space):
        while self._parent[space] != space:
            self._parent[space] = self._parent[self._parent[space]]
            space = self._parent[space]
        return space

    def _block(self, space, why):
        self._blocked.setdefault(space, why)

    def _fresh(self, tensor, producer=None):
        space = self._new_space(producer)
        self.segments[id(tensor)] = [Segment(space, int(tensor.shape[-1]))]
        self.positions[id(tensor)] = 1
        return space

    def _visit(self, node):
        layer = node.operation
        outputs, inputs = list(node.output_tensors), list(node.input_tensors)
        for tensor in outputs + inputs:
            self.tensors[id(tensor)] = tensor
        if isinstance(layer, L.InputLayer):
            self._fresh(outputs[0])
            return
        if len(layer._inbound_nodes) > 1:
            raise SurgeryError(f"layer {layer.name!r} is called more than once (a shared "
                               "layer): filter surgery needs each layer used once")
        if isinstance(layer, keras.Model):
            raise SurgeryError(f"layer {layer.name!r} is a nested model: filter surgery "
                               "needs a flat functional model")
        self.order.append(layer)
        self.inputs_of[layer.name] = inputs
        for tensor in inputs:
            self.consumers.setdefault(id(tensor), []).append(layer)
        segments = [self.segments[id(t)] for t in inputs]
        out = outputs[0]
        if not _channels_last(layer):
            for segs in segments:
                for s in segs:
                    self._block(s.space, f"read by {layer.name!r}, which is channels_first")
            self._fresh(out)
        elif isinstance(layer, L.DepthwiseConv2D):
            m = layer.depth_multiplier
            self.segments[id(out)] = [Segment(s.space, s.count, s.multiplier * m)
                                      for s in segments[0]]
            self.positions[id(out)] = 1
        elif isinstance(layer, PRODUCERS) and getattr(layer, "groups", 1) == 1:
            self.space_of[layer.name] = self._fresh(out, layer.name)
        elif isinstance(layer, L.Dense) and len(out.shape) == 2:
            self._fresh(out)
        elif isinstance(layer, CHANNELWISE + COMMUTING + GLOBAL_POOLING + (L.Flatten,)) \
                and len(inputs) == 1 and self._keeps_channels(layer, inputs[0], out):
            self.segments[id(out)] = segments[0]
            self.positions[id(out)] = self.positions[id(inputs[0])] * (
                _spatial_positions(inputs[0]) if isinstance(layer, L.Flatten) else 1)
        elif isinstance(layer, L.Concatenate) and layer.axis in (-1, len(out.shape) - 1) \
                and all(self.positions[id(t)] == 1 for t in inputs):
            self.segments[id(out)] = [s for segs in segments for s in segs]
            self.positions[id(out)] = 1
        elif isinstance(layer, (L.Add, L.Subtract, L.Maximum, L.Minimum, L.Average)):
            self._tie(layer, inputs, segments, out)
        else:
            for segs in segments:
                for s in segs:
                    self._block(s.space, f"read by {layer.name!r} ({type(layer).__name__}), "
                                "which filter surgery does not handle")
            for tensor in outputs:
                self._fresh(tensor)

    def _keeps_channels(self, layer, tensor, out):
        """Whether the layer leaves the channel axis alone (BatchNormalization on it, etc.)."""
        if isinstance(layer, L.BatchNormalization):
            return layer.axis in (-1, len(tensor.shape) - 1)
        if isinstance(layer, L.Softmax):
            return False
        return int(out.shape[-1]) == int(tensor.shape[-1]) or isinstance(layer, L.Flatten)

    def _tie(self, layer, inputs, segments, out):
        shapes = {tuple((s.count, s.multiplier) for s in segs) for segs in segments}
        flat = any(self.positions[id(t)] != 1 for t in inputs)
        if len(shapes) != 1 or flat:
            for segs in segments:
                for s in segs:
                    self._block(s.space, f"joined by {layer.name!r} with inputs whose channels "
                                "come from different layouts")
            self._fresh(out)
            return
        for segs in segments[1:]:
            for first, other in zip(segments[0], segs):
                a, b = self.find(first.space), self.find(other.space)
                if a != b:
                    self._parent[b] = a
        self.segments[id(out)] = segments[0]
        self.positions[id(out)] = 1

    # -- questions -----------------------------------------------------------------------------
    def group_members(self, space):
        root = self.find(space)
        return [i for i in range(len(self._parent)) if self.find(i) == root]

    def why_not_reducible(self):
        """{conv layer: why its filters cannot be reduced}, for every conv layer that cannot."""
        reasons = {}
        for name, space in self.space_of.items():
            for member in self.group_members(space):
                if member in self._blocked:
                    reasons[name] = self._blocked[member]
                    break
                if self._producer[member] is None:
                    reasons[name] = ("its channels are added to channels that no conv layer "
                                     "produces (an input or a dense layer)")
                    break
        return reasons

    def groups(self):
        """[Group] of every reducible conv layer, in graph order of their first member."""
        refused = self.why_not_reducible()
        seen, result = set(), []
        for name, space in self.space_of.items():
            root = self.find(space)
            if name in refused or root in seen:
                continue
            seen.add(root)
            members = [self._producer[s] for s in self.group_members(space)]
            result.append(self._describe(Group(members=members)))
        return result

    def group_of(self, name):
        for group in self.groups():
            if name in group.members:
                return group
        return None

    def carriers(self, group):
        """Every tensor id whose channels include the group's spaces, in graph order."""
        spaces = {self.space_of[m] for m in group.members}
        roots = {self.find(s) for s in spaces}
        return [key for key, segs in self.segments.items()
                if any(self.find(s.space) in roots for s in segs)]

    def _describe(self, group):
        carried = self.carriers(group)
        group.readers = sorted({layer.name for key in carried for layer in
                                self.consumers.get(key, []) if is_reader(layer)},
                               key=[layer.name for layer in self.order].index)
        if len(group.members) > 1:
            whole = [key for key in carried if len(self.segments[key]) == 1
                     and self.positions[key] == 1 and len(self.tensors[key].shape) == 4]
            group.measured = self.tensors[whole[-1]]
            group.fold_refused = (f"tied by residual adds to {', '.join(group.members)}: "
                                  "merged filters are removed (pruned), not folded")
            return group
        producer = self.model.get_layer(group.members[0])
        tensor = producer.output
        while True:  # the conv's BatchNormalization/activation chain
            readers = self.consumers.get(id(tensor), [])
            if len(readers) != 1 or not isinstance(readers[0], CHANNELWISE) \
                    or id(tensor) in {id(t) for t in self.model.outputs}:
                break
            tensor = readers[0].output
        group.measured = tensor
        group.fold_refused = self._fold_refusal(tensor)
        return group

    def _fold_refusal(self, measured):
        """'' when every path from the measured tensor to a reader only commutes."""
        todo = [measured]
        while todo:
            tensor = todo.pop()
            for layer in self.consumers.get(id(tensor), []):
                if is_reader(layer):
                    if isinstance(layer, L.SeparableConv2D):
                        return (f"read by the separable conv {layer.name!r}, whose depthwise "
                                "part keeps channels apart: merged filters are pruned")
                    if not layer.use_bias and not self._bn_after(layer):
                        return (f"read by {layer.name!r}, which has no bias to take the "
                                "merge's offset: merged filters are pruned")
                    continue
                if isinstance(layer, COMMUTING + GLOBAL_POOLING + (L.Flatten, L.Concatenate)):
                    todo.append(layer.output)
                    continue
                return (f"reaches its readers through {layer.name!r} ({type(layer).__name__}), "
                        "which a merge does not pass exactly: merged filters are pruned")
        return ""

    def _bn_after(self, layer):
        readers = self.consumers.get(id(layer.output), [])
        return len(readers) == 1 and isinstance(readers[0], L.BatchNormalization)


def _spatial_positions(tensor):
    positions = 1
    for size in tensor.shape[1:-1]:
        positions *= int(size)
    return positions


def why_not_reducible(model):
    """{conv layer: why its filters cannot be reduced} (empty when all can)."""
    return ChannelGraph(model).why_not_reducible()
