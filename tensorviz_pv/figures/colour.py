"""The figures' colours: dark text on white pages, one colour per layer or run, the picked
filter's outline, grey for "no value", and a colour map with its bar at the right edge."""

from paraview import simple

from .views import on_resize

TEXT = [0.1, 0.1, 0.1]
HIGHLIGHT = [0.9, 0.1, 0.9]  # the picked filter's outline: a colour no colour map here uses
BAR_LENGTH = 0.6  # of the view's height
GLYPH_WIDTH = 0.6  # a character's width in the house font, this share of its size in pixels
GREY = [0.62, 0.62, 0.62]  # "no value" (a dead or merged-away filter's correlation)
# one colour per layer (norm charts) or per run (comparisons)
PALETTE = [[0.85, 0.1, 0.1], [0.1, 0.3, 0.85], [0.1, 0.6, 0.2], [0.6, 0.3, 0.8],
           [0.9, 0.5, 0.1], [0.3, 0.3, 0.3]]


def label_format(limits):
    """One printf format for every label of a colour bar spanning `limits`."""
    largest = max(abs(float(v)) for v in limits) if limits is not None else 1.0
    if largest == 0 or 0.01 <= largest < 1000:
        digits = 2 if largest < 10 else 1 if largest < 100 else 0
        return f"%-#.{digits}f" if digits else "%-.0f"
    return "%-#.1e"


def bar_position(width, title_size=18):
    """Where a colour bar's lower left corner goes in a view `width` pixels wide: near the
    right edge, with room for its labels and title (about 110 pixels at 18 points)."""
    return [min(0.86, max(0.74, 1.0 - _bar_room(title_size) / width)), 0.1]


def _bar_room(title_size):
    """Pixels across a colour bar, its labels (5 characters) and its title's line."""
    return 30 + 4.4 * title_size


def bar_type_sizes(title, size):
    """(title, label) font sizes of a colour bar in a view of `size` pixels: 18 and 16,
    smaller where its title, written along the bar, would run past the bar's ends, or the bar
    would take more than the right quarter of a narrow view."""
    along = BAR_LENGTH * size[1] / (GLYPH_WIDTH * max(len(title), 1))
    across = (0.26 * size[0] - _bar_room(0)) / (_bar_room(1) - _bar_room(0))
    title_size = int(max(9, min(18, along, across)))
    return title_size, min(16, title_size)


def colour(display, view, array, preset, bar_title, limits=None, association="CELLS"):
    """Colour a display by an array with a preset (fixed to `limits` when given), and show its
    colour bar at the right edge, every label in one number format."""
    simple.ColorBy(display, (association, array))
    lut = simple.GetColorTransferFunction(array)
    lut.ApplyPreset(preset, True)
    if limits is not None:
        lut.RescaleTransferFunction(*limits)
        lut.AutomaticRescaleRangeMode = "Never"
    lut.NanColor = [1.0, 1.0, 1.0]
    bar = simple.GetScalarBar(lut, view)
    bar.Title, bar.ComponentTitle = bar_title, ""
    bar.TitleColor = bar.LabelColor = TEXT
    bar.WindowLocation = "Any Location"
    bar.ScalarBarLength = BAR_LENGTH
    on_resize(view, ("bar", array), lambda view, size: _fit_bar(bar, bar_title, size))
    bar.AutomaticLabelFormat = 0
    bar.LabelFormat = bar.RangeLabelFormat = label_format(limits)
    bar.Visibility = 1
    return lut


def _fit_bar(bar, title, size):
    """A colour bar placed and its type sized for a view of `size` pixels."""
    title_size, label_size = bar_type_sizes(title, size)
    for name, value in (("TitleFontSize", title_size), ("LabelFontSize", label_size),
                        ("Position", bar_position(size[0], title_size))):
        current = getattr(bar, name)
        if (list(current) if name == "Position" else current) != value:
            # only what changes: a change asks for another render (the web page's loop)
            setattr(bar, name, value)
