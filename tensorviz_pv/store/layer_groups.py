"""Layers grouped by their path, for lists a person reads: a model of 200 recorded layers is
shown as its blocks (`backbone/`, `conv4_block2`, `block_13`), not as 200 lines.

A layer's path is split into words at '/' (a nested model) and '_' (Keras's block names:
conv4_block2_1_conv, block_13_expand_BN); a group is a run of consecutive layers whose first
`depth` words agree. The depth chosen is the deepest that keeps at most `most` groups, so
ResNet50's 107 layers become conv1_conv, conv1_bn, conv2_block1 ... conv5_block3, predictions
(19 groups) and MobileNetV2's 105 its 21 blocks.
"""

import re
from collections import namedtuple

Group = namedtuple("Group", "label members")  # members: indices into the names, in order
LIST_MOST = 30  # layers a list shows one by one; a longer list is shown by its blocks

_WORD = re.compile(r"[^/_]+")


def prefix(name, depth):
    """The first `depth` words of a path with their separators ('conv4_block2')."""
    words = list(_WORD.finditer(name))
    if len(words) <= depth:
        return name
    return name[:words[depth - 1].end()]


def group_layers(names, most=24):
    """[Group] of the layer paths `names`, in model order: each layer in exactly one group."""
    if not names:
        return []
    deepest = max(len(_WORD.findall(name)) for name in names)
    chosen = [Group(name, [i]) for i, name in enumerate(names)]  # depth "all words"
    for depth in range(1, deepest + 1):
        groups = _runs(names, depth)
        if len(groups) > most:
            break
        chosen = groups
    return chosen


def _runs(names, depth):
    groups = []
    for index, name in enumerate(names):
        label = prefix(name, depth)
        if groups and groups[-1].label == label:
            groups[-1].members.append(index)
        else:
            groups.append(Group(label, [index]))
    return groups
