"""TensorViz, ParaView side: the run store, pure-numpy analysis and thin VTK classes.

Never imports TensorFlow: this package runs in ParaView's own Python (numpy 1.24, h5py 3.7)
as well as in the trainer's venv (numpy 2.x).
"""

__version__ = "0.1.0"
