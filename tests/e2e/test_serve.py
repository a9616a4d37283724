"""`tensorviz serve` in a real browser (Debian's chromium, headless, driven by selenium): the
page shows the dashboard's views, the slider moves the step and the images, a click on a row of
the correlation heatmap outlines that filter in the weight glyphs, a live run's new steps
appear; a server bound beyond this machine refuses a request without its token, and no request
reaches a file outside what the page serves."""

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse

import h5py
import numpy as np
import pytest

from browser import (VIEWS, Served, browser, images_drawn, open_page, press_on_slider, rpc,
                     shown_step, text, view_image, view_pixels, wait_for)
try:
    from selenium.webdriver import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:  # a failure, never a skip: `bash scripts/setup.sh` installs it
    pytest.fail("selenium is not installed in this venv: run `bash scripts/setup.sh`",
                pytrace=False)
from tensorviz_cli.launch import run as run_paraview
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.steering import SteeringChannel
from tensorviz_pv.store.synthetic import write_synthetic_run



@pytest.fixture(scope="module")
def driver():
    chromium = browser()
    yield chromium
    chromium.quit()


@pytest.fixture(scope="module")
def served(tiny_run):
    """The tiny run served beyond this machine (--host 0.0.0.0): with a token."""
    server = Served(tiny_run, "--host", "0.0.0.0")
    assert server.url, server.output
    yield server
    server.stop()


def local(url):
    """The URL a server printed, on this machine's loopback address."""
    return url.replace(urllib.parse.urlsplit(url).hostname, "127.0.0.1", 1)


def highlight_pixels(image):
    """Where the picked filter's outline colour is in an RGB image."""
    target = np.array([0.9, 0.1, 0.9]) * 255  # figures/colour.py's HIGHLIGHT: magenta
    return np.abs(image - target).max(axis=2) < 40


def outline_centre(driver, other=None):
    """The centre (row, column) of the outline in the glyph view, when there is one (and it is
    not at `other`); else None."""
    outline = highlight_pixels(view_pixels(driver, "glyph_view"))
    if outline.sum() < 40:
        return None
    centre = tuple(np.argwhere(outline).mean(axis=0))
    return None if other is not None and np.abs(np.subtract(centre, other)).max() < 5 else centre


def heatmap_rows(image, filters):
    """The centre y of each row of the correlation heatmap in the Filter Correlation view's
    pixels (found from the pixels, not from the server: the heatmap is the leftmost block of
    coloured pixels, its diagonal r = 1 in every row of a live filter)."""
    coloured = (image.max(axis=2) - image.min(axis=2)) > 60
    columns = np.flatnonzero(coloured.any(axis=0))
    gaps = np.flatnonzero(np.diff(columns) > 8)  # the heatmap, then the colour bar apart
    right = columns[gaps[0]] if len(gaps) else columns[-1]
    rows = np.flatnonzero(coloured[:, columns[0]:right + 1].any(axis=1))
    top, bottom = rows[0], rows[-1] + 1
    height = (bottom - top) / filters
    return [top + (i + 0.5) * height for i in range(filters)], (columns[0] + right) / 2


