"""Training on two workers (tf.distribute.MultiWorkerMirroredStrategy over loopback, TF_CONFIG):
the chief writes the run, and what it records is the global batch's training, equal to one
process training on the whole batch; a worker killed mid-run leaves a store that opens."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT, tensorviz, tensorviz_command
from tensorviz_pv.store.reader import RunReader

SCRIPT = """
import os, sys
import tensorflow as tf
from trainer.recording.callback import TensorVizCallback
run_dir, epochs = sys.argv[1], int(sys.argv[2])
strategy = tf.distribute.MultiWorkerMirroredStrategy() if "TF_CONFIG" in os.environ \\
    else tf.distribute.get_strategy()
sys.path.insert(0, "tests/trainer")
from distributed_model import compiled_model
model, x, y = compiled_model(strategy, 64)
model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0,
          callbacks=[TensorVizCallback(run_dir, conv_every=1, test_data=(x[:32], y[:32]))])
print("trained", strategy.num_replicas_in_sync, flush=True)
"""


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def cluster(ports, task):
    """TF_CONFIG of worker `task` of workers on loopback `ports`."""
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": task}})


def start(run_dir, epochs, tmp, task=None, ports=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT, TMPDIR=str(tmp))
    env.pop("TF_CONFIG", None)
    if task is not None:
        env["TF_CONFIG"] = cluster(ports, task)
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(run_dir), str(epochs)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process, timeout=300):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return out


def test_the_chief_records_the_global_batch_as_one_process_would(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    ports = free_ports(2)
    workers = [start(tmp_path / "two", 2, tmp, task, ports) for task in (0, 1)]
    outs = [finish(w) for w in workers]
    assert all("trained 2" in out for out in outs)
    finish(start(tmp_path / "one", 2, tmp))
    assert os.listdir(tmp_path / "two") == ["run.tvz"]
    assert not [n for n in os.listdir(tmp) if n.startswith("tensorviz-")]  # the other worker's is gone
    with RunReader(str(tmp_path / "two")) as two, RunReader(str(tmp_path / "one")) as one:
        assert two.info["recording"]["replicas"] == 2 and two.info["recording"]["workers"] == 2
        assert one.info["recording"]["workers"] == 1
        steps = one.step_table()["step"]
        assert steps.tolist() == two.step_table()["step"].tolist() == list(range(1, 9))
        for column in ("loss", "accuracy"):
            np.testing.assert_allclose(two.step_table()[column], one.step_table()[column],
                                       rtol=1e-5)
        for kind in ("weight", "gradient"):
            np.testing.assert_allclose(two.norms(kind), one.norms(kind), rtol=1e-5, atol=1e-7)
        for layer in ("c1", "d1"):
            np.testing.assert_allclose(two.tensor_at(layer, "kernel", 8)[1],
                                       one.tensor_at(layer, "kernel", 8)[1], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(two.tensor_at("c1", "kernel_gradient", 8)[1],
                                   one.tensor_at("c1", "kernel_gradient", 8)[1], rtol=1e-4,
                                   atol=1e-7)
        # the epoch-end evaluation ran on both workers (a collective): the same test loss
        np.testing.assert_allclose(two.evaluation()["test_loss"], one.evaluation()["test_loss"],
                                   rtol=1e-5)
        # the default probe is the first global batch, both workers' halves of it
        np.testing.assert_array_equal(two.probe()[0], one.probe()[0])


@pytest.mark.parametrize("killed", [0, 1], ids=["the chief killed", "the other worker killed"])
def test_a_worker_killed_mid_run_leaves_a_store_that_opens(tmp_path, killed):
    """`tensorviz train` on two workers, one killed: the chief's store keeps the steps written
    before; the worker left behind does not hang (TensorFlow's coordination service sees its
    peer gone: 1 s to 10 s here), says so and exits 1, and, if it is not the chief, leaves no
    temporary recording."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    workers = train_on_workers(tmp_path / "run", tmp, "--epochs", 1000)
    try:
        deadline, seen = time.monotonic() + 240, 0
        while seen < 8 and time.monotonic() < deadline and workers[0].poll() is None:
            try:
                with RunReader(str(tmp_path / "run")) as run:
                    seen = run.step_count()
            except Exception:  # noqa: BLE001 - not created yet
                time.sleep(0.2)
        assert seen >= 8, "the chief recorded nothing"
        workers[killed].send_signal(signal.SIGKILL)
        left = workers[1 - killed]
        _, err = left.communicate(timeout=120)
        assert left.returncode == 1, err[-2000:]
        assert f"worker {1 - killed}: another worker of the training is gone" in err, err[-2000:]
        assert ("keeps the steps written before" in err) == (killed == 1)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    with RunReader(str(tmp_path / "run")) as run:
        assert run.step_count() >= seen
        assert run.step_table()["step"].tolist() == list(range(1, run.step_count() + 1))
        assert np.isfinite(run.norms("weight")).all()
    if killed == 0:  # the other worker, left behind, removed its recording (a killed one cannot)
        assert not [name for name in os.listdir(tmp) if name.startswith("tensorviz-")]


