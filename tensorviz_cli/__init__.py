"""The `tensorviz` command line, above every tier of TensorViz: one module per command, the
ParaView launcher (launch.py) and the writer of the pvbatch scripts (scripts.py)."""
