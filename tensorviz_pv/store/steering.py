"""The command channel of a live training, in its run directory (RUN_DIR/steering/), so that it
works wherever the run can be read: locally, through a pvserver on the training machine, on a
shared file system. Plain files, no TensorFlow and no ParaView.

A command is a file NNNNNNNN.json: its sequence number is claimed by linking a complete file
under that name (os.link fails when the name is taken), so writers racing each other get
distinct numbers and a reader never sees half a command. The training answers each command once
with NNNNNNNN.ack.json (written whole, then renamed into place): applied at a step, or refused
and why. A command with an answer is never applied again, also after a killed training resumed.
The folder is private to the user who runs the training: a command file of another owner is
refused, and the refusal recorded.
"""

import json
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass
from typing import Optional

from ..errors import SettingError
from .run_dir import RunDir

KINDS = ("learning_rate", "pause", "resume", "checkpoint", "stop", "merge", "fork")
_COMMAND = re.compile(r"^(\d{8})\.json$")
APPLIED, REFUSED = "applied", "refused"


@dataclass(frozen=True)
class Command:
    """One command as sent: its sequence number, kind (KINDS), value (None for the kinds that
    take none), the uid that sent it and when."""

    seq: int
    kind: str
    value: object = None
    uid: Optional[int] = None
    sent: float = 0.0


def checked_command(kind, value=None):
    """(kind, value) checked before sending; SettingError names what is wrong."""
    if kind not in KINDS:
        raise SettingError(f"unknown command {kind!r}; one of {', '.join(KINDS)}")
    if kind == "learning_rate":
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise SettingError(f"learning rate {value!r}: give a number") from None
        if not math.isfinite(value) or value <= 0:
            raise SettingError(f"learning rate {value!r}: give a positive finite number")
    elif kind == "merge":  # keep None: the training merges into the best-correlated filter
        if not (isinstance(value, dict) and isinstance(value.get("layer"), str)
                and all(isinstance(value.get(k), int) and value[k] >= 0
                        for k in ("keep", "remove") if k == "remove" or value.get(k) is not None)
                and value.get("keep") != value["remove"]):
            raise SettingError(f"merge {value!r}: give a layer and two different filters, "
                               "keep (or none: the best-correlated) and remove")
        value = {"layer": value["layer"], "keep": value.get("keep"), "remove": value["remove"]}
    elif kind == "fork":
        if not (isinstance(value, dict) and isinstance(value.get("step"), int)
                and value["step"] >= 0 and isinstance(value.get("run_dir"), str)
                and value["run_dir"]):
            raise SettingError(f"fork {value!r}: give a step and a new run directory")
        if value.get("lr") is not None:  # the fork's learning rate (None: the checkpoint's)
            value = dict(value, lr=checked_command("learning_rate", value["lr"])[1])
        if "start" in value:  # the training starts the fork itself (no TensorFlow where sent)
            value = dict(value, start=value["start"] is True)
    elif value is not None:
        raise SettingError(f"{kind} takes no value")
    return kind, value


class SteeringChannel:
    """RUN_DIR/steering: `open(create=True)` by the training (private to its user), `send` by
    anyone who steers, `unanswered` and `answer` by the training, `history` for both."""

    def __init__(self, run_dir):
        self.path = RunDir(run_dir).steering

    def open(self, create=False):
        """The channel's folder; the training creates it, private to its user (mode 0700)."""
        if create:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
            os.chmod(self.path, 0o700)
        elif not os.path.isdir(self.path):
            raise SettingError(f"{os.path.dirname(self.path)}: no steering channel (the training "
                               "was started without one, or has not started)")
        return self

    # ---- who steers
    def send(self, kind, value=None):
        """Append a command; returns its sequence number."""
        kind, value = checked_command(kind, value)
        text = json.dumps({"kind": kind, "value": value, "sent": time.time()})
        handle, temporary = tempfile.mkstemp(dir=self.path, prefix=".sending-")
        try:
            with os.fdopen(handle, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            seq = self._last_seq() + 1
            while True:  # claim the next free number with a complete file
                try:
                    os.link(temporary, self._command_path(seq))
                    return seq
                except FileExistsError:
                    seq += 1
        finally:
            os.remove(temporary)

    def outcome(self, seq):
        """The answer to command `seq` ({"status", "step", "reason"}), or None while pending."""
        try:
            with open(self._answer_path(seq)) as f:
                return json.load(f)
        except (OSError, ValueError):  # not answered yet
            return None

    def wait(self, seq, timeout, poll=0.05):
        """The answer to command `seq`, waiting up to `timeout` seconds (None: no answer)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.outcome(seq)
            if answer is not None or time.monotonic() > deadline:
                return answer
            time.sleep(poll)

    # ---- the training
    def unanswered(self):
        """[Command or (seq, why it cannot be read)], in sequence order, of the commands without
        an answer: what the training has yet to apply or refuse."""
        found = []
        for seq in self._sequence_numbers():
            if os.path.exists(self._answer_path(seq)):
                continue
            found.append(self._read(seq))
        return found

    def answer(self, seq, status, step=None, reason=None, **detail):
        """Answer command `seq` once: APPLIED at `step`, or REFUSED with `reason`; `detail`
        adds what the sender needs (a checkpoint's {"path", "step", "epoch"})."""
        text = json.dumps({"status": status, "step": step, "reason": reason,
                           "answered": time.time(), **detail})
        handle, temporary = tempfile.mkstemp(dir=self.path, prefix=".answering-")
        with os.fdopen(handle, "w") as f:
            f.write(text)
        os.replace(temporary, self._answer_path(seq))

    def history(self):
        """[(Command or (seq, why unreadable), answer or None)] of every command sent."""
        return [(self._read(seq), self.outcome(seq)) for seq in self._sequence_numbers()]

    def rows(self):
        """Every command sent as a plain dict, in order: seq, command (kind, or None when
        unreadable), value, status (applied / refused / pending), step (where applied), reason.
        What `tensorviz steer`, `info` and the views show."""
        rows = []
        for command, answer in self.history():
            if isinstance(command, Command):
                row = {"seq": command.seq, "command": command.kind, "value": command.value}
                answer = answer or {"status": "pending"}
            else:
                row = {"seq": command[0], "command": None, "value": None}
                answer = answer or {"status": "pending", "reason": command[1]}
            row.update(status=answer.get("status"), step=answer.get("step"),
                       reason=answer.get("reason"))
            rows.append(row)
        return rows

    # ---- files
    def _read(self, seq):
        path = self._command_path(seq)
        try:
            owner = os.stat(path).st_uid
            with open(path) as f:
                sent = json.load(f)
            kind, value = checked_command(sent.get("kind"), sent.get("value"))
        except (OSError, ValueError, AttributeError) as error:
            return seq, f"unreadable command ({error})"
        except SettingError as error:
            return seq, str(error)
        if owner != os.getuid():
            return seq, f"sent by uid {owner}: only the user who runs the training steers it"
        return Command(seq, kind, value, owner, float(sent.get("sent", 0.0)))

    def _sequence_numbers(self):
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        return sorted(int(m.group(1)) for m in map(_COMMAND.match, names) if m)

    def _last_seq(self):
        numbers = self._sequence_numbers()
        return numbers[-1] if numbers else 0

    def _command_path(self, seq):
        return os.path.join(self.path, f"{seq:08d}.json")

    def _answer_path(self, seq):
        return os.path.join(self.path, f"{seq:08d}.ack.json")
