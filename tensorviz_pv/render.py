"""Scripted renders with paraview.simple; run by pvbatch (`tensorviz render` starts it).

  pvbatch tensorviz_pv/render.py STORE OUT_DIR [--layer NAME] [--size WxH]

Writes fig2_weights.png (the poster's Fig. 2: a layer's weight glyphs at the first, middle and
last recorded step, side by side) and one PNG per step, fig2_step<N>.png.
"""

import argparse
import os
import sys


def _plugin_path():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(here), "plugin", "TensorViz.xml")


def ensure_plugin(simple):
    """Load the plugin unless PV_PLUGIN_PATH already auto-loaded it."""
    if not hasattr(simple, "TensorVizReader"):
        simple.LoadPlugin(_plugin_path(), ns=vars(simple))


def three_steps(steps):
    """First, middle and last of the recorded steps (the poster shows 0, 4k and 8k)."""
    steps = sorted(steps)
    return [steps[0], steps[len(steps) // 2], steps[-1]]


def style_glyph_view(simple, view, source, layer, step, limit):
    display = simple.Show(source, view)
    simple.ColorBy(display, ("CELLS", "kernel"))
    lut = simple.GetColorTransferFunction("kernel")
    lut.ApplyPreset("Cool to Warm", True)
    lut.RescaleTransferFunction(-limit, limit)
    lut.AutomaticRescaleRangeMode = "Never"
    bar = simple.GetScalarBar(lut, view)
    bar.Title = "weight"
    bar.ComponentTitle = ""
    bar.Visibility = 1
    bar.WindowLocation = "Any Location"
    bar.Position = [0.85, 0.08]
    bar.ScalarBarLength = 0.5
    bar.TitleColor = bar.LabelColor = [0.1, 0.1, 0.1]
    title = simple.Text(Text=f"{layer} weights, step {int(step)}")
    text = simple.Show(title, view)
    text.WindowLocation = "Upper Center"
    text.FontSize = 22
    text.Color = [0.1, 0.1, 0.1]
    view.Background = [1.0, 1.0, 1.0]
    if hasattr(view, "UseColorPaletteForBackground"):
        view.UseColorPaletteForBackground = 0
    view.OrientationAxesVisibility = 0
    view.ViewTime = step


def oblique_camera(simple, view, source):
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
    # slide right so the right edge is left to the colour legend
    shift = 0.14 * size
    focal, position = camera.GetFocalPoint(), camera.GetPosition()
    camera.SetFocalPoint(focal[0] + shift, focal[1], focal[2])
    camera.SetPosition(position[0] + shift, position[1], position[2])


def render_fig2(simple, store, out_dir, layer=None, size=(800, 700)):
    ensure_plugin(simple)
    reader = simple.TensorVizReader(FileName=store)
    steps = list(reader.TimestepValues) if reader.TimestepValues else []
    if not steps:
        raise SystemExit(f"{store}: no recorded steps to render")
    glyphs = simple.WeightGlyphs(Input=reader)
    if layer:
        glyphs.Layer = layer
    layer = glyphs.Layer[0]
    glyphs.HeightScale = 4.0  # conv weights are ~0.1-0.5: taller boxes read better
    chosen = three_steps(steps)
    glyphs.UpdatePipeline(chosen[-1])
    limit = glyphs.GetDataInformation().DataInformation.GetFieldDataInformation() \
        .GetArrayInformation("colour_limit").GetComponentRange(0)[1]
    layout = simple.CreateLayout("Fig. 2")
    layout.SplitHorizontal(0, 1.0 / 3.0)
    layout.SplitHorizontal(2, 0.5)
    written = []
    for cell, step in zip((1, 5, 6), chosen):
        view = simple.CreateView("RenderView")
        view.ViewSize = list(size)
        simple.AssignViewToLayout(view=view, layout=layout, hint=cell)
        glyphs.UpdatePipeline(step)
        style_glyph_view(simple, view, glyphs, layer, step, limit)
        oblique_camera(simple, view, glyphs)
        path = os.path.join(out_dir, f"fig2_step{int(step)}.png")
        simple.SaveScreenshot(path, view, ImageResolution=list(size))
        written.append(path)
    layout_path = os.path.join(out_dir, "fig2_weights.png")
    simple.SaveScreenshot(layout_path, layout, ImageResolution=[size[0] * 3, size[1]])
    written.append(layout_path)
    return written


def main(argv):
    parser = argparse.ArgumentParser(prog="render.py")
    parser.add_argument("store")
    parser.add_argument("out_dir")
    parser.add_argument("--layer", default=None)
    parser.add_argument("--size", default="800x700")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    from paraview import simple
    os.makedirs(args.out_dir, exist_ok=True)
    for path in render_fig2(simple, args.store, args.out_dir, args.layer, (width, height)):
        print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    # no sys.exit() on success: in Debian's pvbatch 5.11 it ends in an X error (GLXBadContext)
    # and exit status 1; failures raise SystemExit with their message
    main(sys.argv[1:])
