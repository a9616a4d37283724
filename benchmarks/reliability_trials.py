"""Reliability trials, many of each (the suite runs a few): trainers killed at random moments
and resumed, damaged stores read in both Pythons, concurrent renders. Prints a table of trials,
good outcomes and bad ones.

    .venv/bin/python benchmarks/reliability_trials.py [--kills 10] [--damaged 60] [--renders 6]
        [--races 30]
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from tensorviz_pv.store import format as F  # noqa: E402
from tensorviz_pv.store.reader import RunReader  # noqa: E402
from tensorviz_pv.store.synthetic import write_synthetic_run  # noqa: E402

TENSORVIZ = os.path.join(os.path.dirname(sys.executable), "tensorviz")
RUN = ["--max-samples", "400", "--epochs", "6", "--batch-size", "50", "--budget", "none"]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def contiguous(run_dir, steps=48):
    with RunReader(run_dir) as run:
        ok = list(run.step_table()[F.STEP]) == list(range(1, steps + 1))
        for layer in run.layers:
            for quantity in run.series_names(layer):
                ok &= bool(np.all(np.diff(run.series_steps(layer, quantity)) > 0))
    return ok


def kill_trials(count, how, rng, folder):
    good = 0
    for trial in range(count):
        run_dir = os.path.join(folder, f"{how}-{trial}")
        process = subprocess.Popen([TENSORVIZ, "train", run_dir, *RUN], env=ENV,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while not os.path.exists(os.path.join(run_dir, F.STORE_FILENAME)) and process.poll() is None:
            time.sleep(0.02)
        time.sleep(float(rng.uniform(0.0, 2.0)))
        process.send_signal({"SIGKILL": signal.SIGKILL, "SIGTERM": signal.SIGTERM,
                             "SIGINT": signal.SIGINT}[how])
        process.wait()
        resumed = subprocess.run([TENSORVIZ, "train", run_dir, *RUN, "--resume"], env=ENV,
                                 capture_output=True, text=True)
        good += resumed.returncode == 0 and "Traceback" not in resumed.stderr and contiguous(run_dir)
    return good


READ = """
import json, sys, time, hashlib
sys.path.insert(0, {root!r})
from tensorviz_pv.errors import StoreError
from tensorviz_pv.store.reader import RunReader
for path in sys.argv[1:]:
    started = time.perf_counter()
    try:
        with RunReader(path) as run:
            h = hashlib.sha256(run.time_steps().tobytes())
            for a in [*run.step_table().values(), run.norms("weight"), run.norms("gradient")]:
                h.update(a.tobytes())
            for layer in run.layers:
                for q in run.series_names(layer):
                    for i in range(len(run.series_steps(layer, q))):
                        h.update(run.series_value(layer, q, i).tobytes())
        outcome = h.hexdigest()
    except StoreError as error:
        outcome = "error"
    print(json.dumps([path, time.perf_counter() - started, outcome]), flush=True)
"""


def damage_trials(count, rng, folder, python):
    intact = os.path.join(folder, "intact.tvz")
    if not os.path.exists(intact):
        write_synthetic_run(intact, steps=60, every=5)
    size = os.path.getsize(intact)
    paths = [intact]
    for trial in range(count):
        path = os.path.join(folder, f"damaged-{trial}.tvz")
        shutil.copy(intact, path)
        if trial % 3 == 0:
            os.truncate(path, int(rng.integers(0, size)))
        else:
            with open(path, "r+b") as f:
                offset = int(rng.integers(0, size))
                f.seek(offset)
                byte = f.read(1)[0]
                f.seek(offset)
                f.write(bytes([byte ^ (1 << int(rng.integers(0, 8)))]))
        paths.append(path)
    result = subprocess.run([python, "-c", READ.format(root=ROOT)] + paths, capture_output=True,
                            text=True, timeout=600, env=dict(os.environ, PYTHONPATH=ROOT))
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("[")]
    truth = rows[0][2]
    errors = sum(r[2] == "error" and r[1] < 2 for r in rows[1:])
    same = sum(r[2] == truth for r in rows[1:])
    slowest = max(r[1] for r in rows[1:])
    return errors, same, len(paths) - 1 - errors - same, slowest


def render_trials(count, folder, run_dir):
    renders = [subprocess.Popen([TENSORVIZ, "render", run_dir, "--figures", "fig3", "--size",
                                 "300x200", "--out", os.path.join(folder, f"render-{i}")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for i in range(count)]
    return sum(r.wait() == 0 for r in renders)


def check_trials(folder):
    """`tensorviz check` on the damaged copies damage_trials left: (exit 1, exit 0 on a copy
    whose damage reads the same as the intact store, anything else)."""
    found = quiet = bad = 0
    for name in sorted(os.listdir(folder)):
        if not name.startswith("damaged-"):
            continue
        run_dir = os.path.join(folder, "check-" + name)
        os.makedirs(run_dir)
        shutil.copy(os.path.join(folder, name), os.path.join(run_dir, F.STORE_FILENAME))
        code = subprocess.run([TENSORVIZ, "check", run_dir], capture_output=True, text=True,
                              env=ENV).returncode
        found, quiet, bad = found + (code == 1), quiet + (code == 0), bad + (code not in (0, 1))
    return found, quiet, bad


def lock_races(rounds):
    """Rounds of 4 processes taking one run's lock at one instant: rounds with two holders."""
    import multiprocessing
    from common.test_writer_lock import CONTENDERS, contend
    context = multiprocessing.get_context("fork")
    doubled = 0
    with tempfile.TemporaryDirectory() as folder:
        for index in range(rounds):
            holding, most = context.Value("i", 0), context.Value("i", 0)
            barrier = context.Barrier(CONTENDERS)
            start = "empty file" if index % 2 else "no file"
            processes = [context.Process(target=contend, args=(
                os.path.join(folder, "run.tvz"), barrier, holding, most, start))
                for _ in range(CONTENDERS)]
            for process in processes:
                process.start()
            for process in processes:
                process.join(30)
            doubled += most.value > 1
    return doubled


