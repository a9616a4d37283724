"""The dashboard in a web page (`tensorviz serve`): a trame app run by pvpython, the views
rendered by ParaView on the serving machine and sent to the page as images."""
