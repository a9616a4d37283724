"""Run by the ParaView GUI (`paraview --script=...`; `tensorviz paraview RUN_DIR` starts it):
builds the dashboard for the run named by TENSORVIZ_RUN, saves it as a state file in the run
directory, and follows a training run when TENSORVIZ_FOLLOW is set."""

import os

from paraview import simple

from tensorviz_pv import dashboard

store = os.environ["TENSORVIZ_RUN"]
views = dashboard.build(simple, store)
print("TensorViz: dashboard state saved as", dashboard.save_state(simple, os.path.dirname(store)))
if os.environ.get("TENSORVIZ_FOLLOW"):
    dashboard.follow(simple, views["reader"])
simple.Render()