def readers_that_wrote(folder):
    """A killed writer's store, then info, check and render: did any change a byte of it?"""
    import hashlib
    store = os.path.join(folder, "dead", F.STORE_FILENAME)
    os.makedirs(os.path.dirname(store))
    subprocess.run([sys.executable, "-c", (
        "import os, signal\nfrom tensorviz_pv.store.synthetic import write_synthetic_run\n"
        f"kept = write_synthetic_run({store!r}, steps=12, every=4, close=False)\n"
        "os.kill(os.getpid(), signal.SIGKILL)")], env=dict(ENV, PYTHONPATH=ROOT))
    digest = lambda: hashlib.md5(open(store, "rb").read()).hexdigest()  # noqa: E731
    before, wrote = digest(), 0
    for command in (["info"], ["check"], ["render", "--figures", "fig3", "--size", "300x200",
                                          "--out", os.path.join(folder, "dead-out")]):
        subprocess.run([TENSORVIZ, command[0], os.path.dirname(store), *command[1:]],
                       capture_output=True, env=ENV)
        wrote += digest() != before
    return wrote


def hostile_names(folder, run_dir):
    """Renders of a copy of `run_dir` under names that are code: (names, any code ran)."""
    names = ['a\n__import__("os").system("touch PWNED")\n#', "b'\"$(touch PWNED)`touch PWNED`",
             "c\\\\n\\'; touch PWNED; '", "d é\t;|&<>*?"]
    for index, name in enumerate(names):
        hostile = os.path.join(folder, f"hostile-{index}", name)
        os.makedirs(hostile)
        shutil.copy(os.path.join(run_dir, F.STORE_FILENAME), hostile)
        subprocess.run([TENSORVIZ, "render", hostile, "--figures", "fig3", "--size", "300x200",
                        "--out", hostile + " out"], capture_output=True, env=ENV, cwd=folder)
    ran = any("PWNED" in files for _, _, files in os.walk(folder))
    return len(names), ran


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--damaged", type=int, default=60)
    parser.add_argument("--renders", type=int, default=6)
    parser.add_argument("--races", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for how in ("SIGKILL", "SIGTERM", "SIGINT"):
            good = kill_trials(args.kills, how, rng, folder)
            rows.append((f"trainer {how} at a random moment, then --resume", args.kills, good,
                         args.kills - good, "contiguous 1..48, no step twice, no traceback"))
        pvpython = shutil.which("pvpython")
        for label, python in (("venv, HDF5 1.14", sys.executable), ("pvpython, HDF5 1.10", pvpython)):
            if python is None:
                continue
            errors, same, bad, slowest = damage_trials(args.damaged, rng, folder, python)
            rows.append((f"damaged store read ({label}): truncations, bit flips", args.damaged,
                         errors + same, bad, f"{errors} clear errors (slowest {slowest:.2f} s), "
                         f"{same} same data"))
        found, quiet, bad = check_trials(folder)
        rows.append(("`tensorviz check` on those damaged stores", args.damaged, found + quiet, bad,
                     f"{found} found (exit 1), {quiet} intact to every read (exit 0)"))
        tiny = os.path.join(folder, "SIGKILL-0")
        good = render_trials(args.renders, folder, tiny)
        rows.append(("`tensorviz render` started together", args.renders, good,
                     args.renders - good, "every PNG written"))
        doubled = lock_races(args.races)
        rows.append(("4 processes take one run's lock at one instant", args.races,
                     args.races - doubled, doubled, "one holder"))
        wrote = readers_that_wrote(folder)
        rows.append(("info, check, render of a killed writer's store", 3, 3 - wrote, wrote,
                     "the store byte for byte unchanged"))
        count, ran = hostile_names(folder, tiny)
        rows.append(("render of runs named as code (newline, quotes, $(), backticks, ;)", count,
                     0 if ran else count, count if ran else 0, "nothing in a name ran"))
    print("| trial | runs | good | bad | what good means |\n|---|---|---|---|---|")
    for trial, runs, good, bad, meaning in rows:
        print(f"| {trial} | {runs} | {good} | {bad} | {meaning} |")


if __name__ == "__main__":
    main()
