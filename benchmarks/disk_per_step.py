"""Bytes on disk per recorded step against the raw bytes recorded.

    .venv/bin/python benchmarks/disk_per_step.py [RUN_DIR ...]   (default: runs/demo)

Raw bytes = the values the trainer handed to the store (rows x row size, every dataset).
The ratio shows what HDF5 chunking, metadata and compression add or save.
"""

import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tensorviz_pv.store import format as F  # noqa: E402


def measure(run_dir):
    store = os.path.join(run_dir, F.STORE_FILENAME)
    raw, groups = 0, {}
    with h5py.File(store, "r") as f:
        steps = f[F.steps_path(F.STEP)].shape[0]

        def visit(name, obj):
            nonlocal raw
            if isinstance(obj, h5py.Dataset):
                size = int(np.prod(obj.shape, dtype=np.int64)) * obj.dtype.itemsize
                raw += size
                key = "/".join(name.split("/")[:3]) if name.startswith(F.TENSORS_GROUP) else name.split("/")[0]
                stored = obj.id.get_storage_size()
                g = groups.setdefault(key, [0, 0])
                g[0] += size
                g[1] += stored

        f.visititems(visit)
    on_disk = os.path.getsize(store)
    checkpoints = sum(os.path.getsize(os.path.join(d, n)) for d, _, names in
                      os.walk(os.path.join(run_dir, F.CHECKPOINT_DIR)) for n in names)
    print(f"{run_dir}: {steps} steps")
    print(f"  store on disk {on_disk / 1e6:.2f} MB, raw recorded {raw / 1e6:.2f} MB, "
          f"ratio {on_disk / raw:.3f}")
    print(f"  per step: {on_disk / max(steps, 1) / 1e3:.1f} kB on disk, "
          f"{raw / max(steps, 1) / 1e3:.1f} kB raw; checkpoints {checkpoints / 1e6:.1f} MB")
    for key, (size, stored) in sorted(groups.items(), key=lambda kv: -kv[1][0])[:8]:
        print(f"    {key:<28} raw {size / 1e6:8.3f} MB  stored {stored / 1e6:8.3f} MB  "
              f"ratio {stored / max(size, 1):.3f}")


if __name__ == "__main__":
    for run_dir in sys.argv[1:] or ["runs/demo"]:
        measure(run_dir)
