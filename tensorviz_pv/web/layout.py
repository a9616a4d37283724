"""The page of `tensorviz serve` as the browser gets it (trame's Vue template, built once): the
toolbar (run, play, step slider, step, picked filter, follow, compare, layer group, layer), the
training control's bar of a --steer page, the alerts line, and the views' grid: the dashboard's
six views, or a folder's comparison. The page's events go to the Page (web/app.py)."""

from trame.ui.vuetify3 import SinglePageLayout
from trame.widgets import html, paraview as pv_widgets, vuetify3 as v3

from .board import VIEWS
from .compare_board import COMPARE_VIEWS
from .steering import BUTTONS

# inline styles: a <style> element in a Vue template is dropped
# under the toolbar: the steering bar (if any), the alerts, the views taking the height left
CONTENT = "display: flex; flex-direction: column; height: calc(100vh - 64px - 28px)"  # less the toolbar and footer
GRID = ("display: grid; gap: 4px; flex: 1; min-height: 0; padding: 4px; background: #ddd; "
        "grid-template-columns: {columns}; grid-template-rows: {rows}")
# the GUI dashboard's layout (figures/dashboard.py): 2 x 2 views, the Filter Atlas tall at the
# right over the Filter Health
DASHBOARD = GRID.format(columns="35fr 35fr 30fr", rows="50fr 15fr 35fr")
DASHBOARD_PLACES = {"glyph_view": "1 / 1 / 2 / 2", "maps_view": "2 / 1 / 4 / 2",
                    "chart": "1 / 2 / 2 / 3", "heat_view": "2 / 2 / 4 / 3",
                    "atlas_view": "1 / 3 / 3 / 4", "health_view": "3 / 3 / 4 / 4"}
# the comparison: the three charts over the matching's three views
COMPARISON = GRID.format(columns="1fr 1fr 1fr", rows="1fr 1fr")
CELL = "position: relative; background: white; min-height: 0; min-width: 0; overflow: hidden"
NAME = ("position: absolute; right: 6px; bottom: 2px; z-index: 2; font: 12px sans-serif; "
        "color: #555; pointer-events: none")
ALERTS = ("font: 13px sans-serif; padding: 2px 12px; height: 24px; flex: none; overflow: hidden; "
          "white-space: nowrap; text-overflow: ellipsis")
# a click's place in the view's box, and the box's size, in CSS pixels
CLICK = ("$event.clientX - $event.currentTarget.getBoundingClientRect().left, "
         "$event.clientY - $event.currentTarget.getBoundingClientRect().top, "
         "$event.currentTarget.clientWidth, $event.currentTarget.clientHeight")


def build(page):
    """The page's template; fills page.widgets (dashboard view name -> remote view) and
    page.compare_widgets (those of the comparison, when the page compares runs)."""
    with SinglePageLayout(page.server, full_height=True) as layout:
        layout.title.set_text("TensorViz")
        with layout.toolbar:
            _toolbar(page)
        with layout.content, html.Div(style=CONTENT):
            if page.steer:
                _steering_bar(page)
            html.Div("{{ busy || (compare ? compare_message : alerts) }}", id="alerts",
                     style=ALERTS, classes=("!compare && alerts === 'no alerts' || compare && "
                                            "!compare_message ? 'text-grey-darken-3' : 'text-red'",))
            with html.Div(style=DASHBOARD, v_if="!compare", id="dashboard"):
                for name, label in VIEWS:
                    page.widgets[name] = _view_cell(
                        name, label, page.board.views[name], DASHBOARD_PLACES[name],
                        click=(page.on_click, f"['{name}', {CLICK}]"))
            if page.compare is not None:
                with html.Div(style=COMPARISON, v_else=True, id="comparison"):
                    for name, label in COMPARE_VIEWS:
                        page.compare_widgets[name] = _view_cell(
                            name, label, page.compare.views[name], "auto")
        return layout


def _toolbar(page):
    html.Div("{{ run }}", classes="mx-2 text-subtitle-1", id="run-label", v_if="runs.length < 2")
    v3.VSelect(v_model=("run",), items=("runs",), label="run", hide_details=True,
               density="compact", id="run", style="max-width: 220px", v_if="runs.length > 1")
    v3.VSpacer()
    with v3.VBtn(icon=True, click=page.toggle_play, id="play", density="compact"):
        v3.VIcon("{{ playing ? 'mdi-pause' : 'mdi-play' }}")
    v3.VSlider(v_model=("step_index",), min=0, max=("step_count - 1",), step=1,
               hide_details=True, density="compact", id="step-slider",
               style="max-width: 420px; min-width: 200px")
    html.Div("{{ step_label }}", id="step-label", classes="mx-3", style="min-width: 90px")
    html.Div("{{ picked >= 0 ? 'filter ' + picked : '' }}", id="picked", classes="mx-2",
             style="min-width: 60px")
    v3.VSwitch(v_model=("follow",), label="follow", hide_details=True, density="compact",
               id="follow", classes="mx-2", color="primary")
    if page.compare is not None:
        v3.VSwitch(v_model=("compare",), label="compare", hide_details=True, density="compact",
                   id="compare", classes="mx-2", color="primary")
    v3.VSelect(v_model=("group",), items=("groups",), label="layer group", hide_details=True,
               density="compact", id="layer-group", style="max-width: 200px",
               v_if="groups.length")
    v3.VAutocomplete(v_model=("layer",), items=("layers",), label="layer", hide_details=True,
                     density="compact", id="layer", style="max-width: 260px")


def _steering_bar(page):
    """The training control's buttons, the learning rate and the last answer (on a page
    started with --steer, shown while its run is live)."""
    with html.Div(v_if="steerable", id="steering", classes="d-flex align-center px-2",
                  style="gap: 6px; font: 13px sans-serif"):
        html.Span("{{ training }}", id="training", style="min-width: 160px")
        for name, _, label in BUTTONS:
            v3.VBtn(label, click=(page.on_steer, f"['{name}']"), id=f"steer-{name}",
                    size="small", variant="tonal")
        v3.VTextField(v_model=("learning_rate",), label="learning rate", id="learning-rate",
                      hide_details=True, density="compact", style="max-width: 130px")
        v3.VBtn("apply", click=(page.on_steer, "['learning_rate']"), id="steer-learning_rate",
                size="small", variant="tonal")
        html.Span("{{ steer_answer }}", id="steer-answer", classes="ml-2")


def _view_cell(name, label, view, place, click=None):
    """One view: its image and its name (and its clicks, when `click` takes them); returns
    its remote view."""
    with html.Div(style=f"{CELL}; grid-area: {place}", classes="tv-cell", id=name,
                  **({"click": click} if click else {})):
        html.Div(label, style=NAME)
        return pv_widgets.VtkRemoteView(view, interactive_ratio=1, still_quality=95,
                                        style="position: absolute; inset: 0")
