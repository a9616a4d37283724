"""TensorViz, ParaView side. Never imports TensorFlow: it runs in ParaView's own Python (numpy
1.24, h5py 3.7) as well as in the trainer's venv (numpy 2.x).

Subpackages, in tiers; each imports only the tiers below it (tests/common/test_tiers.py):
  store/       numpy + h5py: the run store's format names, writer, reader, run summary
  analysis/    numpy only: arrays in, arrays out (correlation, norms, geometry, tiles, ...)
  algorithms/  vtkmodules: the VTKPythonAlgorithmBase reader and views of the plugin
  figures/     paraview.simple: the figures, the run comparison and the dashboard
"""

__version__ = "0.1.0"
