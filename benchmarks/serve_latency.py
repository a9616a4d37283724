"""`tensorviz serve` in a real browser (Debian's headless chromium under selenium), on the demo
run: the page ready (every view drawn) after `serve` starts; a slider step to the new image of
the weight glyphs (median, timed in the browser: a key press on the slider to the image's change)
and to every view's new image; the server's memory (its process tree's RSS) over 1,000 slider
steps; 5 browsers at once, all served. Goals (issue 25): ready < 10 s, a step < 150 ms median,
memory flat within 10 %, 5 browsers served.

    .venv/bin/python benchmarks/serve_latency.py [--run runs/demo] [--steps 1000]
        [--screenshot docs/gallery/serve.png]

Without --run it trains the demo's run (3 epochs of the embedded digits) into a temporary folder.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from browser import VIEWS, Served, browser, open_page, shown_step, wait_for  # noqa: E402

# in the page: the time of each new image of every view (a MutationObserver on their src)
WATCH = """
window.__images = {};
for (const name of arguments[0]) {
  const img = document.querySelector('#' + name + ' img');
  window.__images[name] = [];
  new MutationObserver(() => window.__images[name].push(performance.now()))
    .observe(img, {attributes: true, attributeFilter: ['src']});
}
"""
# a key on the slider's thumb, as a keyboard gives it; returns the browser's time of the press
PRESS = """
const thumb = document.querySelector(".v-slider-thumb[role='slider']");
const now = performance.now();
thumb.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[0], bubbles: true}));
return now;
"""
# each view's last new image after a time, and the browser's time now
AFTER = "return [performance.now(), Object.fromEntries(Object.entries(window.__images).map(" \
        "([k, v]) => [k, v.filter(t => t > arguments[0]).pop() || null]))]"
QUIET_MS = 400  # no view's image changed for this long: the step's images are all there


def demo_run(folder):
    run_dir = os.path.join(folder, "demo")
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "tensorviz"), "train", run_dir,
                    "--dataset", "mnist-5k", "--epochs", "3", "--reduce",
                    "--reduce-threshold", "0.97"], check=True,
                   stdout=subprocess.DEVNULL, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    return run_dir


def tree_rss(pid):
    """The resident memory of a process and its descendants, in MB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
            with open(f"/proc/{current}/task/{current}/children") as f:
                pending += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


def step_latencies(driver, count, last_index, settle=True):
    """Slider steps back and forth over the run: (glyph image ms, all views ms) per step, to
    the last image each view got for the step."""
    driver.execute_script(WATCH, list(VIEWS))
    glyph, every = [], []
    index = driver.execute_script(
        "return +document.querySelector(\".v-slider-thumb[role='slider']\")"
        ".getAttribute('aria-valuenow')")
    direction = -1
    for _ in range(count):
        if index + direction < 0 or index + direction > last_index:
            direction = -direction
        index += direction
        pressed = driver.execute_script(PRESS, "ArrowRight" if direction > 0 else "ArrowLeft")
        times = wait_for(lambda: _settled(driver, pressed, settle), 10, every=0.01)
        if not times:
            raise SystemExit(f"no new image within 10 s of a slider step (step index {index})")
        glyph.append(times["glyph_view"] - pressed)
        every.append(max(times.values()) - pressed)
    return glyph, every


def _settled(driver, pressed, settle=True):
    """Each view's last new image after `pressed` once every view has one and (`settle`) none
    changed for QUIET_MS (ParaView first sends the image it has while it encodes the new one)."""
    now, times = driver.execute_script(AFTER, pressed)
    if all(times.values()) and (not settle or now - max(times.values()) > QUIET_MS):
        return times
    return None


def five_browsers(url):
    """5 browsers open the page at once: the seconds until each showed every view (None: never)."""
    drivers, ready = [browser(1200, 800) for _ in range(5)], [None] * 5

    def load(i):
        try:
            ready[i] = open_page(drivers[i], url, 60)
        except AssertionError:
            ready[i] = None
    threads = [threading.Thread(target=load, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # the step is shared: a step in one page shows in the others
    steps = [shown_step(d) for d in drivers]
    for driver in drivers:
        driver.quit()
    return ready, steps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", default=None)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--latency-steps", type=int, default=60)
    parser.add_argument("--screenshot", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run_dir = args.run or demo_run(folder)
        driver = browser(1400, 900)
        started = time.monotonic()
        server = Served(run_dir)
        assert server.url, server.output
        printed = time.monotonic() - started
        open_page(driver, server.url, 60)
        ready = time.monotonic() - started
        print(f"page ready (every view drawn) {ready:.1f} s after `tensorviz serve` started "
              f"(its URL printed after {printed:.1f} s)")
        last_index = int(driver.execute_script(
            "return +document.querySelector(\".v-slider-thumb[role='slider']\")"
            ".getAttribute('aria-valuemax')"))
        glyph, every = step_latencies(driver, args.latency_steps, last_index)
        print(f"slider step -> new glyph image: median {statistics.median(glyph):.0f} ms "
              f"(p90 {sorted(glyph)[int(len(glyph) * 0.9)]:.0f} ms); -> all 6 views' new images: "
              f"median {statistics.median(every):.0f} ms, over {len(glyph)} steps "
              f"of {last_index + 1}")
        if args.screenshot:
            time.sleep(1)
            driver.save_screenshot(args.screenshot)
            print(f"wrote {args.screenshot}")
        before = tree_rss(server.process.pid)
        step_latencies(driver, args.steps, last_index, settle=False)
        after = tree_rss(server.process.pid)
        print(f"server memory: {before:.0f} MB after {args.latency_steps} steps, {after:.0f} MB "
              f"after {args.steps} more: x{after / before:.3f}")
        driver.quit()
        ready5, steps = five_browsers(server.url)
        shown = sum(r is not None for r in ready5)
        print(f"5 browsers at once: {shown} of 5 showed every view, in "
              + ", ".join("-" if r is None else f"{r:.1f}" for r in ready5)
              + f" s; their steps {steps}")
        server.stop()


if __name__ == "__main__":
    main()
