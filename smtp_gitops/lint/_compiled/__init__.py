"""Validators generated from the JSON Schema by ``smtp_gitops.lint.schema_compiler``
(do not edit the modules beside this one), and the exceptions they raise."""

from __future__ import annotations


class JsonSchemaValueException(ValueError):
    """The document breaks the schema. Only the fact matters here: the model says where."""

    def __init__(
        self,
        message: str,
        value: object = None,
        name: str | None = None,
        definition: object = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message)


class JsonSchemaValuesException(JsonSchemaValueException):
    """Several breaks at once (fastjsonschema's non-fast-fail mode, not used here)."""
