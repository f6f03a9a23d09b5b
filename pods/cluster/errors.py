"""What can go wrong when talking to the cluster, sorted by what the caller should do about it.

- ``ClusterUnavailable``: the API could not be reached or did not answer in time (connection
  refused, timeout, 502/503/504, throttled). It says nothing about the apps: retry later, and
  never mark an app failed for it.
- ``ClusterRefused``: the API answered and said no (invalid object, forbidden, quota, conflict,
  or an internal error). Retrying may help a few times; a change refused again and again fails.
- ``ObjectNotFound``: the object (or its namespace) does not exist.
"""

from __future__ import annotations


class ClusterError(Exception):
    """Base class. ``status`` is the HTTP status when the API answered, ``reason`` its Status reason."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = ""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason


class ClusterUnavailable(ClusterError):
    """The API server did not answer (usefully): transient, and no verdict on any app."""


class ClusterRefused(ClusterError):
    """The API server answered with an error for this request."""


class QuotaExceeded(ClusterRefused):
    """The namespace's ResourceQuota does not allow the object."""


class ObjectNotFound(ClusterRefused):
    """The object, or the namespace it would live in, does not exist."""


class ObjectConflict(ClusterRefused):
    """Already exists, or a stale resourceVersion."""
