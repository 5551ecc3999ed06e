"""Project configuration: ``[tool.smtp-gitops]`` in ``pyproject.toml`` or ``.smtp-gitops.toml``.

The file is looked for in the working directory and each folder above it, up to the repository
root (the folder holding ``.git``) or the filesystem root; the nearest one wins. In one folder
``.smtp-gitops.toml`` wins over ``pyproject.toml`` (a file of its own is the more deliberate
choice), and a ``pyproject.toml`` without a ``[tool.smtp-gitops]`` table does not count. Every
value remembers where it came from (``default``, ``FILE:LINE`` or ``flag``) for
``validate --show-config``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from smtp_gitops.lint.reporters import FORMATS
from smtp_gitops.lint.rules import ALWAYS_ON, RULE_IDS
from smtp_gitops.settings.layout import DEFAULT_ROOT

OWN_FILE = ".smtp-gitops.toml"
PYPROJECT = "pyproject.toml"
PYPROJECT_TABLE = ("tool", "smtp-gitops")
SEVERITY_LEVELS = ("error", "warning", "off")
DEFAULT, FLAG = "default", "flag"  # where a value came from, besides FILE:LINE
DEFAULT_FORMAT = "text"
# `[tool.smtp-gitops]`, `[tool."smtp-gitops".severity]`, `tool.smtp-gitops.root = ...`, or a
# bare `[tool]` table (which may hold `smtp-gitops = {...}`): a pyproject.toml without any of
# these is not parsed.
_MENTIONS_OUR_TABLE = re.compile(
    r"""tool\s*\.\s*["']?smtp-gitops|^\s*\[\s*tool\s*\]""", re.MULTILINE
)


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, key and line."""


@dataclass(frozen=True, slots=True)
class Config:
    root: str = DEFAULT_ROOT
    format: str = DEFAULT_FORMAT
    production_environments: tuple[str, ...] = ()
    # Per rule id: "error", "warning" or "off"; rules not named keep their own severity.
    severity: Mapping[str, str] = field(default_factory=dict)
    # Where each value came from, by key (``severity.RULE`` for severities).
    origins: Mapping[str, str] = field(default_factory=dict)
    file: str | None = None

    def origin(self, key: str) -> str:
        return self.origins.get(key, DEFAULT)

    def with_flags(
        self,
        *,
        root: str | None = None,
        output_format: str | None = None,
        production_environments: tuple[str, ...] = (),
        severity: Mapping[str, str] | None = None,
    ) -> Config:
        """This configuration with the command line's values on top (flags win)."""
        changes: dict[str, Any] = {}
        origins = dict(self.origins)
        for key, attribute, value in (
            ("root", "root", root),
            ("format", "format", output_format),
            ("production-environments", "production_environments", production_environments),
        ):
            if value:
                changes[attribute] = value
                origins[key] = FLAG
        for rule_id in severity or {}:
            origins[f"severity.{rule_id}"] = FLAG
        return dataclasses.replace(
            self, **changes, severity={**self.severity, **(severity or {})}, origins=origins
        )

    def describe(self) -> str:
        """The effective configuration as TOML, each value with where it came from."""
        import json  # TOML's basic strings and arrays read like JSON's; only for --show-config

        lines = [f"# configuration file: {self.file or 'none found'}"]
        for key, value in (
            ("root", self.root),
            ("format", self.format),
            ("production-environments", list(self.production_environments)),
        ):
            lines.append(f"{key} = {json.dumps(value)}  # {self.origin(key)}")
        lines.append("[severity]")
        for rule_id, level in sorted(self.severity.items()):
            origin = self.origin(f"severity.{rule_id}")
            lines.append(f"{json.dumps(rule_id)} = {json.dumps(level)}  # {origin}")
        return "\n".join(lines) + "\n"


def check_severity(rule_id: str, level: object, where: str) -> str:
    """``level`` for ``rule_id``, if both are valid; ``where`` names the place in errors."""
    if rule_id not in RULE_IDS:
        raise ConfigError(f"{where}: unknown rule {rule_id!r}; known rules: {', '.join(RULE_IDS)}")
    if level not in SEVERITY_LEVELS:
        raise ConfigError(
            f"{where}: severity of {rule_id!r} must be one of "
            f"{', '.join(map(repr, SEVERITY_LEVELS))}, not {level!r}"
        )
    if rule_id in ALWAYS_ON and level != "error":
        raise ConfigError(f"{where}: {rule_id!r} is always an error (the file was not checked)")
    return str(level)


