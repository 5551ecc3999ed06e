"""SIGTERM and SIGINT noted instead of obeyed, while a deploy finishes what it started.

A CI cancel or a Ctrl-C between writing the config and reloading the nodes must not leave a
node on settings that are not in git: the deploy sees the signal, stops sending and rolls back.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupts:
    def __init__(self) -> None:
        self.received: int | None = None
        self._listeners: list[Callable[[], None]] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Interrupts:
        # Python lets only the main thread install handlers; elsewhere signals keep their effect.
        if threading.current_thread() is threading.main_thread():
            for signum in HANDLED_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]
        self._previous.clear()

    @property
    def name(self) -> str | None:
        return signal.Signals(self.received).name if self.received is not None else None

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` on the next signal (at once if one already came); returns an
        unsubscribe function."""
        self._listeners.append(listener)
        if self.received is not None:
            listener()
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        for listener in list(self._listeners):
            listener()
