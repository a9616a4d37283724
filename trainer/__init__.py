"""TensorViz, TensorFlow side: the model, datasets, recording during fit (recording/),
checkpoints, filter reduction. The only part of TensorViz that imports TensorFlow; the
`tensorviz` command (tensorviz_cli/) reads its configuration (config.py) without it."""


def __getattr__(name):
    # lazy, so that `tensorviz info/render` start without loading TensorFlow
    if name == "TensorVizCallback":
        from .recording.callback import TensorVizCallback
        return TensorVizCallback
    if name == "RunCheckpoints":
        from .checkpoints import RunCheckpoints
        return RunCheckpoints
    raise AttributeError(name)
