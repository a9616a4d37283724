# Shortcuts for the scripts the README names.
.PHONY: setup demo test plugin
setup:
	bash scripts/setup.sh
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
plugin:
	python3 scripts/assemble_plugin.py
