"""Fig. 6 (beyond the poster): the Filter Atlas of a convolution at its first and last
activation snapshot side by side: for each filter, the atlas images' patches that excite it
most; the panel serves the dashboard too."""

from paraview import servermanager, simple

from ..analysis.atlas import LEAST_PATCH, usable_field
from ..store import format as F
from .camera import data_bounds, flat_camera
from .outputs import field_value, has_cell_array
from .text import LABEL_PX, TITLE_PX, title, title_px
from .views import render_view, show_image


def atlas_panel(run, view, layer, step, caption=True, heading=None):
    """A layer's Filter Atlas at `step` in `view`: grey patches on the atlas images' own range
    (colour images as they are), filter numbers at the left of each row. Without `caption`,
    `heading` (text, size): a title that names the layer drawn (the dashboard's) instead."""
    atlas = simple.FilterAtlas(Input=run.reader, Layer=layer,
                               registrationName=f"{layer} filter atlas")
    view.ViewTime = step  # before anything is shown: a Show updates at the view's time
    atlas.UpdatePipeline(step)
    display = show_image(atlas, view)
    if has_cell_array(atlas, "rgb"):
        simple.ColorBy(display, ("CELLS", "rgb"))
        display.MapScalars = 0
    else:
        simple.ColorBy(display, ("CELLS", "pixel"))
        grey = simple.GetColorTransferFunction("pixel")
        grey.ApplyPreset("Grayscale", True)
        grey.RescaleTransferFunction(field_value(atlas, "atlas_range", row=0),
                                     field_value(atlas, "atlas_range", row=1))
        grey.AutomaticRescaleRangeMode = "Never"
        grey.NanColor = [0.8, 0.8, 0.8]  # between the patches: apart from white strokes
        simple.HideScalarBarIfNotNeeded(grey, view)
    shown, corners, (height, width) = atlas_rows(atlas)
    field = usable_field(run.entries[layer].get("receptive_field"),  # as the view decides
                         run.stored.file[F.atlas_path(F.ATLAS_IMAGES)].shape[1:])
    stored = run.stored
    alive = stored.alive_at(layer, step) if stored.has_series(layer, F.ALIVE) else None
    for f, (top, left) in zip(shown, corners):  # set_image: pixel (i, j) spans y in [-i-1, -i]
        run.labels.at(view, str(f), (left - 0.5, -top - height / 2, 0.0), 12, justification="Right")
    merged = alive is not None and not all(alive[f] for f in shown)
    bounds = data_bounds((atlas, 0))
    run.labels.at(view, "strongest first", (bounds[0], bounds[3] + 1, 0.0), 12,
                  justification="Left", vertical="Bottom")
    top_px = LABEL_PX  # the "strongest first" line
    if caption:
        what = "whole images" if not field else f"{size_text(field['size'])} px field" + (
            "" if min(field["size"]) >= LEAST_PATCH else
            f" amid {size_text([LEAST_PATCH] * len(field['size']))}")
        title(view, f"{layer}, step {int(step)}: what excites each filter most\n"
                    f"(atlas patches, {what}" + ("; grey: merged away)" if merged else ")"), 14)
        top_px += TITLE_PX
    elif heading is not None:
        title(view, *heading, follow=atlas, layer=layer)
        top_px += title_px(*heading)
    # room for the title, the "strongest first" line and the filter numbers
    flat_camera(view, bounds, margin=1.05, legend_room=0.0, text_px=(top_px, 2 * LABEL_PX))
    return atlas


def size_text(size):
    return " x ".join(str(int(n)) for n in size)


def atlas_rows(atlas):
    """(the filter of each row of a Filter Atlas's output, each row's (top, left) pixel, the
    patches' (height, width))."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    fields = servermanager.Fetch(atlas).GetFieldData()
    filters = [int(f) for f in vtk_to_numpy(fields.GetArray("filters"))]
    corners = vtk_to_numpy(fields.GetArray("row_corners")).reshape(-1, 2).tolist()
    return filters, corners, tuple(int(n) for n in vtk_to_numpy(fields.GetArray("patch_shape")))


def render(run, layer=None):
    """fig6_<layer>.png: the Filter Atlas of the first two convolutions (or of `layer`) at
    the first and last activation snapshot, side by side."""
    layers = [layer] if layer else run.activation_layers[:2]
    if not layers:
        return run.skipped("fig6", "no probe activations were recorded")
    for name in layers:
        if not run.has_atlas(name):
            run.skipped("fig6", f"no Filter Atlas was recorded for {name}")
            continue
        steps = run.stored.series_steps(name, F.ATLAS)
        layout = simple.CreateLayout(f"Fig. 6 {name}")
        layout.SplitHorizontal(0, 0.5)
        for cell, step in zip((1, 2), (steps[0], steps[-1])):
            atlas_panel(run, render_view(run.size, place=(layout, cell)), name, float(step))
        run.save(f"fig6_{name}.png", layout, (run.size[0] * 2, run.size[1]))
