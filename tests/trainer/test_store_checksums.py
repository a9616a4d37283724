"""Every dataset of a real store carries a Fletcher32 checksum: a flipped byte anywhere is found
by the read that meets it, never shown as data."""

import h5py
import numpy as np
import pytest

from tensorviz_pv.errors import StoreError
from tensorviz_pv.store.reader import RunReader


def datasets(path):
    found = []
    with h5py.File(path, "r", locking=False) as f:
        f.visititems(lambda name, item: found.append((name, item.fletcher32))
                     if isinstance(item, h5py.Dataset) else None)
    return found


@pytest.mark.parametrize("run", ["tiny_run", "reduced_run"])
def test_every_dataset_of_a_real_store_is_checksummed(run, request):
    found = datasets(str(request.getfixturevalue(run) / "run.tvz"))
    names = [name for name, _ in found]
    assert "probe/images" in names and "probe/labels" in names and "atlas/images" in names
    assert any(name.startswith("merges/") for name in names) or run == "tiny_run"
    assert [name for name, checked in found if not checked] == []


def test_a_flipped_byte_in_the_probe_images_is_found_not_drawn(tiny_run, tmp_path):
    path = tmp_path / "run.tvz"
    path.write_bytes((tiny_run / "run.tvz").read_bytes())
    with h5py.File(path, "r", locking=False) as f:
        offset = f["probe/images"].id.get_chunk_info(0).byte_offset
        good = f["probe/images"][()]
    data = bytearray(path.read_bytes())
    data[offset + 1000] ^= 0x10
    path.write_bytes(bytes(data))
    with RunReader(str(path)) as run:
        with pytest.raises(StoreError, match="probe"):
            images, _ = run.probe()
            assert np.array_equal(images, good)