def load_config(start: str = ".") -> Config:
    """The configuration that applies in ``start``: the nearest file's, else the defaults."""
    folder = os.path.abspath(start)
    while True:
        for name, table_path in ((OWN_FILE, ()), (PYPROJECT, PYPROJECT_TABLE)):
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                found = _read(path, table_path)
                if found is not None:
                    return found
        parent = os.path.dirname(folder)
        if parent == folder or os.path.exists(os.path.join(folder, ".git")):
            return Config()
        folder = parent


def _read(path: str, table_path: tuple[str, ...]) -> Config | None:
    """The configuration in ``path``; None for a ``pyproject.toml`` without our table."""
    shown = os.path.relpath(path)
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{shown}: cannot read the configuration: {error}") from None
    if table_path and not _MENTIONS_OUR_TABLE.search(text):
        return None  # most pyproject.toml files are about other tools: skip parsing them
    import tomllib

    try:
        table: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{shown}: not valid TOML: {error}") from None
    for depth, part in enumerate(table_path):
        if not isinstance(table, dict) or part not in table:
            return None
        table = table[part]
        if not isinstance(table, dict):
            line = _line_of(text, table_path[:depth], part)
            raise ConfigError(f"{shown}:{line}: `{'.'.join(table_path)}` must be a table")
    return _parse(table, text, shown, table_path, os.path.dirname(path))


def _parse(
    table: dict[str, Any], text: str, shown: str, table_path: tuple[str, ...], folder: str
) -> Config:
    section = "[" + ".".join(table_path) + "]" if table_path else "the top level"

    def where(key: str, in_table: tuple[str, ...] = table_path) -> str:
        return f"{shown}:{_line_of(text, in_table, key)}"

    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for key, value in table.items():
        place = where(key)
        if key in ("root", "format"):
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{place}: `{key}` must be a non-empty string, not {value!r}")
            if key == "format" and value not in FORMATS:
                raise ConfigError(
                    f"{place}: `format` must be one of {', '.join(FORMATS)}, not {value!r}"
                )
            values[key] = value
        elif key == "production-environments":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ConfigError(
                    f"{place}: `{key}` must be a list of environment names or fnmatch patterns, "
                    f"not {value!r}"
                )
            values[key] = tuple(value)
        elif key == "severity":
            if not isinstance(value, dict):
                raise ConfigError(f"{place}: `severity` must be a table of rule = level")
            levels = {}
            for rule_id, level in value.items():
                rule_place = where(rule_id, (*table_path, "severity"))
                levels[rule_id] = check_severity(rule_id, level, rule_place)
                origins[f"severity.{rule_id}"] = rule_place
            values[key] = levels
            continue
        else:
            raise ConfigError(
                f"{place}: unknown key `{key}` in {section}; "
                "known keys: root, format, production-environments, severity"
            )
        origins[key] = place
    root = values.get("root", DEFAULT_ROOT)
    if "root" in values and not os.path.isabs(root):
        # Relative to the configuration file, so it means the same from any folder below it.
        root = os.path.relpath(os.path.join(folder, root))
    return Config(
        root=root,
        format=values.get("format", DEFAULT_FORMAT),
        production_environments=values.get("production-environments", ()),
        severity=values.get("severity", {}),
        origins=origins,
        file=shown,
    )


_HEADER = re.compile(r"^\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_DOTTED_PART = re.compile(r"\"[^\"]*\"|'[^']*'|[^.\s]+")


def _table_name(header: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in _DOTTED_PART.findall(header))


def _line_of(text: str, table: tuple[str, ...], key: str) -> int:
    """The line where ``key`` is set in ``table`` (tomllib keeps no positions).

    Looks for ``key =`` (bare or quoted) under the table's header first, then for the key
    anywhere (a dotted key or an inline table), then settles for the table's header, then 1.
    """
    name = re.escape(key)
    assignment = re.compile(rf"^\s*(?:{name}|\"{name}\"|'{name}')\s*=")
    mention = re.compile(rf"(?<![\w-]){name}(?![\w-])")
    current: tuple[str, ...] = ()
    header_line = anywhere = None
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line.strip())
        if header:
            current = _table_name(header.group(1))
            if current == table:
                header_line = number
            continue
        if current == table and assignment.match(line):
            return number
        if (
            anywhere is None
            and current[: len(table) - 1] == table[: len(table) - 1]
            and mention.search(line.split("#", 1)[0])
        ):
            anywhere = number
    return anywhere or header_line or 1
