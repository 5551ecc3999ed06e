"""The real yaml-language-server (the engine of VS Code's YAML extension), driven over LSP on
stdio the way an editor drives it: initialize, open a document, read the diagnostics it
publishes. Installed from npm (pinned in tests/clients/package-lock.json) on first use."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

CLIENTS = Path(__file__).resolve().parent / "clients"
SERVER = CLIENTS / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
# After the last diagnostics of a document, how long nothing more must arrive before they are
# taken as final (it publishes once per version of a document, but a late one must not be
# taken for the answer to the next).
SETTLE_SECONDS = 0.3


def install() -> Path:
    """The server's entry script, installed with ``npm ci`` from the committed lock file."""
    if not SERVER.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to install yaml-language-server for these tests")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=CLIENTS,
            check=True,
            timeout=300,
        )
    return SERVER


class LanguageServer:
    """One server process; ``diagnostics(path)`` opens the file as an editor does."""

    def __init__(self, workspace: Path) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("Node.js is needed to run yaml-language-server")
        self._process = subprocess.Popen(
            [node, str(install()), "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._next_id = 0
        self._versions: dict[str, int] = {}
        threading.Thread(target=self._read, daemon=True).start()
        self._request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": workspace.as_uri(),
                "workspaceFolders": [{"uri": workspace.as_uri(), "name": workspace.name}],
                "capabilities": {
                    "workspace": {"configuration": True, "didChangeConfiguration": {}},
                    "textDocument": {"publishDiagnostics": {"relatedInformation": True}},
                },
            },
        )
        self._notify("initialized", {})
        self._notify("workspace/didChangeConfiguration", {"settings": {"yaml": self.settings}})

    # What an editor sends: validation on, no schema store (no network), schemas from modelines.
    settings: dict[str, Any] = {  # noqa: RUF012
        "validate": True,
        "hover": True,
        "completion": True,
        "schemaStore": {"enable": False},
        "schemas": {},
    }

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self._process.stdin is not None
        self._process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self._process.stdin.flush()

    def _read(self) -> None:
        stream = self._process.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            message = json.loads(stream.read(length))
            if "method" in message and "id" in message:
                self._answer(message)
            else:
                self._messages.put(message)

    def _answer(self, request: dict[str, Any]) -> None:
        """Requests from the server to the editor."""
        result: Any = None
        if request["method"] == "workspace/configuration":
            result = [
                self.settings if item.get("section") == "yaml" else None
                for item in request["params"]["items"]
            ]
        self._send({"id": request["id"], "result": result})

    def _notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    def _request(self, method: str, params: dict[str, Any], timeout: float = 60) -> Any:
        self._next_id += 1
        self._send({"id": self._next_id, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            message = self._messages.get(timeout=max(deadline - time.monotonic(), 0.01))
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result")

    def diagnostics(self, path: Path, text: str | None = None, timeout: float = 30) -> list[Any]:
        """What the editor shows for ``path`` (its text on disk, or ``text`` as if typed)."""
        uri = path.resolve().as_uri()
        content = path.read_text(encoding="utf-8") if text is None else text
        version = self._versions.get(uri, 0) + 1
        self._versions[uri] = version
        if version == 1:
            self._notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": content}},
            )
        else:
            self._notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"text": content}],
                },
            )
        found: list[Any] | None = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            wait = SETTLE_SECONDS if found is not None else deadline - time.monotonic()
            try:
                message = self._messages.get(timeout=max(wait, 0.01))
            except queue.Empty:
                if found is not None:
                    return found
                continue
            params = message.get("params", {})
            if (
                message.get("method") == "textDocument/publishDiagnostics"
                and params.get("uri") == uri
            ):
                found = params["diagnostics"]
        if found is None:
            raise TimeoutError(f"yaml-language-server published no diagnostics for {path}")
        return found

    def close(self) -> None:
        try:
            self._request("shutdown", {}, timeout=10)
            self._notify("exit", {})
            self._process.wait(timeout=10)
        except (OSError, RuntimeError, queue.Empty, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()
