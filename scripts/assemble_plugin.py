"""Assemble xml/*.xml (one proxy group each) into plugin/TensorViz.xml, the single file that
ParaView loads as a plugin (Tools > Manage Plugins, or PV_PLUGIN_PATH for autoload).

Two shorthands keep the proxies short: <TensorVizInput/> becomes the Input property that takes
a TensorViz Reader (or any filter below one), and <TensorVizLayer/> the Layer property whose
list holds the run's layer names.

  python3 scripts/assemble_plugin.py          write plugin/TensorViz.xml
  python3 scripts/assemble_plugin.py --check  exit 1 when plugin/TensorViz.xml is stale
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "plugin" / "TensorViz.xml"
HEADER = ("<!-- TensorViz ParaView plugin. Generated from xml/*.xml by "
          "scripts/assemble_plugin.py: edit those, not this. -->\n")

SHORTHANDS = {
    "<TensorVizInput/>": """<InputProperty name="Input" command="SetInputConnection">
        <ProxyGroupDomain name="groups"><Group name="sources"/><Group name="filters"/></ProxyGroupDomain>
        <DataTypeDomain name="input_type"><DataType value="vtkDataObject"/></DataTypeDomain>
        <Documentation>A TensorViz Reader, or a filter below one.</Documentation>
      </InputProperty>""",
    "<TensorVizLayer/>": """<StringVectorProperty name="LayerNames" command="GetLayerNames" information_only="1">
        <StringArrayHelper/>
      </StringVectorProperty>
      <StringVectorProperty name="Layer" command="SetLayer" number_of_elements="1">
        <StringListDomain name="list">
          <RequiredProperties><Property name="LayerNames" function="ArrayList"/></RequiredProperties>
        </StringListDomain>
        <Documentation>The layer shown, by name.</Documentation>
      </StringVectorProperty>""",
}


def assemble():
    parts = []
    for path in sorted((ROOT / "xml").glob("*.xml")):
        text = path.read_text()
        for shorthand, expansion in SHORTHANDS.items():
            text = text.replace(shorthand, expansion)
        parts.append(text)
    return HEADER + "<ServerManagerConfiguration>\n" + "".join(parts) + "</ServerManagerConfiguration>\n"


def main(argv):
    text = assemble()
    if "--check" in argv:
        if not PLUGIN.exists() or PLUGIN.read_text() != text:
            print(f"{PLUGIN} is stale: run python3 scripts/assemble_plugin.py", file=sys.stderr)
            return 1
        return 0
    PLUGIN.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
