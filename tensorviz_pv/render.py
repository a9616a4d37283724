"""Scripted renders with paraview.simple; run by pvbatch (`tensorviz render` starts it).

  pvbatch tensorviz_pv/render.py STORE OUT_DIR [--figures fig2,fig3,fig4,fig5]
                                 [--layer NAME] [--steps A,B,C] [--size WxH]

The poster's figures for one run:
  fig2_weights.png         a layer's weight glyphs at three steps (and fig2_step<N>.png each)
  fig3_norms.png           L2 norms of every layer's weights and gradients over the steps
  fig3_trajectory.png      the first conv layer's weight vector, first two weights, by step
  fig4_<layer>.png         activation maps of a probe image, and the filter correlation heatmap,
                           for the first two conv layers
  fig5_groups.png          which conv1 filters group together (r >= 0.85) at every snapshot
  animation/               the glyphs over training, one PNG per frame (at most 60 snapshot
                           steps), and fig2_animation.mp4 where ffmpeg is installed
"""

import argparse
import os
import sys

TEXT = [0.1, 0.1, 0.1]
FIGURES = ("fig2", "fig3", "fig4", "fig5", "animation")


PLUGIN_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "plugin", "TensorViz.xml")
ANIMATION_FRAMES = 60


def ensure_plugin(simple):
    """Load the plugin unless PV_PLUGIN_PATH already auto-loaded it."""
    if not hasattr(simple, "TensorVizReader"):
        simple.LoadPlugin(PLUGIN_PATH, ns=vars(simple))


