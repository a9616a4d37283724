"""`tensorviz paraview RUN` as a user starts it, on a display of the test's own, screenshotted
once its dashboard is up (tests/e2e/test_dashboard.py, test_gui_icons.py)."""

import os
import subprocess
import sys
import time

from tensorviz_cli.launch import stop


def screenshot_of_the_gui(run_dir, display, shot, env=None, seconds=120):
    """Start `tensorviz paraview run_dir` on `display` (with `env` added to the environment),
    wait for its dashboard (the state file it saves in the run), let the views draw, take a
    screenshot of the whole screen into `shot` (imagemagick's `import`), and close ParaView as
    a user closes it (ParaView may write its settings then). Returns `shot`."""
    state = os.path.join(str(run_dir), "dashboard.pvsm")
    if os.path.exists(state):
        os.remove(state)
    env = dict(os.environ, DISPLAY=display, **(env or {}))
    command = [os.path.join(os.path.dirname(sys.executable), "tensorviz"), "paraview", str(run_dir)]
    gui = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    try:
        deadline = time.time() + seconds
        while not os.path.exists(state) and time.time() < deadline and gui.poll() is None:
            time.sleep(0.5)
        assert os.path.exists(state), "the dashboard never came up"
        time.sleep(3)  # let the views draw
        subprocess.run(["import", "-window", "root", str(shot)], env=env, check=True, timeout=60)
        return shot
    finally:
        stop(gui, 30)

