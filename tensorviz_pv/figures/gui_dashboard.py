"""Run by the ParaView GUI (`paraview --script=...`; `tensorviz paraview RUN_DIR` starts it):
builds the dashboard for the run named by TENSORVIZ_RUN (of the layer TENSORVIZ_LAYER names,
else its first convolution), saves it as a state file in the run directory, outlines a filter
clicked in one view in all, and follows a training run when TENSORVIZ_FOLLOW is set. A run
that cannot be shown is said in a line, and ParaView exits with status 1."""

import os

from paraview import simple

from tensorviz_pv.errors import TensorVizError
from tensorviz_pv.figures import dashboard, gui_defaults
from tensorviz_pv.messages import logger, show_messages

LOG = logger("figures")


def main():
    show_messages()
    store = os.environ["TENSORVIZ_RUN"]
    gui_defaults.install()  # filters applied by hand come up with readable colours
    try:
        views = dashboard.build(store, layer=os.environ.get("TENSORVIZ_LAYER") or None)
    except TensorVizError as error:
        LOG.error(f"TensorViz: {error}")
        raise SystemExit(1)  # this script is the program: nothing to show, ParaView ends
    saved = dashboard.save_state(os.path.dirname(store))
    LOG.info(f"TensorViz: dashboard state saved as {saved}" if saved else
             f"TensorViz: the dashboard state could not be saved in {os.path.dirname(store)} "
             "(not writable); the dashboard works all the same")
    dashboard.repeat(views["picker"].tick, 0.5)  # a click on a filter outlines it everywhere
    if os.environ.get("TENSORVIZ_FOLLOW"):
        dashboard.follow(views["reader"], alerts=views["alerts"], steering=views["steering"])
    simple.Render()


if __name__ == "__main__":  # also under `paraview --script`
    main()
