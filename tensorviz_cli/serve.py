"""`tensorviz serve RUN_DIR|FOLDER`: the dashboard in a web page (tensorviz_pv/web/app.py, a trame app
that pvpython runs with the trame environment the set-up makes), for a training on a remote
machine: open the printed URL, through `ssh -L PORT:localhost:PORT` from elsewhere.

Bound to 127.0.0.1 by default. Any other --host needs the random token the URL carries (printed
once): a request without it is refused. The page names a run by its label (its folder's name)
only: the runs it may show are fixed here. Read-only unless --steer: then a live run's page has
the Training Control's buttons."""

import glob
import ipaddress
import json
import os
import secrets
import socket
import subprocess
import sys
import time

from tensorviz_pv.errors import SettingError, TensorVizError

from . import launch
from tensorviz_pv.store.runs import find_runs

from .common import checked_store, paraview_paths

APP = os.path.join(launch.ROOT, "tensorviz_pv", "web", "app.py")
# the trame environment for ParaView's Python (scripts/setup.sh makes it)
TRAME_VENV = os.environ.get("TENSORVIZ_TRAME_VENV") or os.path.join(launch.ROOT, ".pvvenv")
LOCAL = ("127.0.0.1", "localhost", "::1")
READY_SECONDS = 120  # for the views to be built and the port to open


class TrameMissing(TensorVizError):
    """No trame environment for ParaView's Python: the message names the fix."""


def add_parser(sub):
    serve = sub.add_parser("serve", help="the dashboard in a web page (for a remote training: "
                                         "ssh -L PORT:localhost:PORT, then open the URL)")
    serve.add_argument("run_dir", metavar="RUN_DIR|FOLDER",
                       help="a run, or a folder of runs (one shown at a time, chosen on the page)")
    serve.add_argument("--port", type=int, default=8080, help="default 8080")
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default 127.0.0.1: this machine only; "
                            "any other needs the token of the printed URL)")
    serve.add_argument("--layer", default=None, metavar="NAME",
                       help="the layer shown first (default: the first convolution)")
    serve.add_argument("--steer", action="store_true",
                       help="the page may steer a live training (pause, resume, checkpoint, stop, "
                            "learning rate, merge, fork: `tensorviz steer`'s commands); without "
                            "it the page is read-only")
    return serve


def trame_site_packages(venv=TRAME_VENV):
    """The trame environment's site-packages for ParaView's Python, or TrameMissing."""
    sites = glob.glob(os.path.join(glob.escape(venv), "lib", "python3*", "site-packages"))
    site = sites[0] if len(sites) == 1 else ""
    if not all(os.path.isdir(os.path.join(site, p)) for p in ("trame", "trame_vtk", "wslink")):
        raise TrameMissing(f"no trame environment for ParaView's Python at {venv}: run "
                           "`bash scripts/setup.sh` (it makes it), or set TENSORVIZ_TRAME_VENV")
    return site


def run(args):
    paraview_paths(RUN_DIR=args.run_dir)
    runs = find_runs([args.run_dir])  # one run, or a folder of runs (a sweep's)
    for number, (_, store) in enumerate(runs):  # each opens; the first shows --layer
        checked_store(os.path.dirname(store), args.layer if number == 0 else None)
    if not 0 < args.port < 65536:
        raise SettingError(f"--port {args.port}: not a port (1-65535)")
    trame_site_packages()
    _check_port_free(args.host, args.port)
    token = None if args.host in LOCAL else secrets.token_urlsafe(24)
    env = dict(launch.paraview_env(), TENSORVIZ_RUNS=json.dumps(runs),
               TENSORVIZ_LAYER=args.layer or "",
               TENSORVIZ_SERVE_HOST=args.host, TENSORVIZ_SERVE_PORT=str(args.port),
               TENSORVIZ_SERVE_TOKEN=token or "", TENSORVIZ_STEER="1" if args.steer else "")
    argv = launch.command("pvpython", [APP, "--venv", TRAME_VENV])
    if launch.needs_virtual_display():
        with launch.private_display() as display:
            return _serve(argv, dict(env, DISPLAY=display), args, token)
    return _serve(argv, env, args, token)


def _serve(argv, env, args, token):
    server = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL)
    try:
        if not _wait_for_port(args.host, args.port, server):
            server.wait(timeout=30)
            return 1
        print(f"tensorviz serve: {url(args.host, args.port, token)}", flush=True)
        if token:
            print("tensorviz serve: anyone with this URL sees the run: keep it private",
                  file=sys.stderr, flush=True)
        return server.wait()
    finally:
        launch.stop(server)


def url(host, port, token=None):
    """The page's URL (a wildcard address shown as this machine's name)."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/" + (f"?token={token}" if token else "")


def _connect_host(host):
    return "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host


def _family(host):
    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        return socket.AF_INET


def _check_port_free(host, port):
    family = _family(_connect_host(host))
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise SettingError(f"--host {host} --port {port}: cannot listen there "
                               f"({error.strerror or error}); choose another --port") from None


def _wait_for_port(host, port, server):
    """Whether the server listens within READY_SECONDS (False: it ended first)."""
    deadline = time.monotonic() + READY_SECONDS
    target = (_connect_host(host), port)
    while time.monotonic() < deadline and server.poll() is None:
        with socket.socket(_family(target[0]), socket.SOCK_STREAM) as client:
            client.settimeout(1.0)
            if client.connect_ex(target) == 0:
                return True
        time.sleep(0.2)
    return server.poll() is None
