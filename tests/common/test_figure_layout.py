"""Where the figures put ticks, numbers and labels (pure numpy): whole-step ticks, short tick
labels, the pan and zoom that fit data into its room, the glyph grid's filter labels and the
stretch of a 1-D layer's activation strips."""

import numpy as np
import pytest

from tensorviz_pv.analysis.figure_layout import fit_into, integer_ticks, short_number
from tensorviz_pv.analysis.glyphs import BOX_FOOTPRINT, filter_labels, filter_outline
from tensorviz_pv.analysis.tiles import strip_stretch


@pytest.mark.parametrize("low,high", [(1, 4), (0, 5), (1, 12), (0, 20), (3, 7), (0, 1_000_000)])
def test_step_ticks_are_whole_numbers_evenly_spaced_over_the_run(low, high):
    ticks = integer_ticks(low, high)
    assert all(isinstance(t, int) for t in ticks) and 2 <= len(ticks) <= 8
    assert low <= ticks[0] and ticks[-1] <= high
    assert len(set(np.diff(ticks))) == 1 and np.diff(ticks)[0] >= 1


def test_a_run_of_one_step_has_one_tick():
    assert integer_ticks(3, 3) == [3]


@pytest.mark.parametrize("value,text", [
    (-0.00195312, "-1.95e-3"), (-0.015625, "-0.0156"), (0.5, "0.5"), (0.25, "0.25"), (0, "0"),
    (1.81, "1.81"), (123.456, "123"), (25000, "25e3"), (-1.0, "-1")])
def test_tick_labels_keep_three_significant_digits(value, text):
    assert short_number(value) == text
    assert float(text) == pytest.approx(value, rel=0.01)


def test_a_box_is_fitted_centred_into_its_target():
    scale, dx, dy = fit_into((-1.2, 0.5, -0.3, 0.3), (-0.9, 0.6, -0.9, 0.8))
    x0, x1 = -1.2 * scale + dx, 0.5 * scale + dx
    assert (x0, x1) == pytest.approx((-0.9, 0.6))
    assert (-0.3 * scale + dy + 0.3 * scale + dy) / 2 == pytest.approx(-0.05)


def label_ends(texts, xs, height):
    return xs, xs + np.array([len(t) for t in texts]) * 0.85 * height


@pytest.mark.parametrize("filters,channels", [(16, 1), (32, 1), (32, 3), (64, 32), (256, 16)])
def test_filter_labels_are_legible_and_clear_of_the_blocks(filters, channels):
    texts, xs, ys, height = filter_labels(filters, channels, 3, 3, range(filters),
                                          np.arange(filters))
    outlines = np.array([filter_outline(f, filters, channels, 3, 3) for f in range(filters)])
    grid_width = outlines[:, 1].max() - outlines[:, 0].min()
    assert height >= 0.025 * grid_width  # about 15 px of a 600 px wide grid
    if len(texts) == filters:  # each number in the gap left of its own block
        assert texts == [str(f) for f in range(filters)]
    else:  # each row's range of filters, left of the whole grid
        assert texts[0].startswith("0-") and texts[-1].endswith(f"-{filters - 1}")
        assert label_ends(texts, xs, height)[1].max() < -BOX_FOOTPRINT / 2  # the boxes' left edge


def test_filters_in_another_order_are_numbered_one_by_one():
    place = np.arange(32)[::-1]
    texts, xs, ys, height = filter_labels(32, 1, 3, 3, [0, 5, 30], place)
    assert texts == ["0", "5", "30"]
    assert len(xs) == len(ys) == 3


@pytest.mark.parametrize("rows,cols,stretch", [(8, 124, 7.75), (4, 12, 1.5), (16, 16, 1.0),
                                               (64, 10, 1.0)])
def test_thin_strips_are_stretched_to_half_their_width(rows, cols, stretch):
    assert strip_stretch(rows, cols) == pytest.approx(stretch)
    assert rows * strip_stretch(rows, cols) >= 0.5 * cols
