"""Django's PostgreSQL backend with a health check that costs no round trip on a quiet connection.

``CONN_HEALTH_CHECKS`` makes Django check a persistent connection before a request uses it, so a
database restart does not fail the next request of every worker. Django checks with a ``SELECT 1``:
a round trip on every request. Between requests a connection is idle and the server has nothing to
say, unless it is closing it (a restart, a terminated backend, an idle timeout): then it sends its
error and closes the socket, which makes the socket readable. So a quiet socket is taken as
usable, and only one with something waiting gets the ``SELECT 1`` (which fails on a closed one).
A connection lost without a word (a network partition) fails its next query, as it would have
failed the ``SELECT 1``; Django then closes it at the end of that request.
"""

import select

import psycopg
from django.db.backends.postgresql import base


def _has_input(fileno: int) -> bool:
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or getattr(connection, "broken", False):
            return False
        if self.pool is None:
            try:
                if not _has_input(connection.fileno()):
                    return True
            except (OSError, ValueError, psycopg.Error):  # no socket any more
                return False
        return super().is_usable()
