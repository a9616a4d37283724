"""Figures and the dashboard, made with paraview.simple (pvbatch, pvpython or the GUI): one
module per figure. script.py, which writes the scripts that call them, imports no ParaView."""
