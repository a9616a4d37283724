"""The figures' colours: dark text on white pages, one colour per layer or run, the picked
filter's outline, grey for "no value", and a colour map with its bar at the right edge."""

from paraview import simple

TEXT = [0.1, 0.1, 0.1]
HIGHLIGHT = [0.9, 0.1, 0.9]  # the picked filter's outline: a colour no colour map here uses
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


def bar_position(view):
    """Where a colour bar's lower left corner goes: near the right edge, with room for its
    labels and title (about 110 pixels)."""
    return [min(0.86, max(0.78, 1.0 - 110.0 / view.ViewSize[0])), 0.1]


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
    bar.TitleFontSize, bar.LabelFontSize = 18, 16
    bar.WindowLocation = "Any Location"
    bar.Position = bar_position(view)
    bar.ScalarBarLength = 0.6
    bar.AutomaticLabelFormat = 0
    bar.LabelFormat = bar.RangeLabelFormat = label_format(limits)
    bar.Visibility = 1
    return lut
