"""A live training steered through its run directory's command channel (tensorviz_pv/store/
steering.py): a thread of its own looks for new commands a few times a second, so the training
thread does no file-system work per step; at each step boundary the training thread applies what
arrived, in order, and answers each command once (applied at a step, or refused and why).

Built so far: the learning rate (a schedule is replaced from there on), pause and resume (the
training holds at a step boundary, the store flushed and the lock kept), stop. Checkpoint now,
merge and fork are refused with the reason until they are built.
"""

import queue
import threading
import time

import keras

from tensorviz_pv.messages import logger
from tensorviz_pv.store.steering import APPLIED, REFUSED, Command, SteeringChannel

LOG = logger("steering")
POLL_SECONDS = 0.2
NOT_YET = {"checkpoint": "checkpoint now is not built yet (issue 23)",
           "merge": "merging filters from a command is not built yet (issue 23)",
           "fork": "forking a run from a command is not built yet (issue 23)"}


class SteeringCallback(keras.callbacks.Callback):
    """Lets `tensorviz steer RUN_DIR` steer this fit; put it after the TensorVizCallback it
    flushes before a pause (`recording`), e.g.

        recording = TensorVizCallback("runs/mine")
        model.fit(x, y, callbacks=[recording, SteeringCallback("runs/mine", recording)])
    """

    def __init__(self, run_dir, recording=None):
        super().__init__()
        self._run_dir, self._recording = run_dir, recording
        self._steering = None
        self._step = 0

    def on_train_begin(self, logs=None):
        if self._steering is None:
            self._steering = Steering(self._run_dir, self._recording.flush
                                      if self._recording is not None else lambda: None)
        if self._recording is not None:
            self._step = self._recording.step

    def on_train_batch_end(self, batch, logs=None):
        self._step = self._recording.step if self._recording is not None else self._step + 1
        self._steering.apply(self.model, self._step)

    def on_train_end(self, logs=None):
        self.close()

    def close(self):
        if self._steering is not None:
            self._steering.close()
            self._steering = None


class Steering:
    """The training's side of the channel of `run_dir`; `flush` writes the store's queued
    records (called before a pause holds)."""

    def __init__(self, run_dir, flush=lambda: None):
        self._channel = SteeringChannel(run_dir).open(create=True)
        self._flush = flush
        self._arrived = queue.Queue()
        self._seen = set()
        self._ended = threading.Event()
        self._paused = False
        self._thread = threading.Thread(target=self._watch, name="tensorviz-steering",
                                        daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._ended.wait(POLL_SECONDS):
            try:
                for command in self._channel.unanswered():
                    seq = command.seq if isinstance(command, Command) else command[0]
                    if seq not in self._seen:
                        self._seen.add(seq)
                        self._arrived.put(command)
            except OSError as error:  # the folder gone, a full disk: steering stops, not training
                LOG.warning(f"TensorViz: steering stopped ({error})")
                return

    def apply(self, model, step):
        """At a step boundary (the training thread): apply the commands that arrived; a pause
        holds here until a resume or a stop arrives."""
        while True:
            try:
                command = self._arrived.get_nowait()
            except queue.Empty:
                if not self._paused:
                    return
                time.sleep(POLL_SECONDS / 2)  # paused: the watcher fills the queue
                continue
            self._apply_one(command, model, step)

    def _apply_one(self, command, model, step):
        if not isinstance(command, Command):  # unreadable, or another user's
            seq, why = command
            return self._answer(seq, REFUSED, step, why)
        if command.kind in NOT_YET:
            return self._answer(command.seq, REFUSED, step, NOT_YET[command.kind])
        if command.kind == "learning_rate":
            said = set_learning_rate(model, command.value)
            return self._answer(command.seq, APPLIED, step, said)
        if command.kind == "pause":
            if self._paused:
                return self._answer(command.seq, REFUSED, step, "already paused")
            self._flush()
            self._paused = True
            LOG.info(f"TensorViz: paused at step {step} (tensorviz steer --resume goes on)")
            return self._answer(command.seq, APPLIED, step, "paused; the store is flushed")
        if command.kind == "resume":
            if not self._paused:
                return self._answer(command.seq, REFUSED, step, "not paused")
            self._paused = False
            LOG.info(f"TensorViz: resumed at step {step}")
            return self._answer(command.seq, APPLIED, step, None)
        if command.kind == "stop":
            self._paused = False
            model.stop_training = True
            LOG.info(f"TensorViz: stopped by a command at step {step}")
            return self._answer(command.seq, APPLIED, step, "training stops after this step")

    def _answer(self, seq, status, step, reason):
        self._channel.answer(seq, status, step=step if status == APPLIED else None,
                             reason=reason)

    def close(self):
        self._ended.set()


def set_learning_rate(model, value):
    """Set the optimizer's learning rate from the next step on; returns what the answer says
    (a schedule is replaced by the value from there on)."""
    optimizer = model.optimizer
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # under a loss-scale optimizer
    current = inner._learning_rate
    if isinstance(current, keras.optimizers.schedules.LearningRateSchedule):
        with model.distribute_strategy.scope():
            inner._learning_rate = keras.Variable(float(value), name="learning_rate",
                                                  trainable=False)
        model.make_train_function(force=True)  # the step was traced with the schedule
        return f"learning rate {value:g} from the next step, replacing the schedule"
    inner.learning_rate = float(value)
    return f"learning rate {value:g} from the next step"
