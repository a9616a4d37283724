"""What several commands share: a run's store checked before anything starts, an output folder
checked to be writable, and a pvbatch script run (kept to edit when asked)."""

import difflib
import os
import shlex
import sys
import tempfile

from tensorviz_pv.errors import SettingError, StoreError
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.run_dir import resolve_store_path
from trainer.folders import unwritable_reason

from . import launch


def existing_store(run_dir):
    """The run's store file, which must exist (else StoreError: no run there)."""
    path = resolve_store_path(run_dir)
    if not os.path.exists(path):
        raise StoreError(f"{run_dir}: no TensorViz run there ({path} is missing)")
    return path


def checked_store(run_dir, layer=None):
    """The run's store, checked to open (a damaged one is said here, before ParaView starts),
    and to hold `layer` when one is named."""
    path = existing_store(run_dir)
    with RunReader(path) as run:
        for note in run.notes:
            print(f"tensorviz: {note}", file=sys.stderr)
        if layer is not None and layer not in run.layers:
            close = difflib.get_close_matches(layer, run.layers, n=3, cutoff=0.6)
            raise SettingError(f"--layer {layer}: no such layer in {run_dir}"
                               + (f"; did you mean {' or '.join(close)}?" if close else "")
                               + f" (`tensorviz info {run_dir} --layers` lists its "
                               f"{len(run.layers)})")
    return path


def paraview_paths(**named):
    """SettingError for a path ParaView cannot take (keyword: the option naming it): VTK takes
    file names as UTF-8 only, and aborts on any other bytes."""
    for what, paths in named.items():
        what = "--" + what[2:] if what.startswith("__") else what
        for path in ([paths] if isinstance(paths, (str, os.PathLike)) else paths):
            try:
                os.fsencode(path).decode("utf-8")
            except UnicodeDecodeError:
                shown = os.fsencode(path).decode("utf-8", "backslashreplace")
                raise SettingError(f"{what} '{shown}': ParaView cannot open a path "
                                   "that is not UTF-8; rename it, or link it under a UTF-8 "
                                   "name") from None


def ensure_writable_folder(folder, what):
    """Create `folder` (the option `what` names it), or SettingError when it cannot be
    written."""
    reason = unwritable_reason(folder)
    if reason:
        raise SettingError(f"{what} {folder}: not writable ({reason})")
    os.makedirs(folder, exist_ok=True)


def run_script(text, keep_as=None, ranks=1):
    """Run a figures script under pvbatch, on `ranks` MPI processes (kept at `keep_as`, else
    in a temporary file)."""
    if keep_as:
        ensure_writable_folder(os.path.dirname(os.path.abspath(keep_as)), "--script")
        with open(keep_as, "w") as f:
            f.write(text)
        again = f"mpiexec -n {ranks} pvbatch" if ranks > 1 else "pvbatch"
        print(f"tensorviz: wrote {keep_as}; run it again with: {again} {shlex.quote(keep_as)}")
        return launch.run("pvbatch", [os.path.abspath(keep_as)], ranks=ranks).returncode
    with tempfile.NamedTemporaryFile("w", suffix=".py", prefix="tensorviz-") as f:
        f.write(text)
        f.flush()
        return launch.run("pvbatch", [f.name], ranks=ranks).returncode
