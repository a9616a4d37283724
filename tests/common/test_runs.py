"""Several runs at once: which stores a list of paths names, their labels, and a damaged one
among them."""

import os

import pytest

from tensorviz_pv.errors import StoreError
from tensorviz_pv.store.runs import RunSet, find_runs
from tensorviz_pv.store.synthetic import write_synthetic_run


@pytest.fixture
def sweep(tmp_path):
    """A folder of three runs (lr-0.01, lr-0.05, lr-2.0) and a folder that is not a run."""
    for name in ("lr-0.05", "lr-0.01", "lr-2.0"):
        os.makedirs(tmp_path / name)
        write_synthetic_run(str(tmp_path / name / "run.tvz"), steps=12, every=5)
    os.makedirs(tmp_path / "figures")
    return tmp_path


def test_a_folder_of_runs_a_run_directory_and_a_store(sweep, tmp_path):
    runs = find_runs([sweep])
    assert [label for label, _ in runs] == ["lr-0.01", "lr-0.05", "lr-2.0"]  # name order
    assert all(os.path.isfile(store) for _, store in runs)
    assert find_runs([sweep / "lr-2.0", sweep / "lr-0.01" / "run.tvz"]) == [
        ("lr-2.0", str(sweep / "lr-2.0" / "run.tvz")), ("lr-0.01", str(sweep / "lr-0.01" / "run.tvz"))]
    assert len(find_runs([sweep, sweep / "lr-0.05"])) == 3  # each store once


def test_two_runs_of_one_name_are_told_apart_by_their_parent(tmp_path):
    for parent in ("seed1", "seed2"):
        os.makedirs(tmp_path / parent / "run")
        write_synthetic_run(str(tmp_path / parent / "run" / "run.tvz"), steps=5, every=5)
    assert [label for label, _ in find_runs([tmp_path / "seed1" / "run", tmp_path / "seed2" / "run"])] \
        == ["seed1/run", "seed2/run"]


def test_a_folder_without_runs_and_a_missing_path_are_named(sweep, tmp_path):
    with pytest.raises(StoreError, match="figures: no runs here"):
        find_runs([sweep / "figures"])
    with pytest.raises(StoreError, match="nothere: no such file or folder"):
        find_runs([tmp_path / "nothere"])


def test_a_damaged_run_is_left_out_and_the_others_open(sweep):
    with open(sweep / "lr-0.05" / "run.tvz", "wb") as f:
        f.write(b"not a store")
    with RunSet([sweep]) as runs:
        assert runs.labels == ["lr-0.01", "lr-2.0"]
        assert len(runs.problems) == 1 and "lr-0.05" in runs.problems[0]
        assert runs.run("lr-2.0").step_count() == 12
        with pytest.raises(StoreError, match="no run named 'lr-9'"):
            runs.run("lr-9")
    for name in ("lr-0.01", "lr-2.0"):
        with open(sweep / name / "run.tvz", "wb") as f:
            f.write(b"nor this")
    with pytest.raises(StoreError, match="none of the runs opens"):
        RunSet([sweep])
