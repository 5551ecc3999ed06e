"""Where deploy may write and which hosts it may call, as the deploying side decides.

A merged change controls ``render.output`` and ``reload.targets``; on a shared runner a change
that writes ``~/.bashrc`` would run code on the next job. Like a project's allowed destinations
in Argo CD, the pipeline pins them (``--allow-output``, ``--allow-target``) and anything else
is refused before a byte is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

OUTPUT_VARIABLE = "SMTP_GITOPS_ALLOW_OUTPUT"
TARGET_VARIABLE = "SMTP_GITOPS_ALLOW_TARGET"


class PolicyError(Exception):
    """A policy that was set but says nothing usable (a usage error, exit 2): an empty value
    must never widen what deploy may do."""


@dataclass(frozen=True, slots=True)
class DeployPolicy:
    allowed_outputs: tuple[str, ...] = ()  # folders; empty: anywhere
    allowed_targets: tuple[str, ...] = ()  # host names, ``*.example.com``; empty: any
    outputs_from: str = "--allow-output"  # where each list came from, for the messages
    targets_from: str = "--allow-target"

    @classmethod
    def from_sources(
        cls,
        outputs: Sequence[str],
        targets: Sequence[str],
        environ: Mapping[str, str] | None = None,
        *,
        with_outputs: bool = True,
    ) -> DeployPolicy:
        """The policy from the flags, else from the environment variables. A flag or a variable
        that is set but empty, or holds an empty entry, is refused rather than read as "no
        limit" (an unset CI variable expands to nothing)."""
        env = os.environ if environ is None else environ
        allowed_outputs, outputs_from = (
            _entries(outputs, "--allow-output", env, OUTPUT_VARIABLE, ":")
            if with_outputs
            else ((), "--allow-output")
        )
        allowed_targets, targets_from = _entries(
            targets, "--allow-target", env, TARGET_VARIABLE, None
        )
        return cls(allowed_outputs, allowed_targets, outputs_from, targets_from)

    def problems(self, output: str | None, targets: Sequence[str]) -> list[str]:
        found = []
        if output is not None and inside_git_folder(output):
            found.append(
                f"render.output {output} is in git's own folder (.git): git runs what its config "
                "and hooks there say, so deploy never writes there, whatever the policy"
            )
        if output is not None and self.allowed_outputs and not self.output_allowed(output):
            found.append(
                f"render.output {output} is outside the allowed folders "
                f"({', '.join(self.allowed_outputs)}; set by {self.outputs_from})"
            )
        if self.allowed_targets:
            for url in targets:
                host = target_host(url)
                if host is None or not self.target_allowed(host):
                    found.append(
                        f"reload target {url} is not an allowed host "
                        f"({', '.join(self.allowed_targets)}; set by {self.targets_from})"
                    )
        return found

    def output_allowed(self, output: str) -> bool:
        # realpath resolves symlinks of the file and its folders: a link out is caught too.
        resolved = os.path.realpath(output)
        for folder in self.allowed_outputs:
            allowed = os.path.realpath(folder)
            if os.path.commonpath([resolved, allowed]) == allowed and resolved != allowed:
                return True
        return False

    def target_allowed(self, host: str) -> bool:
        for allowed in self.allowed_targets:
            pattern = allowed.lower().rstrip(".")
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]) and host != pattern[2:]:
                    return True
            elif host == pattern:
                return True
        return False


def inside_git_folder(path: str) -> bool:
    """True when ``path``, links resolved, is a ``.git`` folder or file or lies inside one."""
    return ".git" in os.path.realpath(path).split(os.sep)


def target_host(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None


def _entries(
    flags: Sequence[str],
    flag: str,
    env: Mapping[str, str],
    variable: str,
    separator: str | None,
) -> tuple[tuple[str, ...], str]:
    if flags:
        if any(not value.strip() for value in flags):
            raise PolicyError(f"{flag} was given an empty value: name a folder or host")
        return tuple(flags), flag
    if variable not in env:
        return (), flag
    value = env[variable]
    if not value.strip():
        raise PolicyError(
            f"{variable} is set but empty: set what deploy may use, or unset it for no limit"
        )
    entries = value.split(separator) if separator else value.split()
    if any(not entry.strip() for entry in entries):
        raise PolicyError(
            f"{variable} has an empty entry ({value!r}): remove the stray {separator!r}"
        )
    return tuple(entry.strip() for entry in entries), variable
