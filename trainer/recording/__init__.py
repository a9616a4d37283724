"""Recording a Keras training into a TensorViz run store: the callback (Keras hooks only) and
its rooms: the in-graph hooks, the health pass, the probe and the Filter Atlas, snapshots, the
per-step rows, alerts, resuming, the store plan, cadence, filter ids, the background writer."""

from .callback import TensorVizCallback
from .errors import RecordingError
from .reducing import ReducingCallback

__all__ = ["TensorVizCallback", "ReducingCallback", "RecordingError"]
