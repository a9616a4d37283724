"""numpy -> VTK conversion, the only place that builds VTK arrays from numpy."""

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray, vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkIdTypeArray, vtkPoints, vtkStringArray
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


def new_array(name, tuples, components, dtype):
    """An empty VTK array and a numpy view of its memory, to be filled in place."""
    from vtkmodules.util.numpy_support import get_vtk_array_type
    from vtkmodules.vtkCommonCore import vtkDataArray
    array = vtkDataArray.CreateDataArray(get_vtk_array_type(np.dtype(dtype)))
    array.SetName(name)
    array.SetNumberOfComponents(components)
    array.SetNumberOfTuples(tuples)
    view = vtk_to_numpy(array)
    return array, view.reshape(tuples, components) if components > 1 else view


def build_polygons(polydata, n_points, n_polygons, corners, fill_points, fill_polygons):
    """A vtkPolyData of same-size polygons whose points and point ids are written in place by
    fill_points(view (n_points, 3) float32) and fill_polygons(view (n_polygons, corners))."""
    points_array, points_view = new_array("Points", n_points, 3, np.float32)
    fill_points(points_view)
    points = vtkPoints()
    points.SetData(points_array)
    polydata.SetPoints(points)
    connectivity = vtkIdTypeArray()
    connectivity.SetNumberOfValues(n_polygons * corners)
    fill_polygons(vtk_to_numpy(connectivity).reshape(n_polygons, corners))
    offsets = numpy_to_vtkIdTypeArray(np.arange(0, n_polygons * corners + 1, corners, dtype=np.int64), deep=1)
    cells = vtkCellArray()
    cells.SetData(offsets, connectivity)
    polydata.SetPolys(cells)


def add_field(dataobject, name, values):
    dataobject.GetFieldData().AddArray(vtk_array(name, np.atleast_1d(values)))


def add_cell(dataset, name, values):
    dataset.GetCellData().AddArray(vtk_array(name, values))


def _cell_array(lists):
    """A vtkCellArray from a list of point-id arrays (any lengths)."""
    lengths = np.array([len(ids) for ids in lists], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    connectivity = np.concatenate([np.asarray(ids, dtype=np.int64) for ids in lists]) \
        if lists else np.zeros(0, dtype=np.int64)
    cells = vtkCellArray()
    cells.SetData(numpy_to_vtkIdTypeArray(offsets, deep=1),
                  numpy_to_vtkIdTypeArray(np.ascontiguousarray(connectivity), deep=1))
    return cells


def set_cells(polydata, points, lines=None, vertices=False):
    """Points (n, 3) with polylines (lists of point ids) and/or one vertex per point."""
    vtk_points = vtkPoints()
    # reshaped: an empty list of points must still be (0, 3), or vtkPoints refuses it
    points = np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 3)
    vtk_points.SetData(numpy_to_vtk(points, deep=1))
    polydata.SetPoints(vtk_points)
    if lines:
        polydata.SetLines(_cell_array(lines))
    if vertices:
        polydata.SetVerts(_cell_array([[i] for i in range(len(points))]))


def set_image(image, values, name, origin=(0.0, 0.0, 0.0)):
    """A 2D vtkImageData whose cells are the pixels of values (rows, cols): pixel (i, j) spans
    x in [j, j + 1] and y in [-i - 1, -i] from `origin` (row 0 at the top), so that labels at
    (j + 0.5, -i - 0.5) sit on pixel centres and nothing is interpolated between pixels."""
    values = np.asarray(values)
    rows, cols = values.shape[:2]
    image.SetDimensions(cols + 1, rows + 1, 1)
    image.SetOrigin(origin[0], origin[1] - rows, origin[2])
    image.SetSpacing(1.0, 1.0, 1.0)
    add_image_array(image, name, values)
    image.GetCellData().SetActiveScalars(name)


def add_image_array(image, name, values):
    """One more array of an image made by set_image: values (rows, cols), row 0 at the top."""
    values = np.asarray(values)
    rows, cols = values.shape[:2]
    flipped = values[::-1].reshape(rows * cols, *values.shape[2:])  # VTK: x fastest, y up
    image.GetCellData().AddArray(vtk_array(name, flipped))


def text_labels(polydata, texts, xs, ys, height=1.0, z=0.0, tilt=0.0):
    """Polygon text (vtkVectorText) of each string, its lower left corner at (x, y, z), stood up
    by `tilt` degrees about the x axis (90: upright, facing -y)."""
    from vtkmodules.vtkCommonTransforms import vtkTransform
    from vtkmodules.vtkFiltersCore import vtkAppendPolyData
    from vtkmodules.vtkFiltersGeneral import vtkTransformPolyDataFilter
    from vtkmodules.vtkRenderingFreeType import vtkVectorText
    append = vtkAppendPolyData()
    for text, x, y in zip(texts, xs, ys):
        source = vtkVectorText()
        source.SetText(str(text))
        place = vtkTransform()
        place.Translate(float(x), float(y), float(z))
        place.RotateX(tilt)
        place.Scale(height, height, height)
        moved = vtkTransformPolyDataFilter()
        moved.SetInputConnection(source.GetOutputPort())
        moved.SetTransform(place)
        append.AddInputConnection(moved.GetOutputPort())
    if texts:
        append.Update()
        polydata.ShallowCopy(append.GetOutput())
