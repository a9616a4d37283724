"""Whatever ends a fit, the store is closed with what was recorded, its lock released, the
hooks taken out, and the process exits."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from fit_that_raises import small_model
from trainer.recording import TensorVizCallback

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.parametrize("kind", ["error", "interrupt"])
def test_a_fit_that_raises_still_exits_and_leaves_a_closed_store(tmp_path, kind):
    run_dir = tmp_path / "run"
    try:
        done = subprocess.run([sys.executable, os.path.join(HERE, "fit_that_raises.py"),
                               str(run_dir), kind], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the process did not exit after its fit raised")
    assert done.returncode != 0  # the exception still ends the program
    assert ("KeyboardInterrupt" if kind == "interrupt" else "RuntimeError: boom") in done.stderr
    assert "the fit ended at step 3 without finishing" in done.stderr
    assert not os.path.exists(str(run_dir / "run.tvz.lock"))
    with RunReader(str(run_dir)) as run:
        np.testing.assert_array_equal(run.step_table()[F.STEP], [1, 2, 3])
        assert list(run.series_steps("conv", F.KERNEL)) == [0, 1, 2, 3]


class RaisesOnce(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.raised = False

    def on_train_batch_end(self, batch, logs=None):
        if batch == 1 and not self.raised:
            self.raised = True
            raise RuntimeError("boom")


def test_a_fit_after_one_that_raised_continues_the_run(tmp_path):
    model, x, y = small_model(32)
    callback, raises = TensorVizCallback(str(tmp_path / "run")), RaisesOnce()
    with pytest.raises(RuntimeError):
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[callback, raises])
    assert "train_step" in model.__dict__  # Keras told no callback that the fit ended
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[callback, raises])
    assert "train_step" not in model.__dict__
    assert not os.path.exists(str(tmp_path / "run" / "run.tvz.lock"))
    with RunReader(str(tmp_path / "run")) as run:  # 2 steps, then the second fit's 4
        np.testing.assert_array_equal(run.step_table()[F.STEP], np.arange(1, 7))
        np.testing.assert_allclose(run.tensor_at("head", F.KERNEL, 6)[1],
                                   model.get_layer("head").kernel.numpy(), rtol=1e-6)
