"""What a proxy's output holds, asked of ParaView's data information (nothing fetched): the
one-value field arrays the views put out (a colour limit, a count), a cell array's range; or
the output itself, as the algorithm made it."""

from ..errors import FigureError


def _no_output(source):
    return FigureError(f"{source.GetXMLLabel()} made no output (the message above says why)")


def field_value(source, name, port=0, row=0):
    """A one-value field-data array of a proxy's output (its data information; of a longer
    array, row 0 is the lowest value, row 1 the highest); FigureError when the view made no
    output (it said why in the output messages)."""
    info = source.GetDataInformation(port).DataInformation.GetFieldDataInformation()
    array = info.GetArrayInformation(name)
    if array is None:
        raise _no_output(source)
    return array.GetComponentRange(0)[row]


def _cell_array(source, name, port):
    info = source.GetDataInformation(port).DataInformation.GetCellDataInformation()
    return info.GetArrayInformation(name)


def has_cell_array(source, name, port=0):
    return _cell_array(source, name, port) is not None


def array_range(source, name, port=0):
    """(lowest, highest) of a cell array of a proxy's output; FigureError when it has none."""
    array = _cell_array(source, name, port)
    if array is None:
        raise _no_output(source)
    return array.GetComponentRange(0)


def fetched(source, port=0, time=None):
    """A source's output at `time` (the last asked when None), as the algorithm made it (the
    figures run in pvbatch: the algorithms are in this process)."""
    if time is not None:
        source.UpdatePipeline(time)
    return source.GetClientSideObject().GetOutputDataObject(port)
