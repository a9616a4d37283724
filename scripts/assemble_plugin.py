"""Assemble xml/*.xml (one proxy group each) into plugin/TensorViz.xml, the single file that
ParaView loads as a plugin (Tools > Manage Plugins, or PV_PLUGIN_PATH for autoload).

  python3 scripts/assemble_plugin.py          write plugin/TensorViz.xml
  python3 scripts/assemble_plugin.py --check  exit 1 when plugin/TensorViz.xml is stale
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "plugin" / "TensorViz.xml"
HEADER = ("<!-- TensorViz ParaView plugin. Generated from xml/*.xml by "
          "scripts/assemble_plugin.py: edit those, not this. -->\n")


def assemble():
    parts = [path.read_text() for path in sorted((ROOT / "xml").glob("*.xml"))]
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
