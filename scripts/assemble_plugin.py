"""Assemble xml/*.xml into plugin/TensorViz.xml, the single file that ParaView loads as a plugin
(Tools > Manage Plugins, or PV_PLUGIN_PATH for autoload).

Each xml/*.xml is a ServerManager configuration of its own (one proxy, or the shared bases);
the plugin is their proxy groups in one <ServerManagerConfiguration>, bases.xml first. Properties
that several views share are declared once there, as base proxies (base_proxyname=...).

  python3 scripts/assemble_plugin.py          write plugin/TensorViz.xml
  python3 scripts/assemble_plugin.py --check  exit 1 when plugin/TensorViz.xml is stale
"""

import pathlib
import sys
import xml.etree.ElementTree as ElementTree

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "plugin" / "TensorViz.xml"
ROOT_TAG = "ServerManagerConfiguration"
HEADER = ("<!-- TensorViz ParaView plugin. Generated from xml/*.xml by "
          "scripts/assemble_plugin.py: edit those, not this. -->\n")


def sources():
    """xml/*.xml, the shared bases first."""
    paths = sorted((ROOT / "xml").glob("*.xml"))
    return sorted(paths, key=lambda path: path.name != "bases.xml")


def proxy_groups(path):
    """The text inside a file's <ServerManagerConfiguration> (checked to be well-formed XML)."""
    text = path.read_text()
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise SystemExit(f"{path}: not well-formed XML ({error})") from None
    if root.tag != ROOT_TAG:
        raise SystemExit(f"{path}: the root element must be <{ROOT_TAG}>, not <{root.tag}>")
    return text[text.index(">", text.index("<" + ROOT_TAG)) + 1:text.rindex("</" + ROOT_TAG)].strip("\n")


def assemble():
    parts = [proxy_groups(path) + "\n" for path in sources()]
    return HEADER + f"<{ROOT_TAG}>\n" + "".join(parts) + f"</{ROOT_TAG}>\n"


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
