"""Lint: each settings file parsed into located nodes, checked against the schema and the
semantic rules (``rules/``, one module per rule), with suppressions, rule selection, the project
configuration and the reporters (``reporters/``, one module per output format)."""
