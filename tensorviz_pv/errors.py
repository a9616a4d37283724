"""The errors TensorViz raises for problems a person can fix; each message names the problem
and the file or setting. Pure Python: every tier (and the trainer) imports it."""


class TensorVizError(Exception):
    """Base of every TensorViz error: the `tensorviz` command prints its message, exit status 2."""


class StoreError(TensorVizError):
    """A run store that cannot be used (missing, damaged, not a TensorViz store, lacking what
    was asked of it): the message names the file and the problem."""


class SettingError(TensorVizError):
    """A setting a person chose that cannot be used: a view property (a Filters list, a probe
    image index, a weight index) or a rendering option (a figure name)."""


class FigureError(TensorVizError):
    """A figure that cannot be drawn from this run (the run lacks what it needs, or a view
    made no output): the message names the figure's view or layer."""
