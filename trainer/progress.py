"""One progress line for `tensorviz train`: steps, loss, accuracy, time left, and the store."""

import sys
import time

import keras


def _duration(seconds):
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ProgressLine(keras.callbacks.Callback):
    """Redrawn in place on a terminal; in a log, one line every `interval` seconds."""

    def __init__(self, recorder, epochs, steps_per_epoch, stream=None, interval=10.0):
        super().__init__()
        self.recorder = recorder  # the TensorVizCallback: its step and its latest values read
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.interval = 0.2 if self.tty else interval
        self.last_shown = 0.0

    def on_train_begin(self, logs=None):
        if getattr(self, "started", None) is not None:
            return  # a further fit of the same training (filter reduction)
        self.started = time.monotonic()
        self.first_step = self.recorder.step
        self.total = self.epochs * self.steps_per_epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.recorder.latest()[0] == self.first_step:
            return  # nothing read back from the training graph yet
        if time.monotonic() - self.last_shown >= self.interval:
            self.show()

    def on_epoch_end(self, epoch, logs=None):
        self.show(epoch_logs=logs or {})

    def show(self, epoch_logs=None):
        self.last_shown = time.monotonic()
        step = self.recorder.step
        done = step - self.first_step
        rate = done / max(time.monotonic() - self.started, 1e-9)
        left = (self.total - step) / rate if rate > 0 else float("nan")
        _, loss, accuracy = self.recorder.latest()
        line = (f"epoch {self.epoch + 1}/{self.epochs}  step {step}/{self.total}  "
                f"loss {loss:.4f}  acc {accuracy:.3f}  {rate:.1f} steps/s  "
                f"{_duration(left) if left == left else '?'} left  -> {self.recorder.store_path}")
        if epoch_logs:
            extra = "  ".join(f"{k} {v:.4f}" for k, v in epoch_logs.items() if k.startswith("val_"))
            line = f"epoch {self.epoch + 1}/{self.epochs} done  step {step}  {extra}  ({_duration(time.monotonic() - self.started)})"
            self.stream.write(("\r\033[K" if self.tty else "") + line + "\n")
        else:
            self.stream.write(("\r\033[K" + line) if self.tty else line + "\n")
        self.stream.flush()
