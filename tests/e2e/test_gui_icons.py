"""The GUI's toolbar icons draw (Debian's ParaView draws every one as an empty square unless
libqt5svg5 is installed: Qt reads ParaView's SVG icons through its imageformats/libqsvg.so and
iconengines/libqsvgicon.so plugins)."""

import numpy as np

from gui import screenshot_of_the_gui
from tensorviz_cli.launch import private_display
from tensorviz_pv.store.synthetic import write_synthetic_run

# A pixel is coloured when its channels differ by more than this (text and frames are grey).
COLOURED = 50
# Coloured pixels a toolbar row must have. Measured at 1600x1000 with ParaView 5.11: the three
# toolbar rows had 2590, 1406 and 824 with the SVG plugins, 0, 0 and 37 without them (and
# 2016, 1361, 1164 distinct colours against the menu bar's 232; 209, 82, 20 without them).
ICONS_PER_ROW = 200


def window_of(screen):
    """The part of a screenshot a window covers: the bounding box of every pixel that is not
    the root window's background (a bottom-right corner pixel: no window manager, the window
    sits at the top left)."""
    rows, cols = np.nonzero(np.any(screen != screen[-1, -1], axis=-1))
    return screen[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def bar_rows(window):
    """(first, last) row of each bar at the top of the main window: the menu bar, then each row
    of toolbars. Qt draws each bar's background as a horizontal gradient across the whole
    window, so the rows between bars are one colour from edge to edge; below the bars the docks
    and views never give such a row (looked for in the window's top half only)."""
    top = window[: len(window) // 2]
    uniform = np.all(top == top[:, :1], axis=(1, 2))
    end = int(np.nonzero(uniform)[0][-1])  # the band of bars ends at its last uniform row
    inside = ~uniform[:end]
    starts = np.nonzero(inside & np.r_[True, ~inside[:-1]])[0]
    stops = np.nonzero(inside & np.r_[~inside[1:], True])[0]
    return list(zip(starts, stops))


def distinct_colours(pixels):
    flat = pixels.reshape(-1, 3)
    return len(np.unique((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]))


def test_the_toolbar_icons_draw_on_a_first_start(tmp_path):
    """`tensorviz paraview RUN` with a fresh user configuration: every toolbar row below the
    menu bar (the first row holds the time controls: play, first, last...) has coloured icons
    in it, not empty squares. Fails with Qt's SVG plugins hidden (see DEVELOPERS.md)."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_synthetic_run(str(run_dir / "run.tvz"), steps=25, every=10)
    config = tmp_path / "config"
    with private_display("-screen 0 1600x1000x24") as display:
        shot = screenshot_of_the_gui(run_dir, display, tmp_path / "gui.png", env={
            "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(config)})
    from PIL import Image  # installed by the set-up
    window = window_of(np.asarray(Image.open(shot).convert("RGB")).astype(int))
    bars = bar_rows(window)
    assert len(bars) >= 3, f"no menu bar and toolbar rows found at the window's top: {bars}"
    rows = [window[a:b + 1] for a, b in bars]
    coloured = [int(((row.max(-1) - row.min(-1)) > COLOURED).sum()) for row in rows[1:]]
    # the menu bar is text only: its anti-aliased greys are the measure of what text gives
    colours = [distinct_colours(row) for row in rows]
    missing = ("toolbar icons not drawn: Qt's SVG plugins are missing; install libqt5svg5 "
               "(Debian) or use a ParaView that brings its own Qt")
    assert min(coloured) >= ICONS_PER_ROW, f"{missing} (coloured pixels per toolbar row: {coloured})"
    assert min(colours[1:]) > 2 * colours[0], \
        f"{missing} (distinct colours: menu bar {colours[0]}, toolbar rows {colours[1:]})"
