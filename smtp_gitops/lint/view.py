"""A schema-valid document read the way the model's objects are read, without pydantic.

``validate`` checks a clean file against the compiled JSON Schema only, which also fills in the
model's defaults; the rules then read that plain document through these records. A record
answers attribute for attribute like the model object in its place (``settings.spec.sets[0]
.port``), and the behaviour beyond the fields (``effective_set()``, ``secret_path``) is the
model's own, from ``behaviour.py``. A test compares the two on the schema-sync corpus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from smtp_gitops.settings.behaviour import (
    SetBehaviour,
    SettingsFileBehaviour,
    SettingsFileV2Behaviour,
    SetV2Behaviour,
)
from smtp_gitops.settings.vocabulary import API_VERSION_V2

if TYPE_CHECKING:
    from smtp_gitops.settings.model import Settings


class Record:
    """A mapping read as attributes; ``_children`` names the record type of a field's mappings
    (those with behaviour of their own), the others are plain records.

    A field is read from the mapping on first use and then kept as an ordinary attribute: the
    rules ask the same questions of every set many times over.
    """

    _children: ClassVar[dict[str, type[Record]]] = {}

    def __init__(self, data: dict[str, object]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> object:
        if name.startswith("_"):  # never a field; and `_data` itself before it is set
            raise AttributeError(name)
        try:
            value = _read(self._data[name], self._children.get(name, Record))
        except KeyError:
            raise AttributeError(name) from None
        setattr(self, name, value)
        return value


def _read(value: object, kind: type[Record]) -> object:
    if isinstance(value, dict):
        return kind(value)
    if isinstance(value, list):
        return [_read(item, kind) for item in value]
    return value


class SetView(SetBehaviour, Record):
    """A v1 set."""


class SetV2View(SetV2Behaviour, Record):
    """A v2 set."""


class _SpecView(Record):
    _children: ClassVar[dict[str, type[Record]]] = {"sets": SetView}


class _SpecV2View(Record):
    _children: ClassVar[dict[str, type[Record]]] = {"sets": SetV2View}


class _DocumentView(Record):
    def sets(self) -> list[object]:
        """``spec.sets``, as the model's documents answer it."""
        return list(cast("list[object]", self.spec.sets))  # type: ignore[attr-defined]


class SettingsFileView(SettingsFileBehaviour, _DocumentView):
    _children: ClassVar[dict[str, type[Record]]] = {"spec": _SpecView}


class SettingsFileV2View(SettingsFileV2Behaviour, _DocumentView):
    _children: ClassVar[dict[str, type[Record]]] = {"spec": _SpecV2View}


def settings_view(document: dict[str, object]) -> Settings:
    """``document`` (schema-valid, defaults filled in) as the rules read settings.

    Typed as the model because it answers like it: rules are written, and type-checked,
    against the model.
    """
    kind = SettingsFileV2View if document.get("apiVersion") == API_VERSION_V2 else SettingsFileView
    return cast("Settings", kind(document))
