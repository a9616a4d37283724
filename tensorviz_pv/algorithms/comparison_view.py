"""What the views that compare runs share: the runs of the reader upstream (a TensorViz Runs
reader, or one TensorViz Reader: its run against itself), two of them picked by RunA and RunB,
and the layers those two share."""

import numpy as np

from ..errors import SettingError, StoreError
from ..store import format as F
from .base import TensorVizView
from .convert import string_array


def same_probe(run_a, run_b):
    """Whether two runs recorded the same probe images (CKA and filter matching compare the
    responses to the same inputs)."""
    if run_a is run_b:
        return True
    try:
        return np.array_equal(run_a.probe()[0], run_b.probe()[0])
    except StoreError:
        return False


def layer_differences(entries_a, entries_b):
    """[text] for the layers that are not in both runs, or not of one shape."""
    a = {entry["name"]: entry for entry in entries_a}
    b = {entry["name"]: entry for entry in entries_b}
    notes = [f"{name}: only in run A" for name in a if name not in b]
    notes += [f"{name}: only in run B" for name in b if name not in a]
    notes += [f"{name}: kernel {tuple(a[name]['kernel_shape'])} in A, "
              f"{tuple(b[name]['kernel_shape'])} in B" for name in a
              if name in b and a[name]["kernel_shape"] != b[name]["kernel_shape"]]
    return notes


class ComparisonView(TensorVizView):
    """RunA and RunB name runs of the reader upstream (default: its first two, or its only run
    twice); the Layer list holds the layers both have."""

    def __init__(self, *output_types):
        TensorVizView.__init__(self, *output_types)
        self._run_a = ""
        self._run_b = ""

    def SetRunA(self, label):
        self.set_value("_run_a", label or "")

    def SetRunB(self, label):
        self.set_value("_run_b", label or "")

    def all_runs(self):
        reader = self.upstream_reader()
        return reader.tensorviz_runs() if reader is not None else []

    def GetRunNames(self):
        return string_array("runs", [label for label, _ in self.all_runs()])

    def GetRunNamesB(self):
        """The runs from the second on, then the first: ParaView's list domain makes its first
        entry the default, and run B's is the second run."""
        labels = [label for label, _ in self.all_runs()]
        return string_array("runs", labels[1:] + labels[:1])

    def pair(self):
        """((label, RunReader) of run A, the same of run B)."""
        runs = self.all_runs()
        if not runs:
            raise StoreError("no runs upstream")
        labels = [label for label, _ in runs]
        chosen = []
        for name, default in ((self._run_a, 0), (self._run_b, min(1, len(runs) - 1))):
            if name and name not in labels:
                raise SettingError(f"no run named {name!r} (runs: {', '.join(labels)})")
            chosen.append(runs[labels.index(name) if name else default])
        return tuple(chosen)

    def shared_entries(self):
        """The run_info entries of A's layers that B has too (by name), that this view shows."""
        try:
            (_, a), (_, b) = self.pair()
        except (StoreError, SettingError):
            return []
        names_b = set(b.layers)
        return [entry for entry in a.info.get("layers", [])
                if entry["name"] in names_b and self.shows_layer(entry)
                and self.shows_layer(b.layer_info(entry["name"]))]

    def layer_names(self):
        return [entry["name"] for entry in self.shared_entries()]


def activation_layers(entries):
    return [entry["name"] for entry in entries if "activation_shape" in entry]


def weights_of(run, layer):
    """The series of a layer's main weights (a kernel, a normalization's gamma; None for a
    layer without)."""
    return F.shown_variable(run.layer_info(layer))
