"""Merge ``environments/base/smtp.yaml`` under an environment, keeping where each value came from.

Maps merge key by key; ``spec.sets`` merge by set ``name`` (an overlay set replaces fields of the
base set of the same name, new names append in overlay order); every other list is replaced whole.
"""

from __future__ import annotations

from smtp_gitops.settings.yamlnodes import MapEntry, MapNode, Node, ScalarNode, SeqNode


def _set_name(node: Node) -> str | None:
    if isinstance(node, MapNode):
        entry = node.entries.get("name")
        if entry is not None and isinstance(entry.value, ScalarNode):
            value = entry.value.value
            return value if isinstance(value, str) else None
    return None


def set_names(root: Node) -> list[str]:
    """The names of the sets in a document's ``spec.sets``, in order."""
    spec = root.entries.get("spec") if isinstance(root, MapNode) else None
    sets = spec.value.entries.get("sets") if spec and isinstance(spec.value, MapNode) else None
    if sets is None or not isinstance(sets.value, SeqNode):
        return []
    return [name for item in sets.value.items if (name := _set_name(item)) is not None]


def _merge_sets(base: SeqNode, overlay: SeqNode) -> SeqNode:
    merged = list(base.items)
    position = {name: i for i, item in enumerate(merged) if (name := _set_name(item)) is not None}
    for item in overlay.items:
        name = _set_name(item)
        if name is not None and name in position:
            merged[position[name]] = merge(merged[position[name]], item)
        else:
            merged.append(item)
    return SeqNode(overlay.mark, overlay.end, merged)


def merge(base: Node, overlay: Node, path: tuple[str, ...] = ()) -> Node:
    if not (isinstance(base, MapNode) and isinstance(overlay, MapNode)):
        if path == ("spec", "sets") and isinstance(base, SeqNode) and isinstance(overlay, SeqNode):
            return _merge_sets(base, overlay)
        return overlay
    entries = dict(base.entries)
    for key, entry in overlay.entries.items():
        if key in entries:
            entries[key] = MapEntry(
                entry.key_mark, merge(entries[key].value, entry.value, (*path, key))
            )
        else:
            entries[key] = entry
    return MapNode(overlay.mark, overlay.end, entries)
