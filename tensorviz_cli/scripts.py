"""The pvbatch scripts that make figures: short, readable calls of the figure modules, which
`tensorviz render` and `tensorviz sweep` write and run (`--script FILE` keeps one to edit).
Imports no ParaView: the trainer's venv writes the scripts, ParaView's Python runs them."""

from tensorviz_pv.errors import SettingError

# figure name -> the calls that make it ({layer} and {steps}: the options given)
FIGURE_CALLS = {
    "fig2": ["weights.render(run, layer={layer}, steps={steps})"],
    "fig3": ["norms.render(run)", "trajectory.render(run)"],
    "fig4": ["activations.render(run)"],
    "fig5": ["groups.render(run, layer={layer})"],
    "fig6": ["atlas.render(run, layer={layer})"],
    "fig7": ["health.render(run)"],
    "fig8": ["health.render_health(run)"],
    "reduction": ["reduction.render(run)"],
    "animation": ["animation.render(run, layer={layer})"],
}
FIGURES = tuple(FIGURE_CALLS)
CHARTS_FIRST = ("fig3",)


def chosen_figures(text):
    """'fig2, fig4' -> ['fig2', 'fig4'], in the order given; SettingError names unknown ones."""
    figures = [f.strip() for f in text.split(",") if f.strip()]
    unknown = sorted(set(figures) - set(FIGURES))
    if unknown or not figures:
        raise SettingError(f"unknown figure(s) {', '.join(unknown) or '(none given)'}; "
                           f"choose from {', '.join(FIGURES)}")
    return figures


def parse_size(text):
    """'800x700' -> (800, 700)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        width = height = 0
    if width <= 0 or height <= 0:
        raise SettingError(f"size {text!r}: give WIDTHxHEIGHT in pixels, e.g. 800x700")
    return width, height


def parse_steps(text):
    """'0,500,1000' -> [0.0, 500.0, 1000.0]; None or '' -> None (the figure's own choice)."""
    if not text:
        return None
    try:
        return [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise SettingError(f"steps {text!r}: give step numbers, e.g. 0,500,1000") from None


# the last line of a script's imports: what the figures log ("wrote ...png") printed from pvbatch
_SHOW_MESSAGES = ("from tensorviz_pv.messages import show_messages; show_messages()"
                  "  # prints what the figures say\n\n")


def _header(root, what):
    """The script's first lines. `what` is this module's own words: whatever a user named (a
    path, a layer) reaches a script only as a repr() literal, never in a comment or as code."""
    return (f"# Written by TensorViz: the pvbatch script that makes {what}.\n"
            "# Edit it and run it again: pvbatch THIS_FILE\n"
            "import sys\n"
            f"sys.path.insert(0, {root!r})  # tensorviz_pv: figures, plugin classes\n")


def figures_script(root, store, out_dir, figures, size, layer=None, steps=None):
    """The script that renders `figures` (names of FIGURES) of the run `store` into `out_dir`,
    the line charts first (pvbatch draws a chart after a 3D view with faint second copies of its
    tick labels)."""
    figures = sorted(figures, key=lambda figure: figure not in CHARTS_FIRST)
    blocks = [(figure, [call.format(layer=repr(layer), steps=repr(steps))
                        for call in FIGURE_CALLS[figure]]) for figure in figures]
    modules = sorted({call.split(".")[0] for _, calls in blocks for call in calls})
    return (_header(root, "the figures of a run (named below)")
            + f"from tensorviz_pv.figures import {', '.join(modules)}\n"
            "from tensorviz_pv.figures.session import FigureRun\n"
            + _SHOW_MESSAGES
            + f"run = FigureRun.for_script({store!r}, {out_dir!r}, size={tuple(size)!r})\n"
            + "".join(f"with run.figure({figure!r}):\n" + "".join(f"    {call}\n" for call in calls)
                      for figure, calls in blocks)
            + "run.finish()\n")


def comparison_script(root, paths, out_dir, size, layer=None, matching_layer=None, step=None,
                      norms_name="compare_norms.png"):
    """The script that draws the comparison of the runs `paths` name (folders of runs, run
    directories, stores) into out_dir, with its state file for the GUI."""
    return (_header(root, "the comparison of several runs")
            + "from tensorviz_pv.figures import comparison\n"
            + _SHOW_MESSAGES
            + f"comparison.main({list(paths)!r}, {out_dir!r}, {tuple(size)!r},\n"
            f"                layer={layer!r}, matching_layer={matching_layer!r}, step={step!r},\n"
            f"                norms_name={norms_name!r})\n")
