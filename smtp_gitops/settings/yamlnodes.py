"""A small located YAML tree: every mapping key and every value keeps the file, line and column
where it was written, so diagnostics on merged (layered) documents still point at the source."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from smtp_gitops.settings.diagnostics import Mark

Scalar = str | int | float | bool | None
PathPart = str | int
Path = tuple[PathPart, ...]


@dataclass(slots=True)
class ScalarNode:
    value: Scalar
    mark: Mark
    end: Mark


@dataclass(slots=True)
class MapEntry:
    key_mark: Mark
    value: Node


@dataclass(slots=True)
class MapNode:
    mark: Mark
    end: Mark
    entries: dict[str, MapEntry] = field(default_factory=dict)


@dataclass(slots=True)
class SeqNode:
    mark: Mark
    end: Mark
    items: list[Node] = field(default_factory=list)


Node = ScalarNode | MapNode | SeqNode


def to_plain(node: Node) -> object:
    """The tree as plain Python data, the shape pydantic and templates consume."""
    if isinstance(node, ScalarNode):
        return node.value
    if isinstance(node, MapNode):
        return {key: to_plain(entry.value) for key, entry in node.entries.items()}
    return [to_plain(item) for item in node.items]


def walk(root: Node, path: Path) -> Iterator[tuple[Node, MapEntry | None]]:
    """Yield each node along ``path`` (with the map entry that holds it), as far as it exists."""
    node: Node = root
    yield node, None
    for part in path:
        if isinstance(node, MapNode) and isinstance(part, str) and part in node.entries:
            entry = node.entries[part]
            node = entry.value
            yield node, entry
        elif isinstance(node, SeqNode) and isinstance(part, int) and 0 <= part < len(node.items):
            node = node.items[part]
            yield node, None
        else:
            return


def locate(root: Node, path: Path, *, key: bool = False) -> tuple[Mark, Mark]:
    """Start and end of the value at ``path`` (or of its key), or of the deepest existing parent."""
    found = list(walk(root, path))
    node, entry = found[-1]
    if key and entry is not None and len(found) == len(path) + 1:
        return entry.key_mark, entry.key_mark
    return node.mark, node.end


def get(root: Node, path: Path) -> Node | None:
    found = list(walk(root, path))
    return found[-1][0] if len(found) == len(path) + 1 else None


# A longer name is shown by its position: a message quotes a label, not a paragraph.
_LONGEST_LABEL = 64


def named_path(root: Node, path: Path) -> str:
    """``path`` with each set named rather than numbered (``spec.sets[backup].enabled``).

    A position counts items in the tree it was found in (for an overlay, the merged list), which
    the author cannot see; the name is what they wrote, and it survives reordering the sets and
    adding lines. A set without a name that fits on a line keeps its position."""
    text = ""
    for depth, part in enumerate(path):
        if isinstance(part, int):
            label: str | int = part
            if path[:depth] == ("spec", "sets"):
                name = get(root, (*path[: depth + 1], "name"))
                if (
                    isinstance(name, ScalarNode)
                    and isinstance(name.value, str)
                    and 0 < len(name.value) <= _LONGEST_LABEL
                    and name.value.isprintable()
                    and "]" not in name.value
                ):
                    label = name.value
            text += f"[{label}]"
        else:
            text += f".{part}" if text else part
    return text or "(document)"
