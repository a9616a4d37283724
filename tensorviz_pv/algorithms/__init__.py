"""The plugin's VTK algorithms (vtkmodules only, never paraview.simple): the TensorViz Reader
and one module per view. Their proxies are declared in xml/, whose class= attributes point here."""
