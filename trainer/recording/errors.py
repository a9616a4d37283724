"""The error the recording raises for a request it cannot record."""

from tensorviz_pv.errors import TensorVizError


class RecordingError(TensorVizError):
    """A request the callback cannot record: said before training starts."""
