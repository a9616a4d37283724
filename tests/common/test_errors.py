"""Errors by layer: a store's problem is a StoreError, a person's setting a SettingError, and the
`tensorviz` command reports both (any TensorVizError) with their message."""

import pytest

from tensorviz_pv.analysis.selection import parse_filter_list
from tensorviz_pv.errors import SettingError, StoreError, TensorVizError
from tensorviz_pv.store.reader import RunReader


def test_a_bad_filter_list_is_a_setting_error_naming_the_text():
    assert parse_filter_list("0-2, 7", 8) == [0, 1, 2, 7]
    assert parse_filter_list("all", 8) is None
    for text, message in (("3-1", "runs backwards"), ("a", "use indices and ranges"),
                          ("9", r"filter 9 does not exist \(0-7\)")):
        with pytest.raises(SettingError, match=message) as caught:
            parse_filter_list(text, 8)
        assert not isinstance(caught.value, StoreError) and isinstance(caught.value, TensorVizError)


def test_a_missing_store_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="no such file") as caught:
        RunReader(str(tmp_path / "nothing.tvz"))
    assert not isinstance(caught.value, SettingError)
