"""Pick a filter in one view, see it in all: the Highlight property of the filter views
(algorithms/highlight.py) is linked across them, and a selection of cells in any of them (Select
Cells On, or simple.SelectIDs in a script) makes the selected filter the highlighted one."""

from paraview import servermanager, simple

from .colour import HIGHLIGHT

LINK_NAME = "TensorViz highlighted filter"
INPUT, OUTPUT = 1, 2  # vtkSMLink's directions
OUTLINE_PORT = 2  # the views' Highlight output (after their two own ones)


def show_highlight(proxy, view, drawn_port):
    """Draw a view's highlighted-filter outline in `view`, over its output `drawn_port` (at
    that display's scale)."""
    outline = simple.Show(simple.OutputPort(proxy, OUTLINE_PORT), view)
    outline.ColorArrayName = ["POINTS", ""]
    outline.AmbientColor = outline.DiffuseColor = HIGHLIGHT
    outline.LineWidth = 3.0
    outline.Scale = simple.GetDisplayProperties(simple.OutputPort(proxy, drawn_port), view).Scale
    return outline


def link_highlights(proxies, name=LINK_NAME):
    """Link the Highlight property of these views both ways: setting one sets all. The link is
    registered under `name`, so the state file keeps it."""
    link = servermanager.vtkSMPropertyLink()
    for proxy in proxies:
        link.AddLinkedProperty(proxy.SMProxy, "Highlight", INPUT)
        link.AddLinkedProperty(proxy.SMProxy, "Highlight", OUTPUT)
    manager = servermanager.ProxyManager()
    if manager.GetRegisteredLink(name) is not None:
        manager.UnRegisterLink(name)
    manager.RegisterLink(name, link)
    return link


def selected_filter(proxy, port, selection):
    """The filter id of the first selected cell of a view's output (its `filter` cell array),
    or None when the selection holds no cell of a filter."""
    extract = simple.ExtractSelection(Input=simple.OutputPort(proxy, port),
                                      Selection=servermanager._getPyProxy(selection))
    try:
        data = servermanager.Fetch(extract)
    finally:
        simple.Delete(extract)
    ids = data.GetCellData().GetArray("filter") if data is not None else None
    return int(ids.GetTuple1(0)) if ids is not None and ids.GetNumberOfTuples() else None


class FilterPicker:
    """tick(): when the selection on one of the watched (view proxy, output port)s is new,
    set that view's Highlight to the selected filter (the link passes it on)."""

    def __init__(self, watched):
        self.watched = list(watched)
        self.seen = {}

    def tick(self, *_):
        picked = None
        for proxy, port in self.watched:
            selection = proxy.SMProxy.GetSelectionInput(port)
            key = None if selection is None else (selection.GetGlobalIDAsString(),
                                                  selection.GetMTime())
            if key == self.seen.get((proxy, port)):
                continue
            self.seen[(proxy, port)] = key
            if selection is not None:
                chosen = selected_filter(proxy, port, selection)
                if chosen is not None:
                    proxy.Highlight = picked = chosen
        if picked is not None and simple.GetActiveView() is not None:
            simple.RenderAllViews()  # the linked views show the outline too
        return picked
