"""numpy -> VTK conversion, the only place that builds VTK arrays from numpy."""

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
from vtkmodules.vtkCommonCore import vtkPoints, vtkStringArray
from vtkmodules.vtkCommonDataModel import vtkCellArray


def vtk_array(name, values):
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        values = values.astype(np.uint8)  # numpy_to_vtk rejects bool
    array = numpy_to_vtk(values, deep=1)
    array.SetName(name)
    return array


def string_array(name, values):
    array = vtkStringArray()
    array.SetName(name)
    for value in values:
        array.InsertNextValue(str(value))
    return array


def set_polygons(polydata, points, faces):
    """Fill a vtkPolyData with points (n, 3) and same-size polygons (m, k) of point ids."""
    vtk_points = vtkPoints()
    vtk_points.SetData(numpy_to_vtk(np.ascontiguousarray(points, dtype=np.float32), deep=1))
    polydata.SetPoints(vtk_points)
    faces = np.asarray(faces, dtype=np.int64)
    offsets = np.arange(0, faces.size + 1, max(faces.shape[1], 1) if faces.ndim == 2 else 1,
                        dtype=np.int64)
    cells = vtkCellArray()
    cells.SetData(numpy_to_vtkIdTypeArray(offsets, deep=1),
                  numpy_to_vtkIdTypeArray(np.ascontiguousarray(faces.ravel()), deep=1))
    polydata.SetPolys(cells)


def add_field(dataobject, name, values):
    dataobject.GetFieldData().AddArray(vtk_array(name, np.atleast_1d(values)))


def add_cell(dataset, name, values):
    dataset.GetCellData().AddArray(vtk_array(name, values))
