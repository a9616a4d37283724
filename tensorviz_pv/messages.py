"""How TensorViz's messages reach a person. Library code never prints: it logs to a logger under
"tensorviz" (`messages.logger("recording")` is "tensorviz.recording"), so that a program that
embeds it can silence, filter or redirect them with the standard `logging` module. The programs a
person runs (the `tensorviz` command, the pvbatch scripts it writes, the GUI dashboard script)
call `show_messages()`, which prints each message as its own plain line: information on stdout,
warnings and errors on stderr. Without it, Python's last-resort handler still prints warnings."""

import logging
import sys

ROOT = "tensorviz"


def logger(area):
    """The logger of one part of TensorViz: "tensorviz.<area>"."""
    return logging.getLogger(f"{ROOT}.{area}")


class _Lines(logging.Handler):
    """Each message as a line of its own: below WARNING to stdout, the rest to stderr (the
    streams looked up at each message, so that a redirection made later holds)."""

    def emit(self, record):
        stream = sys.stdout if record.levelno < logging.WARNING else sys.stderr
        try:
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # noqa: BLE001 - logging's own convention: report, never raise
            self.handleError(record)


def show_messages(level=logging.INFO):
    """Print TensorViz's messages from `level` up (once, however often it is called)."""
    root = logging.getLogger(ROOT)
    if not any(isinstance(handler, _Lines) for handler in root.handlers):
        handler = _Lines()
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False  # printed here once, also where the program configured logging too
