"""Deploy: writing the rendered config and reloading the nodes so that they converge to git,
the state that says what each node runs, drift (``status``), and the reference receiver."""