def train_on_workers(run_dir, tmp, *options):
    """`tensorviz train RUN_DIR` on 200 digits as two workers on loopback, both given RUN_DIR."""
    ports = free_ports(2)
    args = ["train", run_dir, "--max-samples", 200, "--batch-size", 50, "--budget", "none"]
    return [subprocess.Popen(tensorviz_command(*args, *options), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TMPDIR=str(tmp),
                                      TF_CONFIG=cluster(ports, task)))
            for task in (0, 1)]


def test_tensorviz_train_on_two_workers_given_the_same_run_dir(tmp_path):
    """`TF_CONFIG=... tensorviz train RUN` on each worker: the chief writes RUN (store and
    checkpoints), the other worker nothing there, and no temporary folder stays."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    run_dir = tmp_path / "run"
    workers = train_on_workers(run_dir, tmp, "--epochs", 2)
    outs = [finish(worker) for worker in workers]
    assert "recording into" in outs[0] and "worker 1 of 2: the chief records into" in outs[1]
    assert sorted(os.listdir(run_dir)) == ["checkpoints", "run.tvz"]
    assert not [name for name in os.listdir(tmp) if name.startswith("tensorviz-")]
    with RunReader(str(run_dir)) as run:
        assert run.info["recording"]["replicas"] == 2
        assert run.info["recording"]["workers"] == 2
        # 2 epochs of the 200 digits' training part in global batches of 50
        assert run.step_table()["step"].tolist() == list(range(1, len(run.step_table()["step"]) + 1))
        assert len(run.evaluation()["test_loss"]) == 2
    said = tensorviz("info", run_dir).stdout
    assert "trained    on 2 replicas of 2 workers (the chief recorded)" in said, said
    checkpoints = sorted(os.listdir(run_dir / "checkpoints"))
    assert checkpoints[-2:] == ["epoch-0002.json", "epoch-0002.keras"]


def test_tensorviz_train_says_what_is_wrong_with_tf_config(tmp_path):
    for text, said in (("{not json", "TF_CONFIG: not a cluster description"),
                       (cluster([1, 2], 2), "TF_CONFIG: task worker 2 is not in its cluster "
                                            "(2 worker)")):
        result = tensorviz("train", tmp_path / "run", "--epochs", 1, check=False,
                           env={"TF_CONFIG": text})
        assert result.returncode == 2 and said in result.stderr, result.stderr
        assert not (tmp_path / "run").exists()
    result = tensorviz("train", tmp_path / "run", "--reduce", check=False,
                       env={"TF_CONFIG": cluster([1, 2], 0)})
    assert result.returncode == 2 and "--reduce: filter reduction" in result.stderr
