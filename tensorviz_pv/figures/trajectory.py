"""Fig. 3 right: the path of the first conv layer's weight vector (its first two weights) over
the weight snapshots, coloured by step; a dot marks the last step."""

from paraview import simple

from .style import axes, colour, data_bounds, flat_camera, has_preset, render_view, title


def render(run):
    layer = run.first_conv_layer
    trajectory = simple.WeightTrajectory(Input=run.reader, Layer=layer)
    view = render_view(run.size)
    path = simple.Show(trajectory, view)
    path.LineWidth = 2.0
    colour(path, view, "step", "Turbo" if has_preset("Turbo") else "Jet", "step",
           association="POINTS")
    marker = simple.Show(simple.OutputPort(trajectory, 1), view)
    marker.Representation = "Points"
    marker.PointSize = 12
    marker.RenderPointsAsSpheres = 1
    marker.ColorArrayName = ["POINTS", ""]
    marker.AmbientColor = marker.DiffuseColor = [0, 0, 0]
    view.ViewTime = run.steps[-1]
    trajectory.UpdatePipeline(run.steps[-1])
    # the two weights move over different ranges: stretch each axis to the same size,
    # and let the axes grid label the true values
    bounds = trajectory.GetDataInformation(0).GetBounds()
    scale = [1.0 / max(bounds[1] - bounds[0], 1e-12), 1.0 / max(bounds[3] - bounds[2], 1e-12), 1.0]
    path.Scale = marker.Scale = scale
    axes(view, f"{layer} weight 0", f"{layer} weight 1", scale)
    title(view, f"{layer}: path of the weight vector (first 2 weights), by step")
    flat_camera(view, data_bounds((trajectory, 0), scale=scale), run.size, margin=1.5)
    run.save("fig3_trajectory.png", view)