def test_the_page_shows_the_views_and_the_slider_moves_step_and_images(served, driver, tiny_run):
    with RunReader(os.path.join(tiny_run, F.STORE_FILENAME)) as run:
        steps = [int(s) for s in run.time_steps()]
    assert "token=" in served.url and "127.0.0.1" not in served.url
    open_page(driver, local(served.url))
    assert text(driver, "run-label") == os.path.basename(tiny_run)  # its name, not its path
    assert str(tiny_run) not in driver.page_source
    assert shown_step(driver) == steps[-1]  # the newest step first
    assert not driver.find_elements(By.ID, "steering")  # no --steer: read-only
    assert not driver.find_elements(By.ID, "compare")  # one run: nothing to compare
    glyphs = view_pixels(driver, "glyph_view")
    coloured = (glyphs.max(axis=2) - glyphs.min(axis=2)) > 60  # red and blue boxes, white around
    assert coloured.mean() > 0.02, "the weight glyphs view is blank"
    for name in ("heat_view", "maps_view", "chart"):
        pixels = view_pixels(driver, name)
        assert (pixels.min(axis=2) < 200).mean() > 0.02, f"{name} is blank"
    driver.save_screenshot(os.path.join(str(tiny_run), "serve.png"))

    before = view_image(driver, "glyph_view")
    press_on_slider(driver, Keys.HOME)
    assert wait_for(lambda: shown_step(driver) == steps[0], 15), text(driver, "step-label")
    assert wait_for(lambda: view_image(driver, "glyph_view") != before, 15)
    time.sleep(2)  # the step's own image (ParaView first sends the one it has)
    first = view_pixels(driver, "glyph_view")
    press_on_slider(driver, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert wait_for(lambda: shown_step(driver) == steps[2], 15), text(driver, "step-label")
    press_on_slider(driver, Keys.END)
    assert wait_for(lambda: shown_step(driver) == steps[-1], 15)

    def boxes_moved():  # more than the step's label (in the top left corner) changed
        last = view_pixels(driver, "glyph_view")
        return (np.abs(first - last).max(axis=2)[:, first.shape[1] // 5:] > 40).sum() > 200
    assert wait_for(boxes_moved, 20, every=0.3)


def test_a_click_on_a_heatmap_row_or_a_glyph_block_picks_that_filter_in_all_views(served, driver, tiny_run):
    with RunReader(os.path.join(tiny_run, F.STORE_FILENAME)) as run:
        filters = run.layer_info("conv1")["filters"]
    open_page(driver, local(served.url))
    glyphs = view_pixels(driver, "glyph_view")
    assert not highlight_pixels(glyphs).any()  # nothing picked yet
    heat = driver.find_element(By.ID, "heat_view")
    rows, x = heatmap_rows(view_pixels(driver, "heat_view"), filters)
    outlines = {}
    for picked in (3, filters - 3):
        size = heat.size
        ActionChains(driver).move_to_element_with_offset(
            heat, int(x - size["width"] / 2), int(rows[picked] - size["height"] / 2)).click().perform()
        assert wait_for(lambda: text(driver, "picked") == f"filter {picked}", 15), \
            text(driver, "picked")
        # ParaView sends the image it has, then the new one once encoded: wait for that one
        centre = wait_for(lambda: outline_centre(driver, outlines.get(3)), 20, every=0.3)
        assert centre is not None, "the picked filter is not outlined in the weight glyphs"
        outlines[picked] = centre
    # filter 3 is in the glyphs' first row of blocks, filter C-3 in the last: lower on screen
    assert outlines[filters - 3][0] > outlines[3][0] + 20, outlines
    # a click on filter 3's glyph block (where its outline was drawn) picks it from the glyphs
    glyph_view = driver.find_element(By.ID, "glyph_view")
    row, column = outlines[3]
    size = glyph_view.size
    ActionChains(driver).move_to_element_with_offset(
        glyph_view, int(column - size["width"] / 2), int(row - size["height"] / 2)).click().perform()
    assert wait_for(lambda: text(driver, "picked") == "filter 3", 15), text(driver, "picked")


def test_the_page_gets_pictures_and_never_the_data(served, driver):
    """The server answers the page's picture requests, and has no method that sends a view's
    geometry and arrays (trame-vtk's local rendering is taken off)."""
    open_page(driver, local(served.url))
    answer, quality = rpc(driver, "viewport.image.push.quality.get", "-1")
    assert answer == "ok" and "quality" in quality
    for method in ("viewport.geometry.view.get.state", "viewport.geometry.array.get"):
        answer, error = rpc(driver, method, "-1")
        assert answer == "error" and "Unregistered method" in error["message"], (method, error)


def test_a_server_beyond_this_machine_wants_its_token(served):
    parts = urllib.parse.urlsplit(served.url)
    token = urllib.parse.parse_qs(parts.query)["token"][0]
    assert len(token) >= 24
    port = int(parts.port)

    def get(path, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, body

    assert get("/index.html")[0] == 403
    assert get("/index.html?token=" + "x" * len(token))[0] == 403
    assert get("/ws", {"Upgrade": "websocket", "Connection": "Upgrade"})[0] == 403
    status, body = get(f"/index.html?token={token}")
    assert status == 200 and b"<html" in body.lower()
    assert get("/index.html", {"Cookie": f"tensorviz_token={token}"})[0] == 200
    # no path leaves what the page serves, with or without the token
    for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc/passwd",
                 "/static/../../../etc/passwd", f"/{F.STORE_FILENAME}"):
        for query in ("", f"?token={token}"):
            status, body = get(path + query)
            assert status in (403, 404) and b"root:" not in body, (path, status)


# a run being written: the trainer's store writer adding a step every 0.3 s (no TensorFlow to
# start: the page sees the store exactly as it sees a training's)
LIVE_WRITER = """
import os, sys, time
from tensorviz_pv.store import format as F
from tensorviz_pv.store.lock import WriterLock
from tensorviz_pv.store.steering import SteeringChannel
from tensorviz_pv.store.synthetic import LAYERS, expected_kernel, write_synthetic_run
_, writer = write_synthetic_run(sys.argv[1], steps=10, every=5, close=False)
lock = WriterLock(sys.argv[1]).acquire()  # live, as a training's store is
channel = SteeringChannel(os.path.dirname(sys.argv[1])).open(create=True)
for step in range(11, 1000):
    time.sleep(0.3)
    writer.add_step(step, 0, 0.1, 0.5, 0.01, [1.0] * len(LAYERS), [0.5] * len(LAYERS))
    if step % 5 == 0:
        writer.add_tensor("conv1", F.KERNEL, step, expected_kernel("conv1", step))
    writer.flush()
    for command in channel.unanswered():  # a training's answer, at its next step
        channel.answer(command.seq, "applied", step=step)
"""


def test_a_local_server_follows_a_live_run_and_steers_it_with_steer(tmp_path, driver):
    run_dir = tmp_path / "live"
    run_dir.mkdir()
    store = run_dir / F.STORE_FILENAME
    writer = subprocess.Popen([sys.executable, "-c", LIVE_WRITER, str(store)])
    server = None
    try:
        assert wait_for(lambda: store.exists(), 30, every=0.2)
        time.sleep(1)  # its first steps flushed
        server = Served(run_dir, "--steer")
        assert server.url and server.url.startswith("http://127.0.0.1:"), server.output
        assert "token" not in server.url  # bound to this machine: no token needed
        open_page(driver, server.url)
        first = shown_step(driver)
        assert first is not None and first >= 10
        grew = wait_for(lambda: (shown_step(driver) or 0) > first, 20, every=0.5)
        assert grew, f"the page stayed at step {first}"
        assert writer.poll() is None, "the writer ended before the test could watch it"
        with RunReader(str(store)) as run:
            assert shown_step(driver) <= run.last_step()
        # --steer: the training control's buttons; the training (the writer) answers at its next step
        assert text(driver, "training").startswith("training live")
        driver.find_element(By.ID, "steer-pause").click()
        assert wait_for(lambda: text(driver, "steer-answer").startswith("pause: applied at step"),
                        15), text(driver, "steer-answer")
        assert text(driver, "training").startswith("training paused")
        driver.find_element(By.ID, "steer-merge").click()  # nothing picked: said, nothing sent
        assert wait_for(lambda: text(driver, "steer-answer") == "merge: pick a filter of conv1 first",
                        15), text(driver, "steer-answer")
        assert [row["command"] for row in SteeringChannel(str(run_dir)).open().rows()] == ["pause"]
    finally:
        writer.kill()
        writer.wait()
        if server is not None:
            server.stop()


def folder_of_runs(folder, runs):
    """A sweep's folder: each (name, run directory) of `runs` copied into folder/name."""
    for name, run_dir in runs:
        (folder / name).mkdir()
        shutil.copy(os.path.join(run_dir, F.STORE_FILENAME), folder / name / F.STORE_FILENAME)
    return folder


def test_a_folder_of_runs_is_one_page_that_names_runs_by_label_only(tiny_run, tmp_path, driver):
    """A sweep's folder: the page offers its runs by their folders' names (a hostile one shown
    as text), never a path, and shows the run chosen; a run damaged since the server started
    is said to be, by its name, and the page stays on the run it showed."""
    hostile = "b\"'<b>x$(id)`;"
    server = Served(folder_of_runs(tmp_path, [(name, tiny_run) for name in ("a", hostile, "broken")]))
    try:
        assert server.url, server.output
        open_page(driver, server.url)
        assert str(tmp_path) not in driver.page_source and "<b>x" not in driver.page_source
        before = view_image(driver, "glyph_view")
        def listed():  # the menu's items once they show their text
            items = driver.find_elements(By.CSS_SELECTOR, ".v-list-item")
            return items if items and all(item.text for item in items) else None
        def choose(index):
            driver.find_element(By.ID, "run").find_element(
                By.XPATH, "./ancestor::div[contains(@class, 'v-field')]").click()
            items = wait_for(listed, 10)
            assert [item.text for item in items] == ["a", hostile, "broken"]
            items[index].click()

        choose(1)
        assert wait_for(lambda: driver.find_element(By.ID, "run").get_attribute("value")
                        == hostile, 10)
        assert wait_for(lambda: text(driver, "alerts") == "no alerts"
                        and view_image(driver, "glyph_view") != before, 40)
        assert shown_step(driver) == 8  # the chosen run's newest step (a copy of the tiny run)
        broken = tmp_path / "broken" / F.STORE_FILENAME
        broken.write_bytes(broken.read_bytes()[:4096])  # cut short after the server started
        choose(2)
        assert wait_for(lambda: text(driver, "alerts").startswith("broken"), 60), \
            text(driver, "alerts")
        assert str(tmp_path) not in text(driver, "alerts")  # its name, never its path
        assert wait_for(lambda: driver.find_element(By.ID, "run").get_attribute("value")
                        == hostile, 10)  # the page stays on the run it showed
        assert images_drawn(driver) == len(VIEWS) and shown_step(driver) == 8
    finally:
        server.stop()


def run_curves(image):
    """(pixels of the first run's colour, of the second's) in a comparison chart of two runs:
    figures/comparison_panels.py's sequential scale puts them at its dark purple and green ends
    (a CKA chart, of the second run alone, has no purple)."""
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    purple = ((b - g) > 40) & ((r - g) > 25) & (g < 150)
    green = ((g - b) > 60) & ((g - r) > 30)
    return int(purple.sum()), int(green.sum())


def test_a_folder_of_runs_is_compared_on_the_page(tiny_run, reduced_run, tmp_path, driver):
    """The compare switch of a folder's page: `tensorviz compare`'s views (every run's norms
    and accuracy, CKA with the first run, the first two runs' filters matched) at the page's
    step; back to the dashboard after."""
    server = Served(folder_of_runs(tmp_path, [("reduced", reduced_run), ("tiny", tiny_run)]))
    try:
        assert server.url, server.output
        open_page(driver, server.url)
        driver.execute_script("document.getElementById('compare').click()")
        # the views are drawn while the page says so (their first images are blank)
        assert wait_for(lambda: text(driver, "alerts") == "comparing the runs...", 15)
        assert wait_for(lambda: text(driver, "alerts") == "", 60), text(driver, "alerts")
        assert images_drawn(driver) == 6 and driver.find_elements(By.ID, "comparison")
        for chart in ("norms", "accuracy"):
            assert wait_for(lambda: min(run_curves(view_pixels(driver, chart))) > 100, 15), \
                f"{chart}: the two runs' curves are not both drawn"
        purple, green = run_curves(view_pixels(driver, "cka"))
        assert purple < 20 and green > 100  # the second run against the first
        assert wait_for(lambda: (view_pixels(driver, "match_matrix").min(axis=2) < 200).mean()
                        > 0.02, 15), "the matching matrix is blank"
        before = view_pixels(driver, "match_a")
        press_on_slider(driver, Keys.HOME)  # the matching at step 0
        assert wait_for(lambda: shown_step(driver) == 0, 15)
        assert wait_for(lambda: (np.abs(view_pixels(driver, "match_a") - before).max(axis=2)
                                 > 40).sum() > 100, 30), "the matching did not follow the step"
        driver.save_screenshot(os.path.join(str(tmp_path), "serve_compare.png"))
        driver.execute_script("document.getElementById('compare').click()")
        assert wait_for(lambda: driver.find_elements(By.ID, "dashboard")
                        and images_drawn(driver) == len(VIEWS), 30)
    finally:
        server.stop()


def test_a_folder_s_runs_that_cannot_be_matched_are_said_so_on_the_page(tmp_path, driver):
    """Two runs (the store writer's, no training) that probed different images: the page's
    comparison draws their norms and says why their filters are not matched, in its words."""
    for name, seed in (("a", 0), ("c", 1)):
        (tmp_path / name).mkdir()
        write_synthetic_run(str(tmp_path / name / F.STORE_FILENAME), steps=12, every=4, seed=seed)
    with h5py.File(tmp_path / "c" / F.STORE_FILENAME, "r+") as store:  # other probe images
        images = store[F.probe_path(F.PROBE_IMAGES)]
        images[...] = 0.5 * images[...] + 0.1
    server = Served(tmp_path)
    try:
        assert server.url, server.output
        open_page(driver, server.url)
        driver.execute_script("document.getElementById('compare').click()")
        assert wait_for(lambda: "a and c recorded different probe images" in text(driver, "alerts"),
                        60), text(driver, "alerts")
        assert text(driver, "alerts").startswith("conv1: ")  # the layer, and no path
        assert str(tmp_path) not in text(driver, "alerts")
        assert wait_for(lambda: min(run_curves(view_pixels(driver, "norms"))) > 100, 30), \
            "the norms of both runs are not drawn"
    finally:
        server.stop()


BOARD_SCRIPT = """
import json, sys
from paraview import simple
from tensorviz_pv.web.board import Board
board = Board(sys.argv[1])
seen = {"layer": board.layer, "steps": board.steps, "sources": [len(simple.GetSources())]}
seen["go_to"] = [board.go_to(4), simple.GetTimeKeeper().Time, board.go_to(99), board.go_to(-3)]
board.show_layer("fc1")
seen["layers_drawn"] = sorted({p.Layer[0] for p in simple.GetSources().values()
                               if "Layer" in p.ListProperties()})
board.show_layer("conv1")
seen["sources"].append(len(simple.GetSources()))
seen["views"] = len(simple.GetViews())
json.dump(seen, open(sys.argv[2], "w"))
"""


def test_the_page_s_run_switches_layers_without_leaving_views_behind(tmp_path):
    """The page's run (tensorviz_pv/web/board.py): its steps, a step chosen by index, and a
    layer switched away and back leaving no pipeline object of the other layer's views."""
    store, script, out = tmp_path / "run.tvz", tmp_path / "board.py", tmp_path / "board.json"
    write_synthetic_run(str(store), steps=12, every=5)
    script.write_text(BOARD_SCRIPT)
    result = run_paraview("pvbatch", [str(script), str(store), str(out)], capture_output=True,
                          text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(out.read_text())
    assert seen["layer"] == "conv1" and seen["steps"] == list(range(13))
    assert seen["go_to"] == [4, 4.0, 12, 0]  # clamped to the recorded steps
    assert seen["layers_drawn"] == ["fc1"]  # the conv1 views went with their layer
    assert seen["sources"][1] == seen["sources"][0] and seen["views"] == 6


def test_serve_says_what_is_missing(tiny_run, tmp_path):
    command = [os.path.join(os.path.dirname(sys.executable), "tensorviz"), "serve", str(tiny_run)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, TENSORVIZ_TRAME_VENV=str(tmp_path / "none")))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "scripts/setup.sh" in result.stderr
