"""Fig. 5: which of the first conv layer's filters group together (r >= 0.85, transitively) at
each activation snapshot, and which were merged away by filter reduction (gray)."""

from paraview import simple

from .style import axes, colour, data_bounds, field_value, flat_camera, render_view, title


def render(run):
    if not run.activation_layers:
        return run.skipped("fig5", "no probe activations were recorded")
    layer = run.activation_layers[0]
    groups = simple.FilterGroups(Input=run.reader, Layer=layer)
    groups.UpdatePipeline(run.steps[-1])
    view = render_view(run.size)
    image = simple.Show(simple.OutputPort(groups, 1), view)
    image.Representation = "Slice"
    top = max(field_value(groups, "filters_now"), 1.0)
    lut = colour(image, view, "group", "Rainbow Uniform", "group id", (0.0, top),
                 association="POINTS")
    lut.UseBelowRangeColor = 1  # dead (-1) and merged-away (-2) filters: gray
    lut.BelowRangeColor = [0.45, 0.45, 0.45]
    axes(view, "filter", "snapshot (the first at the top)", label_y=False)
    merged = groups.GetDataInformation(0).DataInformation.GetFieldDataInformation() \
        .GetArrayInformation("merge_step").GetNumberOfTuples()
    lineage = f", {merged} merged away (gray)" if merged else ""
    title(view, f"{layer}: filter groups (r >= 0.85){lineage}\n"
                "rows: snapshots, the first at the top", 18)
    flat_camera(view, data_bounds((groups, 1)), run.size, margin=1.4)
    run.save("fig5_groups.png", view)
