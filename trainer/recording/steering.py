"""A live training steered through its run directory's command channel (tensorviz_pv/store/
steering.py): a thread of its own looks for new commands a few times a second, so the training
thread does no file-system work per step; at each step boundary the training thread applies what
arrived, in order, and answers each command once (applied at a step, or refused and why). Each
outcome goes into the run's store before its answer (the recording's `record_steering`).

Commands: the learning rate (a schedule is replaced from there on), pause and resume (the
training holds at a step boundary, the store flushed and the lock kept), checkpoint now (a
steered checkpoint, trainer/checkpoints.py), stop (a checkpoint, then the fit ends), fork (the
checkpoint a new run continues from: `tensorviz steer` starts that run, or the training does
when the command asks it to, trainer/forks.py), and merge, where the
training can rebuild its model (`merger`, given by `tensorviz train`): checked at once, applied
at the end of the epoch, where the fit ends and the rebuilt model trains on.
"""

import json
import os
import queue
import threading
import time

import keras

from tensorviz_pv.errors import SettingError
from tensorviz_pv.messages import logger
from tensorviz_pv.store.steering import APPLIED, REFUSED, Command, SteeringChannel

from ..checkpoints import latest_checkpoint, save_steered_checkpoint
from ..forks import start_fork

LOG = logger("steering")
POLL_SECONDS = 0.2
NO_REBUILD = ("merging filters rebuilds the model, which needs `tensorviz train` (in your own "
              "fit: trainer.reduction's reduced_model, then a new fit)")


class SteeringCallback(keras.callbacks.Callback):
    """Lets `tensorviz steer RUN_DIR` steer this fit; put it after the TensorVizCallback it
    flushes before a pause and records the commands into (`recording`), e.g.

        recording = TensorVizCallback("runs/mine")
        model.fit(x, y, callbacks=[recording, SteeringCallback("runs/mine", recording)])

    Args:
        run_dir: the run directory (its `steering/` folder is the channel).
        recording: the TensorVizCallback of the fit (None: nothing flushed or recorded).
        merger: what merges filters by rebuilding the model (`tensorviz train` gives one; the
            fit ends at the epoch end of an accepted merge, `merges_due()` then says so, and
            the caller rebuilds and fits on). None: merge commands are refused with the reason.
    """

    def __init__(self, run_dir, recording=None, merger=None):
        super().__init__()
        self._run_dir, self._recording, self._merger = run_dir, recording, merger
        self._steering = None
        self._step = self._epoch = 0
        self.ended_for_merges = None  # the epochs done when the fit ended for waiting merges

    def on_train_begin(self, logs=None):
        self.ended_for_merges = None
        if self._steering is None:
            recording = self._recording
            self._steering = Steering(
                self._run_dir, recording.flush if recording is not None else lambda: None,
                recording.record_steering if recording is not None else None, self._merger)
        if self._recording is not None:
            self._step = self._recording.step

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._steering.apply(self.model, self._step, epoch)  # what came during the epoch's end

    def on_train_batch_end(self, batch, logs=None):
        self._step = self._recording.step if self._recording is not None else self._step + 1
        self._steering.apply(self.model, self._step, self._epoch)

    def on_test_batch_end(self, batch, logs=None):
        # the epoch's validation: commands that arrive meanwhile need not wait for its end
        if self._steering is not None:
            self._steering.apply(self.model, self._step, self._epoch)

    def on_epoch_end(self, epoch, logs=None):
        self._steering.apply(self.model, self._step, self._epoch)  # after the epoch's records
        if self._steering.merges_waiting() and not self.model.stop_training:
            self.model.stop_training = True  # the caller rebuilds the model, and fits on
            self.ended_for_merges = epoch + 1

    def merges_due(self):
        """Whether the fit ended at an epoch end for merges to apply now."""
        return self.ended_for_merges is not None

    def apply_merges(self, model):
        """The model rebuilt with the merges due (after the fit ended for them); each answered."""
        return self._steering.apply_merges(model, self._step)

    def on_train_end(self, logs=None):
        if self._merger is None:  # with a merger, the caller closes it after its last fit
            self.close()

    def close(self):
        if self._steering is not None:
            self._steering.close(self._step)
            self._steering = None


