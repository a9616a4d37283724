"""Recording under tf.distribute.MirroredStrategy with two logical CPU devices."""

import json
import os
import subprocess
import sys

from conftest import ROOT

SCRIPT = """
import json, sys
import numpy as np, tensorflow as tf, keras
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from trainer.recording.callback import TensorVizCallback
from tensorviz_pv.store.reader import RunReader
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
sys.path.insert(0, "tests/trainer")
from distributed_model import compiled_model
model, x, y = compiled_model(strategy, 32)
with tf.GradientTape() as tape:
    loss = keras.losses.SparseCategoricalCrossentropy()(y[:16], model(x[:16], training=True))
grads = tape.gradient(loss, model.trainable_variables)
model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0,
          callbacks=[TensorVizCallback(sys.argv[1], conv_every=1)])
with RunReader(sys.argv[1]) as run:
    json.dump({"replicas": strategy.num_replicas_in_sync,
               "steps": run.step_table()["step"].tolist(),
               "loss": [float(run.step_table()["loss"][0]), float(loss)],
               "grad_norms": [run.norms("gradient")[0].tolist(), [float(tf.norm(g)) for g in grads]],
               "kernel_grad_error": float(np.abs(run.tensor_at("c1", "kernel_gradient", 1)[1]
                                                 - grads[0].numpy()).max()),
               "probe_error": float(np.abs(run.probe()[0] - x[:16]).max())
               if len(run.probe()[0]) == 16 else len(run.probe()[0])}, sys.stdout)
"""


def test_mirrored_strategy_records_the_whole_batch(tmp_path):
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "run")], cwd=ROOT,
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT))
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["replicas"] == 2
    assert seen["steps"] == [1, 2]
    # both replicas' halves of the batch: the same loss and gradients as one device on it
    assert abs(seen["loss"][0] - seen["loss"][1]) < 1e-5
    for recorded, expected in zip(*seen["grad_norms"]):
        assert abs(recorded - expected) < 1e-5 * max(1.0, expected)
    assert seen["kernel_grad_error"] < 1e-6
    # the default probe: the first 16 of the global batch, both replicas' halves
    assert seen["probe_error"] == 0
