"""Keeping the emulated cluster's objects in a JSON file across restarts (``--state``).

``StateFile.load`` restores a previous snapshot into the emulator; after ``start`` every change
schedules a write, debounced (``debounce`` seconds after the last change, at most
``max_delay`` after the first), done atomically (temporary file + rename) so a crash never
leaves half a file. ``stop`` writes whatever is pending.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .emulator import Emulator
from .resources import ResourceType

log = logging.getLogger(__name__)
FORMAT_VERSION = 1


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class StateFile:
    def __init__(
        self, path: str | os.PathLike[str], emulator: Emulator, *, debounce: float = 0.5, max_delay: float = 5.0
    ) -> None:
        self.path = Path(path)
        self.emulator = emulator
        self.debounce = debounce
        self.max_delay = max_delay
        self._dirty_since: float | None = None
        self._last_change = 0.0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        emulator.store.subscribe(self._changed)

    def load(self) -> bool:
        """Restore the saved cluster, if the file exists. Returns whether it did."""
        if not self.path.exists():
            return False
        doc = json.loads(self.path.read_text())
        if doc.get("format") != FORMAT_VERSION:
            raise ValueError(f"{self.path}: unknown state format {doc.get('format')!r}")
        self.emulator.restore(doc["store"])
        with self._cond:
            self._dirty_since = None
        return True

    def save(self) -> None:
        snapshot = self.emulator.snapshot()
        data = json.dumps({"format": FORMAT_VERSION, "savedAt": time.time(), "store": snapshot}, separators=(",", ":"))
        write_atomically(self.path, data.encode())

    def start(self) -> StateFile:
        self._thread = threading.Thread(target=self._run, name="emulator-state", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._dirty_since is not None:
            self.save()

    def _changed(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        with self._cond:
            now = time.monotonic()
            self._last_change = now
            if self._dirty_since is None:
                self._dirty_since = now
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and self._dirty_since is None:
                    self._cond.wait()
                if self._stopping:
                    return
                due = min(self._last_change + self.debounce, self._dirty_since + self.max_delay)
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                self._dirty_since = None
            try:
                self.save()
            except OSError:
                log.exception("could not save the emulator state to %s", self.path)
