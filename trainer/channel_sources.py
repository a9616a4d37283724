"""Which conv layer's filters each layer's channels follow, for recording a reduced model's
tensors in the original layout (trainer/recording/filter_ids.py)."""

from .channel_graph import ChannelGraph, SurgeryError


def channel_sources(model):
    """({layer: the conv layer whose filters are its input channels}, {layer: the conv layer
    whose filters its own channels follow (BatchNormalization, depthwise)}): what recording
    needs to store a reduced model's tensors in the original layout; None for a model that is
    not a flat functional one (recording then pairs layers by their order)."""
    try:
        graph = ChannelGraph(model)
    except SurgeryError:
        return None
    producer_of = {}
    for name, space in graph.space_of.items():
        producer_of.setdefault(graph.find(space), name)

    def source(tensor):
        segments = graph.segments.get(id(tensor), [])
        if len(segments) != 1 or segments[0].multiplier != 1:
            return None
        return producer_of.get(graph.find(segments[0].space))

    input_of, channels_of = {}, {}
    for layer in graph.order:
        inputs = graph.inputs_of[layer.name]
        if len(inputs) == 1 and source(inputs[0]):
            input_of[layer.name] = source(inputs[0])
        if layer.name not in graph.space_of and source(layer.output):
            channels_of[layer.name] = source(layer.output)
    return input_of, channels_of
