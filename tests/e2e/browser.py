"""`tensorviz serve` as a user runs it, and Debian's chromium (headless, driven by selenium) on
its page: for tests/e2e/test_serve.py and benchmarks/serve_latency.py."""

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

import numpy as np

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
VIEWS = ("glyph_view", "chart", "maps_view", "heat_view", "atlas_view", "health_view")
URL = re.compile(r"tensorviz serve: (http://\S+)")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """`tensorviz serve RUN_DIR ARGS...` started; `url` is the URL it printed (None when it
    ended first: `output` says why). stop() ends it as Ctrl-C does."""

    def __init__(self, run_dir, *args, seconds=120):
        self.port = free_port()
        command = [os.path.join(os.path.dirname(sys.executable), "tensorviz"), "serve",
                   str(run_dir), "--port", str(self.port), *map(str, args)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        self.lines, self.url = [], None
        self._printed = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()  # the pipe never fills up
        self._printed.wait(seconds)

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)
            found = URL.search(line)
            if found and self.url is None:
                self.url = found.group(1)
                self._printed.set()
        self._printed.set()

    @property
    def output(self):
        return "".join(self.lines)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def browser(width=1400, height=900):
    """A headless chromium under selenium (AssertionError naming the set-up when it is not
    installed: a test of the page never passes without a browser)."""
    missing = [p for p in (CHROMIUM, DRIVER) if not shutil.which(p)]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (the venv's)")
    assert not missing, (f"no browser to test the web page: {', '.join(missing)} missing; "
                         "`bash scripts/setup.sh` installs them (as root)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def images_drawn(driver):
    """How many of the page's views show an image from the server."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.tv-cell img'))"
        ".filter(i => i.complete && i.naturalWidth > 0).length")


def wait_for(condition, seconds=30, every=0.1):
    """condition()'s first true value within `seconds`, else its last value."""
    deadline = time.monotonic() + seconds
    value = condition()
    while not value and time.monotonic() < deadline:
        time.sleep(every)
        value = condition()
    return value


def open_page(driver, url, seconds=60):
    """Load the page and wait until every view shows an image; returns the seconds it took."""
    started = time.monotonic()
    driver.get(url)
    assert wait_for(lambda: images_drawn(driver) == len(VIEWS), seconds), \
        f"the views never showed ({images_drawn(driver)} of {len(VIEWS)})"
    return time.monotonic() - started


def view_image(driver, name):
    """The view's image source (changes with every image the server sends)."""
    return driver.execute_script(
        "const i = document.querySelector('#' + arguments[0] + ' img'); return i ? i.src : ''",
        name)


def view_pixels(driver, name):
    """The view's pixels as the page shows them (RGB, an element screenshot)."""
    from PIL import Image
    from selenium.webdriver.common.by import By
    shot = driver.find_element(By.ID, name).screenshot_as_png
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)


def text(driver, element_id):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.ID, element_id).text.strip()


def shown_step(driver):
    label = text(driver, "step-label")
    return int(label.split()[-1]) if label.startswith("step ") else None


def press_on_slider(driver, *keys):
    """Keys to the step slider, as a user's keyboard gives them (Home, End, arrows)."""
    from selenium.webdriver.common.by import By
    thumb = driver.find_element(By.CSS_SELECTOR, ".v-slider-thumb[role='slider']")  # the only one
    thumb.send_keys(*keys)


def rpc(driver, method, *args):
    """Call a server method from the page as its own client does; ('ok', result) or
    ('error', the error)."""
    return driver.execute_async_script("""
const done = arguments[arguments.length - 1];
window.trame.client.getConnection().getSession().call(arguments[0], arguments[1])
  .then(result => done(['ok', result]), error => done(['error', error]));
""", method, list(args))
