"""`tensorviz check` against the disk: the scrub of a poster-shaped store of about 1 GB (probe
activations every 10 steps) next to `cat store > /dev/null`, both with the file in the page
cache (it is read once before either: caches cannot be dropped here), as the median of
interleaved repetitions, printed as a ratio; and, for where the time goes, HDF5 reading the
same chunks raw (read_direct_chunk: no checksum verified, no copy into an array).

    python benchmarks/check_speed.py [--steps 7500] [--reps 3] [--store RUN_OR_STORE]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tensorviz_pv.store.run_dir import resolve_store_path  # noqa: E402
from tensorviz_pv.store.scrub import scrub_run  # noqa: E402
from tensorviz_pv.store.synthetic import write_poster_shaped_run  # noqa: E402


def seconds(action):
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def cat(path):
    with open(os.devnull, "wb") as null:
        subprocess.run(["cat", path], stdout=null, check=True)


def raw_chunks(store):
    """Every stored chunk of every dataset read by HDF5 as it lies on disk."""
    with h5py.File(store, "r", locking=False) as f:
        datasets = []
        f.visititems(lambda _, item: datasets.append(item)
                     if isinstance(item, h5py.Dataset) and item.chunks else None)
        for dataset in datasets:
            for index in range(dataset.id.get_num_chunks()):
                dataset.id.read_direct_chunk(dataset.id.get_chunk_info(index).chunk_offset)


def measure(store, reps):
    cat(store)  # into the page cache: warm to warm
    ways = {"cat": lambda: cat(store), "check": lambda: scrub_run(store),
            "raw": lambda: raw_chunks(store)}
    times = {name: [] for name in ways}
    for rep in range(reps):
        for name in list(ways) if rep % 2 == 0 else reversed(list(ways)):
            times[name].append(seconds(ways[name]))
    size = os.path.getsize(store)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"store {size / 1e6:.0f} MB, {reps} interleaved repetitions, page cache warm")
    for name, what in (("cat", ""), ("raw", "  (HDF5's raw chunks, nothing verified)"),
                       ("check", "  (every chunk, Fletcher32 verified)")):
        print(f"{name:8} {median[name]:6.2f} s  {size / median[name] / 1e6:7.0f} MB/s{what}")
    print(f"ratio    {median['check'] / median['cat']:.2f} (check / cat), "
          f"{median['check'] / median['raw']:.2f} (check / raw chunks)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=7500, help="of the synthetic store (1 GB)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--store", default=None, help="measure this run instead")
    args = parser.parse_args()
    if args.store:
        measure(resolve_store_path(args.store), args.reps)
        return
    with tempfile.TemporaryDirectory() as folder:
        store = os.path.join(folder, "run.tvz")
        write_poster_shaped_run(store, args.steps, activations_every=10)
        measure(store, args.reps)


if __name__ == "__main__":
    main()
