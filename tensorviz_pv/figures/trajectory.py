"""Fig. 3 right: the path over the weight snapshots of the two weights of the first conv layer
that move most, on equal scales (a distance is a distance in both directions), coloured by step
with a sequential map; a dot marks the last step."""

import numpy as np
from paraview import simple

from ..store import format as F
from .camera import axes, data_bounds, flat_camera
from .colour import colour
from .outputs import field_value
from .text import title
from .views import render_view


def moving_weights(stored, layer):
    """(the flat indices of two weights that travel far over the layer's snapshots in the
    store `stored` (a RunReader): the farthest, and the farthest of another filter (one
    filter's weights tend to move together); a short name for each: 'f3 i0 r1 c2')."""
    quantity = F.shown_variable(stored.layer_info(layer))  # the Weight Trajectory's default
    snapshots = np.stack([np.asarray(stored.series_value(layer, quantity, i)).ravel()
                          for i in range(len(stored.series_steps(layer, quantity)))])
    shape = stored.series_value(layer, quantity, 0).shape
    travel = np.nan_to_num(np.nanmax(snapshots, axis=0) - np.nanmin(snapshots, axis=0))
    filters = np.unravel_index(np.arange(travel.size), shape)[-1]  # filters: the last axis
    first = int(np.argmax(travel))
    others = np.where(filters != filters[first], travel, -1.0)
    second = int(np.argmax(others)) if others.max() >= 0 else int(np.argsort(travel)[-2])
    chosen = sorted((first, second))
    return chosen, [weight_name(np.unravel_index(i, shape)) for i in chosen]


def weight_name(index):
    """A kernel index in Keras's layout (spatial..., in, out), short: 'f3 i0 r1 c2'."""
    if len(index) == 4:
        row, column, channel, unit = index
        return f"f{unit} i{channel} r{row} c{column}"
    if len(index) == 2:
        return f"unit {index[1]} input {index[0]}"
    return "w[" + ", ".join(str(i) for i in index) + "]"


def render(run):
    layer = run.first_conv_layer
    indices, names = moving_weights(run.stored, layer)
    trajectory = simple.WeightTrajectory(Input=run.reader, Layer=layer, Indices=indices + [0],
                                         registrationName=f"{layer} trajectory")
    view = render_view(run.size)
    view.ViewTime = run.steps[-1]  # a Show updates at the view's time: the run's end
    path = simple.Show(trajectory, view)
    path.LineWidth = 3.0
    colour(path, view, "step", "Viridis (matplotlib)", "step", (run.steps[0], run.steps[-1]),
           association="POINTS")
    marker = simple.Show(simple.OutputPort(trajectory, 1), view)
    marker.Representation = "Points"
    marker.PointSize = 14
    marker.RenderPointsAsSpheres = 1
    marker.ColorArrayName = ["POINTS", ""]
    marker.AmbientColor = marker.DiffuseColor = [0.85, 0.1, 0.1]
    trajectory.UpdatePipeline(run.steps[-1])
    field_value(trajectory, "snapshot_step", port=1)  # FigureError when it drew nothing
    # one scale for both axes (the longer side fills the view), the labels show true values
    bounds = trajectory.GetDataInformation(0).GetBounds()
    size = 1.0 / max(bounds[1] - bounds[0], bounds[3] - bounds[2], 1e-12)
    scale = [size, size, 1.0]
    path.Scale = marker.Scale = scale
    axes(view, f"x: {layer} {names[0]}", "", scale)  # a y title would cover the labels
    title(view, f"{layer}: two weights that moved far, by step (equal scales)\n"
                f"y: {layer} {names[1]}", 18)
    title(view, "f: filter, i: input channel, r: row, c: column of the kernel", 13,
          "Lower Center")
    flat_camera(view, data_bounds((trajectory, 0), scale=scale), margin=1.6)
    run.save("fig3_trajectory.png", view)
