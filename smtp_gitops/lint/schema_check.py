"""Check a located tree against the model and turn every pydantic error into a diagnostic that
points at the offending key or value.

pydantic is imported only when a document is checked against the model: the header checks
here, and ``validate`` on clean files (``fast_schema``), run without it."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from smtp_gitops.lint.rules import api_version, schema, unknown_key
from smtp_gitops.lint.schema_messages import (
    BOTH_REFERENCES_HINT,
    SECRET_KEYS,
    SECRET_REFERENCE_HINT,
    describe,
    plain_problem,
)
from smtp_gitops.settings.diagnostics import Capped, Diagnostic
from smtp_gitops.settings.vocabulary import API_VERSION, API_VERSION_V2, API_VERSIONS, KIND
from smtp_gitops.settings.yamlnodes import (
    MapNode,
    Node,
    Path,
    ScalarNode,
    named_path,
    to_plain,
    walk,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from smtp_gitops.settings.model import Settings


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``list[X]``, ``X | None`` or ``Annotated[X, ...]``."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def known_keys(path: Path, root_model: type[BaseModel] | None = None) -> list[str]:
    """The keys the schema allows in the mapping at ``path`` (of a v1 document by default)."""
    from smtp_gitops.settings.model import SmtpSettingsFile

    model: type[BaseModel] | None = root_model or SmtpSettingsFile
    for part in path:
        if model is None:
            return []
        if isinstance(part, str):
            field = model.model_fields.get(part)
            model = _model_in(field.annotation) if field else None
    return list(model.model_fields) if model else []


def closest_key(key: str, known: list[str]) -> str | None:
    by_case = {k.lower(): k for k in known}
    if key.lower() in by_case:
        return by_case[key.lower()]
    import difflib  # only for a file with an unknown key

    matches = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if not matches:
        matches = difflib.get_close_matches(key.lower(), list(by_case), n=1, cutoff=0.6)
        matches = [by_case[m] for m in matches]
    return matches[0] if matches else None


def _resolve(root: Node, loc: tuple[int | str, ...]) -> tuple[Path, Node]:
    """Follow an error location through the tree, skipping pydantic's union-branch tags."""
    path: list[str | int] = []
    node = root
    for part in loc:
        step = list(walk(node, (part,)))
        if len(step) == 2:
            path.append(part)
            node = step[1][0]
    return tuple(path), node


V2_ONLY_SET_KEYS = ("auth", "category", "email")


def _other_version_hint(key: str, parent: Path, model: type[BaseModel]) -> str | None:
    """A set key that belongs to the other apiVersion: say so rather than guess a typo."""
    from smtp_gitops.settings.model import SmtpSettingsFile

    if len(parent) != 3 or parent[:2] != ("spec", "sets"):
        return None
    if model is SmtpSettingsFile and key in V2_ONLY_SET_KEYS:
        return (
            f"`{key}` is part of apiVersion {API_VERSION_V2}; "
            "`smtp-gitops migrate` moves this file (and its base) to v2"
        )
    if model is not SmtpSettingsFile and key == "password":
        return (
            f"in {API_VERSION_V2} the password goes under `auth:` (`auth: {{password: ...}}`); "
            "`smtp-gitops migrate` rewrites v1 files"
        )
    return None


def check_header(root: Node) -> tuple[list[Diagnostic], bool]:
    """``apiVersion``/``kind`` diagnostics, and whether the rest of the file is worth checking."""
    if not isinstance(root, MapNode):
        return [
            schema.RULE.diagnostic(
                root.mark,
                f"the document must be a mapping with apiVersion, kind, metadata and spec; "
                f"found {describe(root)}",
            )
        ], False
    diagnostics: list[Diagnostic] = []
    supported = True
    for key, accepted in (("apiVersion", API_VERSIONS), ("kind", (KIND,))):
        entry = root.entries.get(key)
        if entry is None:
            # Suggest v1 for a missing apiVersion: a file written without one was written for v1.
            expected = API_VERSION if key == "apiVersion" else KIND
            diagnostics.append(
                api_version.RULE.diagnostic(
                    root.mark, f"missing `{key}`", hint=f"add `{key}: {expected}` at the top"
                )
            )
        elif not (isinstance(entry.value, ScalarNode) and entry.value.value in accepted):
            supported = False
            reads = " or ".join(repr(value) for value in accepted)
            diagnostics.append(
                api_version.RULE.diagnostic(
                    entry.value.mark,
                    f"unsupported {key}; this version of smtp-gitops reads {reads}",
                    end=entry.value.end,
                )
            )
    return diagnostics, supported


def declared_api_version(root: Node) -> object:
    """The document's ``apiVersion`` value (None when absent or not a scalar)."""
    if isinstance(root, MapNode):
        entry = root.entries.get("apiVersion")
        if entry is not None and isinstance(entry.value, ScalarNode):
            return entry.value.value
    return None


def _name_outside_base(root: Node, set_path: Path, base_sets: Sequence[str]) -> ScalarNode | None:
    """The name of the set at ``set_path`` when it matches no base set."""
    if len(set_path) != 3 or set_path[:2] != ("spec", "sets"):
        return None
    found = list(walk(root, (*set_path, "name")))
    if len(found) != len(set_path) + 2:
        return None
    name = found[-1][0]
    if not isinstance(name, ScalarNode) or not isinstance(name.value, str):
        return None
    return None if name.value in base_sets else name


