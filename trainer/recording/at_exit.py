"""What a fit that raised leaves open, finished before the interpreter shuts down.

Keras calls no callback when an exception ends `fit` (another callback's, Ctrl-C, the user's
code): no on_train_end, so the store stays open with its writer thread running. Left to the
interpreter's shutdown, that thread, frozen while it holds HDF5's lock, deadlocks it, and the
lock file stays behind. Registered objects are finished at exit instead: the recordings whose
fit did not end first (their last steps kept), then any store still open."""

import atexit

# held strongly: a fit that raised drops its callback list, yet its writer thread still runs
_unfinished_fits = set()  # TensorVizCallbacks between on_train_begin and its end
_open_outputs = set()  # StoreOutputs not closed


def fit_begins(callback):
    _unfinished_fits.add(callback)


def fit_ends(callback):
    _unfinished_fits.discard(callback)


def unfinished(callback):
    """Whether `callback`'s last fit began and never ended."""
    return callback in _unfinished_fits


def output_opened(output):
    _open_outputs.add(output)


def output_closed(output):
    _open_outputs.discard(output)


@atexit.register
def _finish_left_open():
    for callback in list(_unfinished_fits):
        callback.finish_unfinished_fit()
    for output in list(_open_outputs):
        output.close_at_exit()
