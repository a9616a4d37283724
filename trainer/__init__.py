"""TensorViz, TensorFlow side: the model, datasets, recording during fit, `tensorviz train`."""


def __getattr__(name):
    # lazy, so that `tensorviz info/render` start without loading TensorFlow
    if name == "TensorVizCallback":
        from .callback import TensorVizCallback
        return TensorVizCallback
    raise AttributeError(name)
