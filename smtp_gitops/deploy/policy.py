"""Where deploy may write and which hosts it may call, as the deploying side decides.

A merged change controls ``render.output`` and ``reload.targets``; on a shared runner a change
that writes ``~/.bashrc`` would run code on the next job. Like a project's allowed destinations
in Argo CD, the pipeline pins them (``--allow-output``, ``--allow-target``) and anything else
is refused before a byte is written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class DeployPolicy:
    allowed_outputs: tuple[str, ...] = ()  # folders; empty: anywhere
    allowed_targets: tuple[str, ...] = ()  # host names, ``*.example.com``; empty: any

    def problems(self, output: str | None, targets: Sequence[str]) -> list[str]:
        found = []
        if output is not None and self.allowed_outputs and not self.output_allowed(output):
            found.append(
                f"render.output {output} is outside the allowed folders "
                f"({', '.join(self.allowed_outputs)}; set by --allow-output)"
            )
        if self.allowed_targets:
            for url in targets:
                host = target_host(url)
                if host is None or not self.target_allowed(host):
                    found.append(
                        f"reload target {url} is not an allowed host "
                        f"({', '.join(self.allowed_targets)}; set by --allow-target)"
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


def target_host(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None