def _outside_base(name: ScalarNode, base_sets: Sequence[str], missing: str) -> Diagnostic:
    """A set that misses a required key because its name matches no base set (a typo such as
    ``primay``): say that, rather than list what a whole new set would need."""
    suggestion = closest_key(str(name.value), list(base_sets))
    known = ", ".join(f"`{n}`" for n in base_sets) or "none"
    return schema.RULE.diagnostic(
        name.mark,
        f"set `{name.value}` is not in the base, so it is a new set and needs `{missing}` "
        "(and every other required key)",
        hint=(f"did you mean `{suggestion}`? " if suggestion else "") + f"the base's sets: {known}",
        end=name.end,
    )


def check_schema(
    root: Node, *, partial: bool = False, base_sets: Sequence[str] | None = None
) -> tuple[Settings | None, list[Diagnostic]]:
    """Validate against the model of the document's apiVersion. ``partial`` (for ``base``)
    forgives missing required keys; ``base_sets`` names the sets of the base ``root`` was
    merged over, if there is one.

    Past ``MAX_PER_FILE`` findings the rest are only counted: describing an unknown key (the
    closest known one) is what makes a file of a hundred thousand of them slow.
    """
    from pydantic import ValidationError

    from smtp_gitops.settings.model import model_for

    model = model_for(declared_api_version(root))
    try:
        return model.model_validate(to_plain(root)), []
    except ValidationError as error:
        found = Capped()
        seen: set[tuple[Path, str]] = set()
        for item in error.errors(include_url=False, include_input=False):
            kind, loc = item["type"], item["loc"]
            if loc and loc[0] in ("apiVersion", "kind"):
                continue  # reported by check_header
            if kind == "missing" and partial:
                continue
            if kind == "missing":
                parent, node = _resolve(root, loc[:-1])
                path: Path = (*parent, str(loc[-1]))
                name = _name_outside_base(root, parent, base_sets) if base_sets else None
                if name is not None and base_sets is not None:
                    if (parent, "not-in-base") not in seen:  # one finding for all its keys
                        seen.add((parent, "not-in-base"))
                        found.add(_outside_base(name, base_sets, str(loc[-1])))
                    continue
            else:
                path, node = _resolve(root, loc)
            if (path, kind) in seen:
                continue  # the branches of a union report one value several times
            seen.add((path, kind))
            rule = unknown_key.RULE if kind == "extra_forbidden" else schema.RULE
            if not found.wants(node.mark):
                found.count(rule.id, rule.severity, node.mark)
            else:
                found.add(_diagnostic(root, model, kind, item.get("ctx", {}), path, node))
        return None, found.result()


def _unknown_key(root: Node, path: Path, node: Node, model: type[BaseModel]) -> Diagnostic:
    key = str(path[-1])
    parent_path = path[:-1]
    entry = list(walk(root, path))[-1][1]
    mark = entry.key_mark if entry else node.mark
    parent = list(walk(root, parent_path))[-1][0]
    if isinstance(parent, MapNode) and {"fromEnv", "fromFile"} <= parent.entries.keys():
        return unknown_key.RULE.diagnostic(
            mark,
            f"{named_path(root, parent_path)}: both `fromEnv` and `fromFile`; only one is allowed",
            hint=BOTH_REFERENCES_HINT,
        )
    known = known_keys(parent_path, model)
    suggestion = closest_key(key, known)
    return unknown_key.RULE.diagnostic(
        mark,
        f"unknown key `{key}` in {named_path(root, parent_path)}",
        hint=_other_version_hint(key, parent_path, model)
        or (f"did you mean `{suggestion}`?" if suggestion else "known keys: " + ", ".join(known)),
    )


def _diagnostic(
    root: Node,
    model: type[BaseModel],
    kind: str,
    context: dict[str, Any],
    path: Path,
    node: Node,
) -> Diagnostic:
    """One pydantic error as a diagnostic on the key or value it is about, in plain words
    (``context`` is the error's ``ctx``; pydantic's own message is never shown)."""
    if kind == "missing":
        in_secret = bool(SECRET_KEYS & set(map(str, path)))
        return schema.RULE.diagnostic(
            node.mark,
            f"{named_path(root, path[:-1])}: missing required key `{path[-1]}`",
            hint=SECRET_REFERENCE_HINT if in_secret else None,
            end=node.end,
        )
    if kind == "extra_forbidden":
        return _unknown_key(root, path, node, model)
    problem = plain_problem(kind, context, path, node)
    return schema.RULE.diagnostic(
        node.mark, f"{named_path(root, path)}: {problem.message}", hint=problem.hint, end=node.end
    )


def api_version_mismatch(
    base: Node, base_path: str, overlay: Node, overlay_path: str
) -> Diagnostic | None:
    """A base and its environment written for different apiVersions cannot be merged: the
    same keys mean different things (``password`` against ``auth``)."""
    base_version, overlay_version = declared_api_version(base), declared_api_version(overlay)
    if base_version is None or overlay_version is None or base_version == overlay_version:
        return None
    entry = overlay.entries.get("apiVersion") if isinstance(overlay, MapNode) else None
    mark, end = (entry.value.mark, entry.value.end) if entry else (overlay.mark, overlay.end)
    return api_version.RULE.diagnostic(
        mark,
        f"{overlay_path} says apiVersion {overlay_version!r} but its base {base_path} says "
        f"{base_version!r}; a base and its environments must share one apiVersion",
        hint="run `smtp-gitops migrate` on the base and its environments together",
        end=end,
    )
