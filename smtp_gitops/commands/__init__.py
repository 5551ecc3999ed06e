"""The command line: the click group (``cli.py``) and one module per command, each a thin
layer over the stages below it."""
