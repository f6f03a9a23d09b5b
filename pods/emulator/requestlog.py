"""The request log: every API request the emulator answered, for tests to assert on.

``RequestRecord.is_write`` is true for create, update, patch, delete and deletecollection
(classified like RBAC, see ``routing``), including dry runs (``dry_run`` tells them apart)
and requests refused with an error (``status`` tells).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from .routing import WRITE_VERBS


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    verb: str
    group: str
    version: str
    resource: str
    subresource: str
    namespace: str
    name: str
    content_type: str
    dry_run: bool
    field_manager: str
    body: Any
    status: int
    time: float

    @property
    def is_write(self) -> bool:
        return self.verb in WRITE_VERBS and bool(self.resource)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "is_write": self.is_write}


class RequestLog:
    """A thread-safe, bounded list of ``RequestRecord`` (oldest dropped past ``limit``)."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)
            if len(self._records) > self.limit:
                del self._records[: len(self._records) - self.limit]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def writes(self) -> list[RequestRecord]:
        return [r for r in self.records() if r.is_write]

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.records())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)