class Steering:
    """The training's side of the channel of `run_dir`; `flush` writes the store's queued
    records (called before a pause holds and a checkpoint is saved), `record(**row)` puts an
    outcome into the store (RunWriter.add_steering_event's row), `merger` as SteeringCallback's."""

    def __init__(self, run_dir, flush=lambda: None, record=None, merger=None):
        self._run_dir = run_dir
        self._channel = SteeringChannel(run_dir).open(create=True)
        self._flush, self._record, self._merger = flush, record, merger
        self._arrived = queue.Queue()
        self._seen = set()
        self._ended = threading.Event()
        self._paused = self._stopped = False
        self._waiting_merges = []  # merge Commands accepted, applied at the epoch's end
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

    def apply(self, model, step, epoch=0):
        """At a step boundary (the training thread): apply the commands that arrived; a pause
        holds here until a resume or a stop arrives. `epoch`: the one in progress (from 0)."""
        while True:
            try:
                command = self._arrived.get_nowait()
            except queue.Empty:
                if not self._paused:
                    return
                time.sleep(POLL_SECONDS / 2)  # paused: the watcher fills the queue
                continue
            try:
                self._apply_one(command, model, step, epoch)
            except OSError as error:  # a checkpoint that cannot be saved: refused, training on
                self._answer(command, REFUSED, step, f"{error.strerror or error}")

    def _apply_one(self, command, model, step, epoch):
        if not isinstance(command, Command):  # unreadable, or another user's
            return self._answer(command, REFUSED, step, command[1])
        kind = command.kind
        if kind == "learning_rate":
            return self._answer(command, APPLIED, step, set_learning_rate(model, command.value))
        if kind == "pause":
            if self._paused:
                return self._answer(command, REFUSED, step, "already paused")
            self._flush()
            self._paused = True
            LOG.info(f"TensorViz: paused at step {step} (tensorviz steer --resume goes on)")
            return self._answer(command, APPLIED, step, "paused; the store is flushed")
        if kind == "resume":
            if not self._paused:
                return self._answer(command, REFUSED, step, "not paused")
            self._paused = False
            LOG.info(f"TensorViz: resumed at step {step}")
            return self._answer(command, APPLIED, step, None)
        if kind == "checkpoint":
            path = self._checkpoint(model, step, epoch)
            return self._answer(command, APPLIED, step, f"checkpoint {path}",
                                checkpoint={"path": path, "step": step, "epoch": epoch})
        if kind == "stop":
            path = self._checkpoint(model, step, epoch)
            self._paused, self._stopped = False, True
            model.stop_training = True
            LOG.info(f"TensorViz: stopped by a command at step {step}")
            return self._answer(command, APPLIED, step, f"training stops after this step; "
                                f"checkpoint {path}", checkpoint={"path": path, "step": step,
                                                                  "epoch": epoch})
        if kind == "merge":
            return self._accept_merge(command, step)
        if kind == "fork":
            return self._fork(command, model, step, epoch)

    def _checkpoint(self, model, step, epoch):
        """A steered checkpoint at `step`, the store flushed first; its path in the run
        directory."""
        self._flush()
        path = save_steered_checkpoint(model, self._run_dir, step, epoch)
        return os.path.relpath(path, self._run_dir)

    def _fork(self, command, model, step, epoch):
        """The checkpoint a fork continues from: the newest at or before the step asked (one
        saved now when that step is this one or later)."""
        asked = command.value["step"]
        if asked >= step:
            path, at = self._checkpoint(model, step, epoch), {"step": step, "epoch": epoch}
        else:
            found = latest_checkpoint(self._run_dir, at_most_step=asked, steered=True)
            if found is None:
                return self._answer(command, REFUSED, step,
                                    f"no checkpoint at or before step {asked}")
            path, at = os.path.relpath(found[0], self._run_dir), found[1]
        said = f"fork from the checkpoint of step {at['step']} ({path})"
        if command.value.get("start"):
            said += self._start_fork(command.value, int(at["step"]))
        return self._answer(command, APPLIED, step, said,
                            checkpoint={"path": path, "step": int(at["step"]),
                                        "epoch": int(at["epoch"])})

    def _start_fork(self, value, step):
        """Start the fork's training here (the sender cannot train); what the answer adds."""
        try:
            pid, log_path = start_fork(self._run_dir, value, step, optimizer=value.get("optimizer"))
        except (SettingError, OSError) as error:
            return f"; not started: {error}"
        LOG.info(f"TensorViz: fork {value['run_dir']} started (pid {pid})")
        return f"; started (pid {pid}, output {log_path})"

    def _accept_merge(self, command, step):
        if self._merger is None:
            return self._answer(command, REFUSED, step, NO_REBUILD)
        why = self._merger.refusal(command.value, [c.value for c in self._waiting_merges])
        if why:
            return self._answer(command, REFUSED, step, why)
        self._waiting_merges.append(command)  # answered once applied, at the epoch's end
        LOG.info(f"TensorViz: step {step}: merge {command.value} applies at the epoch's end")

    def merges_waiting(self):
        return bool(self._waiting_merges) and not self._stopped

    def apply_merges(self, model, step):
        """The waiting merges, applied now (the fit ended at an epoch end): the rebuilt model;
        each merge answered."""
        waiting, self._waiting_merges = self._waiting_merges, []
        model, said = self._merger.apply(model, [command.value for command in waiting])
        for command, reason in zip(waiting, said):
            self._answer(command, APPLIED, step, reason)
        return model

    def _answer(self, command, status, step, reason, **detail):
        """Record the outcome in the store, then answer (the answer never precedes it)."""
        if isinstance(command, Command):
            seq, kind, value = command.seq, command.kind, command.value
        else:
            seq, kind, value = command[0], "", None
        if self._record is not None:
            self._record(seq=seq, kind=kind, value=json.dumps(value), status=status, step=step,
                         reason=reason or "", answered=time.time())
        self._channel.answer(seq, status, step=step if status == APPLIED else None,
                             reason=reason, **detail)

    def close(self, step=None):
        """Stop watching; merges still waiting are refused (the training ended before them)."""
        for command in self._waiting_merges:
            self._answer(command, REFUSED, step, "the training ended before the epoch's end "
                         "this merge waited for")
        self._waiting_merges = []
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