def three_steps(steps):
    """First, middle and last of the recorded steps (the poster shows 0, 4k and 8k)."""
    steps = sorted(steps)
    return [steps[0], steps[len(steps) // 2], steps[-1]]


def field_value(source, name, port=0):
    info = source.GetDataInformation(port).DataInformation.GetFieldDataInformation()
    return info.GetArrayInformation(name).GetComponentRange(0)[0]


class Renderer:
    """The run's reader and the views made from it, one PNG per figure."""

    def __init__(self, simple, store, out_dir, size):
        ensure_plugin(simple)
        self.simple, self.store, self.out_dir, self.size = simple, store, out_dir, tuple(size)
        self.reader = simple.TensorVizReader(FileName=store)
        self.steps = list(self.reader.TimestepValues or [])
        if not self.steps:
            raise SystemExit(f"{store}: no recorded steps to render")
        self.layers = self._layer_names("WeightGlyphs")
        self.conv_layers = self._layer_names("FilterCorrelation")
        self.written = []

    def _layer_names(self, view_name):
        """The layers a view lists (all, or conv only): asked of a view made and dropped."""
        view = getattr(self.simple, view_name)(Input=self.reader)
        names = list(view.GetProperty("LayerNames"))
        self.simple.Delete(view)
        return names

    # ---- helpers
    def render_view(self, size=None):
        view = self.simple.CreateView("RenderView")
        view.ViewSize = list(size or self.size)
        view.Background = [1.0, 1.0, 1.0]
        if hasattr(view, "UseColorPaletteForBackground"):
            view.UseColorPaletteForBackground = 0
        view.OrientationAxesVisibility = 0
        return view

    def title(self, view, text, size=22, location="Upper Center"):
        display = self.simple.Show(self.simple.Text(Text=text), view)
        display.WindowLocation = location
        display.FontSize = size
        display.Color = TEXT

    def colour(self, display, view, array, preset, title, limits=None, association="CELLS"):
        self.simple.ColorBy(display, (association, array))
        lut = self.simple.GetColorTransferFunction(array)
        lut.ApplyPreset(preset, True)
        if limits is not None:
            lut.RescaleTransferFunction(*limits)
            lut.AutomaticRescaleRangeMode = "Never"
        lut.NanColor = [1.0, 1.0, 1.0]
        bar = self.simple.GetScalarBar(lut, view)
        bar.Title, bar.ComponentTitle = title, ""
        bar.TitleColor = bar.LabelColor = TEXT
        bar.WindowLocation = "Any Location"
        bar.Position = [0.86, 0.1]
        bar.ScalarBarLength = 0.6
        bar.Visibility = 1
        return lut

    def save(self, name, view_or_layout, resolution=None):
        path = os.path.join(self.out_dir, name)
        self.simple.SaveScreenshot(path, view_or_layout, ImageResolution=list(resolution or self.size))
        self.written.append(path)
        print(f"wrote {path}", flush=True)

    def axes(self, view, x_title, y_title, scale=(1.0, 1.0, 1.0), label_y=True):
        """Axes under a 2D plot. Images put row 0 at the top, at y = 0, -1, -2...: their y
        values would read negative, so label_y=False leaves them to the title."""
        grid = view.AxesGrid
        grid.Visibility = 1
        # the mask names the edges that carry labels: for the -Z face, 0x02/0x10 label x
        grid.AxesToLabel = 0x3F if label_y else 0x02 | 0x10
        grid.XTitle, grid.YTitle = x_title, y_title
        grid.DataScale = list(scale)
        grid.ShowEdges = 0
        grid.FacesToRender = 4  # the -Z face only (bit 4): one set of axes under a 2D plot
        for attribute in ("XTitleColor", "YTitleColor", "XLabelColor", "YLabelColor", "GridColor"):
            setattr(grid, attribute, TEXT)

    def flat_camera(self, view, source, port=0, margin=1.15, scale=(1.0, 1.0, 1.0)):
        """Look straight down at a 2D image, leaving the right edge to the legend."""
        bounds = source.GetDataInformation(port).GetBounds()
        bounds = [b * scale[i // 2] for i, b in enumerate(bounds)]
        view.InteractionMode = "2D"
        view.ResetCamera(False)
        camera = view.GetActiveCamera()
        camera.SetParallelProjection(True)
        width, height = bounds[1] - bounds[0], bounds[3] - bounds[2]
        aspect = self.size[0] / self.size[1]
        camera.SetParallelScale(margin * max(height, width / aspect * 1.25) / 2)
        cx, cy = (bounds[0] + bounds[1]) / 2 + 0.12 * width, (bounds[2] + bounds[3]) / 2
        camera.SetFocalPoint(cx, cy, 0)
        camera.SetPosition(cx, cy, 100)
        camera.SetViewUp(0, 1, 0)

    # ---- Fig. 2
    def oblique_camera(self, view, source):
        """Look down at the grid from the front and a little above, as the poster does."""
        bounds = source.GetDataInformation().GetBounds()
        cx, cy = (bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2
        size = max(bounds[1] - bounds[0], bounds[3] - bounds[2])
        camera = view.GetActiveCamera()
        camera.SetFocalPoint(cx, cy, 0)
        camera.SetPosition(cx, cy - 1.1 * size, 1.5 * size)
        camera.SetViewUp(0, 0.8, 0.6)
        view.ResetCamera(False)
        camera.Zoom(1.1)
        shift = 0.14 * size  # slide right: the right edge is the colour legend's
        focal, position = camera.GetFocalPoint(), camera.GetPosition()
        camera.SetFocalPoint(focal[0] + shift, focal[1], focal[2])
        camera.SetPosition(position[0] + shift, position[1], position[2])

    def glyphs(self, layer=None):
        """(Weight Glyphs of `layer` (default: the first), its layer name, the run's largest
        |weight|) with boxes 4x the weights: conv weights are ~0.1-0.5, taller boxes read better."""
        glyphs = self.simple.WeightGlyphs(Input=self.reader, HeightScale=4.0)
        if layer:
            glyphs.Layer = layer
        glyphs.UpdatePipeline(self.steps[-1])
        return glyphs, glyphs.Layer[0], field_value(glyphs, "colour_limit")

    def show_glyphs(self, view, glyphs, limit):
        """Glyphs in a view, coloured blue-white-red over the whole run's range, from above."""
        display = self.simple.Show(glyphs, view)
        self.colour(display, view, "kernel", "Cool to Warm", "weight", (-limit, limit))
        self.oblique_camera(view, glyphs)
        return display

    def fig2(self, layer=None, steps=None):
        glyphs, layer, limit = self.glyphs(layer)
        chosen = steps or three_steps(self.steps)
        layout = self.simple.CreateLayout("Fig. 2")
        layout.SplitHorizontal(0, 1.0 / 3.0)
        layout.SplitHorizontal(2, 0.5)
        for cell, step in zip((1, 5, 6), chosen):
            view = self.render_view()
            self.simple.AssignViewToLayout(view=view, layout=layout, hint=cell)
            glyphs.UpdatePipeline(step)
            self.title(view, f"{layer} weights, step {int(step)}")
            view.ViewTime = step
            self.show_glyphs(view, glyphs, limit)
            self.save(f"fig2_step{int(step)}.png", view)
        self.save("fig2_weights.png", layout, (self.size[0] * len(chosen), self.size[1]))

    def animation(self, layer=None, frames=ANIMATION_FRAMES):
        """The first layer's glyphs over training: a frame per snapshot step (at most
        `frames`, evenly spread), then an MP4 when ffmpeg exists."""
        import shutil
        import subprocess
        glyphs, layer, limit = self.glyphs(layer)
        view = self.render_view()
        self.show_glyphs(view, glyphs, limit)
        label = self.simple.Text(Text="")
        shown = self.simple.Show(label, view)
        shown.WindowLocation, shown.FontSize, shown.Color = "Upper Center", 22, TEXT
        snapshots = self.snapshot_steps(layer)
        pick = sorted(set(int(round(i)) for i in
                          [k * (len(snapshots) - 1) / max(frames - 1, 1) for k in range(frames)]))
        folder = os.path.join(self.out_dir, "animation")
        os.makedirs(folder, exist_ok=True)
        for frame, index in enumerate(pick):
            step = snapshots[index]
            label.Text = f"{layer} weights, step {int(step)}"
            view.ViewTime = step
            path = os.path.join(folder, f"glyphs_{frame:04d}.png")
            self.simple.SaveScreenshot(path, view, ImageResolution=list(self.size))
        print(f"wrote {len(pick)} frames in {folder}", flush=True)
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg:
            movie = os.path.join(self.out_dir, "fig2_animation.mp4")
            subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-framerate", "10", "-i",
                            os.path.join(folder, "glyphs_%04d.png"), "-pix_fmt", "yuv420p",
                            "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", movie], check=True)
            self.written.append(movie)
            print(f"wrote {movie}", flush=True)

    def snapshot_steps(self, layer):
        """The steps at which the layer's weights were recorded: where the glyphs change."""
        from tensorviz_pv.store import RunReader
        with RunReader(self.store) as run:
            return [float(s) for s in run.series_steps(layer, "kernel")]

    # ---- Fig. 3
    def norm_chart(self, chart, norms):
        """Every layer's weight norm (solid) and gradient norm (dashed) over the steps."""
        chart.ChartTitle = "L2 norms over training"
        chart.ChartTitleFontSize = 18
        chart.LeftAxisTitle = "L2 norm"
        chart.BottomAxisTitle = "training step"
        chart.LeftAxisLogScale = 1
        chart.LegendLocation = "TopLeft"
        display = self.simple.Show(norms, chart)
        display.UseIndexForXAxis = 0
        display.XArrayName = "step"
        names = [f"{layer} {what} norm" for what in ("weight", "gradient") for layer in self.layers]
        display.SeriesVisibility = names
        palette = [[0.85, 0.1, 0.1], [0.1, 0.3, 0.85], [0.1, 0.6, 0.2], [0.6, 0.3, 0.8],
                   [0.9, 0.5, 0.1], [0.3, 0.3, 0.3]]
        colours, styles = [], []
        for index, name in enumerate(names):
            colour = palette[(index % len(self.layers)) % len(palette)]
            colours += [name] + [str(c) for c in colour]
            styles += [name, "1" if "weight" in name else "2"]  # gradients dashed
        display.SeriesColor = colours
        display.SeriesLineStyle = styles
        return display

    def fig3(self):
        norms = self.simple.NormTimeSeries(Input=self.reader)
        chart = self.simple.CreateView("XYChartView")
        chart.ViewSize = list(self.size)
        self.norm_chart(chart, norms)
        self.save("fig3_norms.png", chart)

        layer = self.conv_layers[0] if self.conv_layers else self.layers[0]
        trajectory = self.simple.WeightTrajectory(Input=self.reader, Layer=layer)
        view = self.render_view()
        path = self.simple.Show(trajectory, view)
        path.LineWidth = 2.0
        self.colour(path, view, "step", "Turbo" if self._has_preset("Turbo") else "Jet", "step",
                    association="POINTS")
        marker = self.simple.Show(self.simple.OutputPort(trajectory, 1), view)
        marker.Representation = "Points"
        marker.PointSize = 12
        marker.RenderPointsAsSpheres = 1
        marker.ColorArrayName = ["POINTS", ""]
        marker.AmbientColor = marker.DiffuseColor = [0, 0, 0]
        view.ViewTime = self.steps[-1]
        trajectory.UpdatePipeline(self.steps[-1])
        # the two weights move over different ranges: stretch each axis to the same size,
        # and let the axes grid label the true values
        bounds = trajectory.GetDataInformation(0).GetBounds()
        scale = [1.0 / max(bounds[1] - bounds[0], 1e-12), 1.0 / max(bounds[3] - bounds[2], 1e-12), 1.0]
        path.Scale = marker.Scale = scale
        self.axes(view, f"{layer} weight 0", f"{layer} weight 1", scale)
        self.title(view, f"{layer}: path of the weight vector (first 2 weights), by step")
        self.flat_camera(view, trajectory, margin=1.5, scale=scale)
        self.save("fig3_trajectory.png", view)

    def _has_preset(self, name):
        from paraview import servermanager
        presets = servermanager.vtkSMTransferFunctionPresets.GetInstance() \
            if hasattr(servermanager.vtkSMTransferFunctionPresets, "GetInstance") \
            else servermanager.vtkSMTransferFunctionPresets()
        return presets.HasPreset(name)

    # ---- Fig. 4
    def activation_panel(self, view, layer, step, probe_image):
        """A layer's activation maps for one probe image, the image itself on the left."""
        maps = self.simple.ActivationMaps(Input=self.reader, Layer=layer, ProbeImage=probe_image)
        maps.UpdatePipeline(step)
        tiles = self.simple.Show(maps, view)
        tiles.Representation = "Slice"
        self.colour(tiles, view, "activation", "Inferno (matplotlib)", "activation",
                    association="POINTS")
        picture = self.simple.Show(self.simple.OutputPort(maps, 1), view)
        picture.Representation = "Slice"
        self.simple.ColorBy(picture, ("POINTS", "input"))
        gray = self.simple.GetColorTransferFunction("input")
        gray.ApplyPreset("Grayscale", True)
        gray.RescaleTransferFunction(0.0, 1.0)
        self.simple.HideScalarBarIfNotNeeded(gray, view)
        label = int(field_value(maps, "label"))
        self.title(view, f"{layer} activations, probe image {probe_image} (label {label})", 16)
        view.ViewTime = step
        self.flat_camera(view, maps)
        # the input image sits left of the tiles: frame both
        bounds = [min(a, b) if i % 2 == 0 else max(a, b) for i, (a, b) in enumerate(zip(
            maps.GetDataInformation(0).GetBounds(), maps.GetDataInformation(1).GetBounds()))]
        self._frame(view, bounds)
        return maps

    def correlation_panel(self, view, layer, step):
        """The Pearson correlation heatmap of a layer's filters."""
        correlation = self.simple.FilterCorrelation(Input=self.reader, Layer=layer)
        heat = self.simple.Show(self.simple.OutputPort(correlation, 1), view)
        heat.Representation = "Slice"
        self.colour(heat, view, "correlation", "Cool to Warm", "Pearson r", (-1.0, 1.0),
                    association="POINTS")
        correlation.UpdatePipeline(step)
        self.title(view, f"{layer} filter correlation", 16)
        view.ViewTime = step
        self.axes(view, "filter (row 0 at the top)", "", label_y=False)
        self.flat_camera(view, correlation, port=1, margin=1.45)
        return correlation

    def fig4(self, probe_image=0):
        step = self.steps[-1]
        for layer in self.conv_layers[:2]:
            layout = self.simple.CreateLayout(f"Fig. 4 {layer}")
            layout.SplitHorizontal(0, 0.5)
            view = self.render_view()
            self.simple.AssignViewToLayout(view=view, layout=layout, hint=1)
            self.activation_panel(view, layer, step, probe_image)
            heat_view = self.render_view()
            self.simple.AssignViewToLayout(view=heat_view, layout=layout, hint=2)
            correlation = self.correlation_panel(heat_view, layer, step)
            groups = int(field_value(correlation, "groups", 1))
            self.title(view, f"step {int(step)}", 16, "Lower Center")
            self.title(heat_view, f"step {int(step)}: {groups} groups at r >= 0.85", 16,
                       "Lower Center")
            self.save(f"fig4_{layer}.png", layout, (self.size[0] * 2, self.size[1]))

    def _frame(self, view, bounds):
        width, height = bounds[1] - bounds[0], bounds[3] - bounds[2]
        aspect = self.size[0] / self.size[1]
        camera = view.GetActiveCamera()
        camera.SetParallelScale(1.15 * max(height, width / aspect * 1.25) / 2)
        cx, cy = (bounds[0] + bounds[1]) / 2 + 0.12 * width, (bounds[2] + bounds[3]) / 2
        camera.SetFocalPoint(cx, cy, 0)
        camera.SetPosition(cx, cy, 100)

    # ---- Fig. 5
    def fig5(self):
        if not self.conv_layers:
            return
        layer = self.conv_layers[0]
        groups = self.simple.FilterGroups(Input=self.reader, Layer=layer)
        groups.UpdatePipeline(self.steps[-1])
        view = self.render_view()
        image = self.simple.Show(self.simple.OutputPort(groups, 1), view)
        image.Representation = "Slice"
        top = max(field_value(groups, "filters_now"), 1.0)
        lut = self.colour(image, view, "group", "Rainbow Uniform", "group id", (0.0, top),
                          association="POINTS")
        lut.UseBelowRangeColor = 1  # dead (-1) and merged-away (-2) filters: gray
        lut.BelowRangeColor = [0.45, 0.45, 0.45]
        self.axes(view, "filter", "snapshot (the first at the top)", label_y=False)
        merged = groups.GetDataInformation(0).DataInformation.GetFieldDataInformation() \
            .GetArrayInformation("merge_step").GetNumberOfTuples()
        lineage = f", {merged} merged away (gray)" if merged else ""
        self.title(view, f"{layer}: filter groups (r >= 0.85){lineage}\n"
                         "rows: snapshots, the first at the top", 18)
        self.flat_camera(view, groups, port=1, margin=1.4)
        self.save("fig5_groups.png", view)


PALETTE = [[0.85, 0.1, 0.1], [0.1, 0.3, 0.85], [0.1, 0.6, 0.2], [0.6, 0.3, 0.8],
           [0.9, 0.5, 0.1], [0.3, 0.3, 0.3]]


def render_comparison(simple, stores, labels, out_dir, size, layer="conv1"):
    """Several runs side by side (the poster's hyper-parameter study): a layer's weight norm
    and the smoothed training accuracy over the steps, one line per run, in sweep.png."""
    ensure_plugin(simple)
    layout = simple.CreateLayout("Comparison")
    layout.SplitHorizontal(0, 0.5)
    charts = []
    for cell, (column, title, axis, log) in zip((1, 2), [
            (f"{layer} weight norm", f"{layer}: L2 norm of the weights", "L2 norm", False),
            ("accuracy (smoothed)", "training accuracy (smoothed)", "accuracy", False)]):
        chart = simple.CreateView("XYChartView")
        chart.ViewSize = list(size)
        simple.AssignViewToLayout(view=chart, layout=layout, hint=cell)
        chart.ChartTitle, chart.ChartTitleFontSize = title, 18
        chart.LeftAxisTitle, chart.BottomAxisTitle = axis, "training step"
        chart.LeftAxisLogScale = int(log)
        chart.LegendLocation = "TopLeft" if cell == 2 else "BottomRight"
        charts.append((chart, column))
    for index, (store, label) in enumerate(zip(stores, labels)):
        reader = simple.TensorVizReader(FileName=store)
        norms = simple.NormTimeSeries(Input=reader)
        colour = [str(c) for c in PALETTE[index % len(PALETTE)]]
        for chart, column in charts:
            display = simple.Show(norms, chart)
            display.UseIndexForXAxis = 0
            display.XArrayName = "step"
            display.SeriesVisibility = [column]
            display.SeriesLabel = [column, label]
            display.SeriesColor = [column] + colour
            display.SeriesLineThickness = [column, "2"]
    path = os.path.join(out_dir, "sweep.png")
    simple.SaveScreenshot(path, layout, ImageResolution=[size[0] * 2, size[1]])
    print(f"wrote {path}", flush=True)
    return path


def standalone_script(options, root):
    """This module's source as a script that pvbatch runs as it is: the options given, the
    checkout on sys.path, the plugin's path fixed. Edit it to change any figure."""
    with open(os.path.abspath(__file__)) as f:
        source = f.read()
    source = source.replace(
        'PLUGIN_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),\n'
        '                           "plugin", "TensorViz.xml")',
        f"PLUGIN_PATH = {os.path.join(root, 'plugin', 'TensorViz.xml')!r}")
    head, _, _ = source.rpartition('if __name__ == "__main__":')
    return ("# Written by `tensorviz render --script`: the pvbatch script that made the figures.\n"
            "# Edit it and run it again: pvbatch THIS_FILE\n"
            f"import sys\nsys.path.insert(0, {root!r})  # tensorviz_pv, for the plugin's classes\n"
            + head + f"main({options!r})\n")


def main(argv):
    if argv and argv[0] == "--compare":  # render.py --compare OUT_DIR WxH STORE=LABEL...
        from paraview import simple
        width, height = (int(v) for v in argv[2].lower().split("x"))
        pairs = [item.rsplit("=", 1) for item in argv[3:]]
        render_comparison(simple, [p[0] for p in pairs], [p[1] for p in pairs], argv[1],
                          (width, height))
        return
    parser = argparse.ArgumentParser(prog="render.py")
    parser.add_argument("store")
    parser.add_argument("out_dir")
    parser.add_argument("--figures", default=",".join(FIGURES))
    parser.add_argument("--layer", default=None, help="layer of Fig. 2 (default: the first)")
    parser.add_argument("--steps", default=None, help="steps of Fig. 2, comma-separated")
    parser.add_argument("--size", default="800x700")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    figures = [f.strip() for f in args.figures.split(",") if f.strip()]
    unknown = sorted(set(figures) - set(FIGURES))
    if unknown:
        raise SystemExit(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    from paraview import simple
    os.makedirs(args.out_dir, exist_ok=True)
    renderer = Renderer(simple, args.store, args.out_dir, (width, height))
    steps = [float(s) for s in args.steps.split(",")] if args.steps else None
    for figure in figures:
        print(f"rendering {figure}", flush=True)
        if figure == "fig2":
            renderer.fig2(args.layer, steps)
        elif figure == "animation":
            renderer.animation(args.layer)
        else:
            getattr(renderer, figure)()


if __name__ == "__main__":
    # no sys.exit() on success: in Debian's pvbatch 5.11 it ends in an X error (GLXBadContext)
    # and exit status 1; failures raise SystemExit with their message
    main(sys.argv[1:])
