"""The recording of a training whose filters are merged between fits (`tensorviz train
--reduce`, the poster's Fig. 5): one store kept open across the fits, the probe's activations
that the merges are planned from, and each reduction's merges and surviving filters."""

from .callback import TensorVizCallback


class ReducingCallback(TensorVizCallback):
    """A TensorVizCallback kept open across the fits of a reduced training (call `close()` at
    the end); its arguments are TensorVizCallback's."""

    def __init__(self, run_dir, **kwargs):
        super().__init__(run_dir, keep_open=True, **kwargs)

    def begin(self, model):
        """Attach to `model` and open the store before a fit does (a resumed run reduces its
        filters before it trains on)."""
        self.set_model(model)
        self.on_train_begin()

    def probe_activations(self):
        """{conv layer: activations of the probe batch} under the current weights."""
        return self._attached.activations() if self._attached is not None else {}

    def original_filters(self, layer):
        """How many filters conv layer `layer` had at the start (its filter ids: 0..n-1)."""
        return self._filter_ids.original[layer]

    def filter_ids_now(self, layer):
        """The original ids of the filters conv layer `layer` holds now, in model order."""
        return self._filter_ids.ids[layer]

    def probe_inputs(self):
        """The probe batch's inputs (what the merges are planned from)."""
        return self._images.probe[0] if self._images.given else None

    def filter_counts(self):
        """{conv layer: how many of its filters exist now}."""
        return {name: len(ids) for name, ids in self._filter_ids.ids.items()}

    def record_reduction(self, plans, kept):
        """Record the merges of a reduction (plans: {layer: [Merge]} in current indices,
        kept: {layer: indices kept}) and which original filters now exist."""
        if self._output is None:  # recording stopped (said then): the model is still reduced
            return
        layer_index = {layer.path: i for i, layer in enumerate(self._attached.layers)}
        self._output.reduction(self._step, plans, kept, self._filter_ids, layer_index)
