"""The glyphs over training: one frame per snapshot step of the layer's weights (at most
FRAMES, evenly spread) in animation/, and fig2_animation.mp4 where ffmpeg is installed."""

import os
import shutil
import subprocess

from paraview import simple

from ..messages import logger
from ..store import format as F
from .text import title
from .views import render_view
from .weights import glyphs, show_glyphs

FRAMES = 60
LOG = logger("figures")


def render(run, layer=None, frames=FRAMES):
    proxy, layer, limit = glyphs(run, layer)
    view = render_view(run.size)
    show_glyphs(view, proxy, limit)
    label = title(view, "")
    quantity = F.shown_variable(run.stored.layer_info(layer))  # the glyphs' (their Quantity's)
    snapshots = [float(s) for s in run.stored.series_steps(layer, quantity)]  # where they change
    pick = sorted(set(int(round(i)) for i in
                      [k * (len(snapshots) - 1) / max(frames - 1, 1) for k in range(frames)]))
    folder = os.path.join(run.out_dir, "animation")
    os.makedirs(folder, exist_ok=True)
    for frame, index in enumerate(pick):
        step = snapshots[index]
        label.Text = f"{layer} weights, step {int(step)}"
        view.ViewTime = step
        path = os.path.join(folder, f"glyphs_{frame:04d}.png")
        simple.SaveScreenshot(path, view, ImageResolution=list(run.size))
    LOG.info(f"wrote {len(pick)} frames in {folder}")
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg:
        movie = os.path.join(run.out_dir, "fig2_animation.mp4")
        subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-framerate", "10", "-i",
                        os.path.join(folder, "glyphs_%04d.png"), "-pix_fmt", "yuv420p",
                        "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", movie], check=True)
        run.written.append(movie)
        LOG.info(f"wrote {movie}")
