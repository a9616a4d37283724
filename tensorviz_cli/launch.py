"""Start ParaView's programs (pvbatch, pvpython, paraview) with the TensorViz plugin loaded.

ParaView's Python is not the venv's, so the child gets a clean environment: the venv is taken off
PATH, PYTHONPATH points at this checkout (for tensorviz_pv) and PV_PLUGIN_PATH at plugin/,
which makes every ParaView program auto-load plugin/TensorViz.xml.
Set TENSORVIZ_PARAVIEW_BIN to the bin/ directory of another ParaView (a Kitware binary, say).
"""

import contextlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

import tensorviz_pv
from tensorviz_pv.errors import TensorVizError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(tensorviz_pv.__file__)))
PLUGIN_DIR = os.path.join(ROOT, "plugin")
XVFB_SCREEN = "-screen 0 1920x1200x24"


class ParaViewNotFound(TensorVizError):
    """No ParaView program to run: the message says how to get one."""


def paraview_program(name):
    directory = os.environ.get("TENSORVIZ_PARAVIEW_BIN")
    if directory:
        path = os.path.join(directory, name)
        if not os.access(path, os.X_OK):
            raise ParaViewNotFound(f"TENSORVIZ_PARAVIEW_BIN={directory}: no {name} there")
        return path
    path = shutil.which(name, path=_path_without_venv())
    if path is None:
        raise ParaViewNotFound(f"{name} not found: install ParaView (the README's set-up does, "
                               "as root) or set TENSORVIZ_PARAVIEW_BIN to ParaView's bin/")
    return path


def _path_without_venv():
    venv_bin = os.path.dirname(sys.executable)
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and os.path.abspath(p) != venv_bin)


def paraview_env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH")}
    env["PATH"] = _path_without_venv()
    env["PYTHONPATH"] = ROOT
    env["PV_PLUGIN_PATH"] = PLUGIN_DIR
    return env


def display_works(display):
    """A local display (":N") works when its X socket exists; a remote one is trusted."""
    if not display:
        return False
    host, _, number = display.partition(":")
    if host not in ("", "unix"):
        return True
    return os.path.exists(f"/tmp/.X11-unix/X{number.split('.')[0]}")


def needs_virtual_display():
    return not display_works(os.environ.get("DISPLAY"))


def welcome_dialog_shows():
    """Whether the user's ParaView settings let its welcome dialog show (a first start, or a
    user who never turned it off): ~/.config/ParaView/ParaView<version>.ini, as Qt finds it."""
    folder = os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"),
                          "ParaView")
    try:
        names = [n for n in os.listdir(folder) if n.startswith("ParaView") and n.endswith(".ini")
                 and not n.endswith("-dr.ini")]
    except OSError:
        return True
    for name in sorted(names, reverse=True)[:1]:  # the newest version's
        with open(os.path.join(folder, name), errors="replace") as f:
            settings = f.read().replace(" ", "").lower()
        return "showwelcomedialog=0" not in settings and "showwelcomedialog=false" not in settings
    return True


def command(name, args):
    """The argv that runs ParaView program `name`."""
    return [paraview_program(name)] + list(args)


@contextlib.contextmanager
def private_display(screen=XVFB_SCREEN):
    """A virtual X display of this process's own (Xvfb picks a free number and says which:
    -displayfd, so that renders started together never race for one); yields ':N'.
    -noreset: by default Xvfb resets when its last client leaves and drops every client that
    connected meanwhile; ParaView opens and closes X connections as it starts, so one of them
    would now and then die with "bad X server connection" (tests/e2e/test_pvbatch.py shows it)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise ParaViewNotFound("no display and no Xvfb: install xvfb (the set-up does), or set "
                               "DISPLAY")
    server = subprocess.Popen([xvfb, "-displayfd", "1", "-nolisten", "tcp", "-noreset"]
                              + screen.split(),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        number = server.stdout.readline().strip()
        if not number.isdigit() or not _accepts(number, server):
            raise ParaViewNotFound("Xvfb did not start (no display that accepts connections)")
        yield ":" + number
    finally:
        server.terminate()  # lets Xvfb remove its lock and socket
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def x_client_accepted(number, timeout=5.0):
    """Whether the X server of local display `number` completes an X11 connection set-up (no
    authorization: a private Xvfb asks none), the way a client's XOpenDisplay does."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout)
        try:
            client.connect(f"/tmp/.X11-unix/X{number}")
            # little-endian, protocol 11.0, no authorization name or data
            client.sendall(struct.pack("<BxHHHHxx", 0x6C, 11, 0, 0, 0))
            head = _receive(client, 8)
            if head is None or head[0] != 1:  # closed early, or "Failed"/"Authenticate"
                return False
            return _receive(client, struct.unpack("<H", head[6:8])[0] * 4) is not None
        except OSError:  # refused, reset, timed out
            return False


def _receive(client, size):
    """Exactly `size` bytes from the socket, or None if it closes first."""
    data = b""
    while len(data) < size:
        chunk = client.recv(min(65536, size - len(data)))
        if not chunk:
            return None
        data += chunk
    return data


def _accepts(number, server, seconds=5.0):
    """Whether the X server of display `number` accepts a client (tried for `seconds`)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        if x_client_accepted(number, timeout=max(0.1, deadline - time.monotonic())):
            return True
        time.sleep(0.05)
    return False


def stop(process, seconds=10):
    """End a child process: asked (SIGTERM) first, killed after `seconds`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def mpi_launcher(ranks):
    """The argv prefix that starts `ranks` MPI processes (ParaView's MPI: Debian builds it with
    Open MPI), or ParaViewNotFound without mpiexec."""
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        raise ParaViewNotFound("--mpi needs mpiexec (Debian: apt install openmpi-bin)")
    flavour = subprocess.run([mpiexec, "--version"], capture_output=True, text=True).stdout
    extra = []
    if "Open MPI" in flavour or "OpenRTE" in flavour:
        extra = ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    return [mpiexec, "-n", str(int(ranks))] + extra


def run(name, args, ranks=1, **kwargs):
    """Run ParaView program `name` to its end (on `ranks` MPI processes when more than one), on
    the user's display or a private Xvfb (every rank draws its part: all of them get it)."""
    env = dict(paraview_env(), **kwargs.pop("env", {}))
    argv = (mpi_launcher(ranks) if ranks > 1 else []) + command(name, args)
    if name == "pvpython" or not needs_virtual_display():
        return subprocess.run(argv, env=env, **kwargs)
    with private_display() as display:
        return subprocess.run(argv, env=dict(env, DISPLAY=display), **kwargs)
