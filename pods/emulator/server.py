"""The HTTP front of the emulator: a threading HTTP/1.1 server on localhost, and its kubeconfig.

Every response carries ``Content-Length`` and connections are kept alive, as urllib3's pool
(used by the official client) and kubectl expect. Requests for ``/_emulator/...`` go to the
control API (``control``); everything else is the Kubernetes API (``api``), after bearer-token
authentication (when a token is set) and fault injection, and is recorded in the request log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from . import control
from .api import HEALTH_PATHS, Request, Response
from .emulator import Emulator
from .errors import ApiError, from_code, unauthorized
from .faults import FaultRule
from .persistence import write_atomically
from .requestlog import RequestRecord
from .routing import RequestInfo, classify

log = logging.getLogger(__name__)

CONTEXT = "paas-emulator"
# What anonymous users may read on a real cluster (system:public-info-viewer).
_PUBLIC_PATHS = (*HEALTH_PATHS, "/version")
_MAX_BODY = 64 * 1024 * 1024


class _Dropped(Exception):
    """The connection was closed on purpose (fault injection): write nothing."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "paas-emulator"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise ApiError(413, "RequestEntityTooLarge", "the request is too large")
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        emulator = self.server.emulator
        started = time.time()
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            params=parse_qs(url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=b"",
        )
        try:
            request.body = self._read_body()
        except ApiError as exc:
            self._send(Response.error(exc))
            return
        if url.path == control.PREFIX or url.path.startswith(control.PREFIX + "/"):
            response = self._authenticated(request) or control.handle(emulator, request)
            self._send(response)
            return

        info = classify(request.method, request.path, request.query)
        try:
            denied = None if url.path.rstrip("/") in _PUBLIC_PATHS else self._authenticated(request)
            if denied is not None:
                response = denied
            else:
                rule = emulator.faults.take(info) if info.is_resource else None
                response = self._with_fault(rule, request, info)
        except _Dropped:
            self._log(request, info, 0, started)
            self.close_connection = True
            with contextlib.suppress(OSError):  # the client may have gone already
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        # Logged before the answer leaves: a client that asserts on the log right after its call
        # must find the call in it.
        self._log(request, info, response.status, started)
        self._send(response)

    def _log(self, request: Request, info: RequestInfo, status: int, started: float) -> None:
        if info.is_resource:
            self.server.emulator.requests.append(self._record(request, info, status, started))

    def _authenticated(self, request: Request) -> Response | None:
        token = self.server.token
        if token is None or request.headers.get("authorization") == f"Bearer {token}":
            return None
        return Response.error(unauthorized())

    def _with_fault(self, rule: FaultRule | None, request: Request, info: RequestInfo) -> Response:
        emulator = self.server.emulator
        if rule is None:
            return emulator.api.handle(request, info)
        if rule.delay:
            emulator.faults.sleep(rule.delay)
        # With ``after`` the request is served first: the write lands, only the answer is lost.
        served = emulator.api.handle(request, info) if rule.after else None
        if rule.hang:
            emulator.faults.hang()
            raise _Dropped
        if rule.drop:
            raise _Dropped
        if rule.status is not None:
            return Response.error(from_code(rule.status, rule.message, retry_after=rule.retry_after))
        return served if served is not None else emulator.api.handle(request, info)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _record(self, request: Request, info: RequestInfo, status: int, started: float) -> RequestRecord:
        return RequestRecord(
            method=request.method,
            path=request.path,
            query=request.query,
            verb=info.verb,
            group=info.group,
            version=info.version,
            resource=info.resource,
            subresource=info.subresource,
            namespace=info.namespace,
            name=info.name,
            content_type=request.content_type,
            dry_run=bool(request.params.get("dryRun")),
            field_manager=request.query.get("fieldManager", ""),
            body=request.document_or_none(),
            status=status,
            time=started,
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator, token: str | None) -> None:
        super().__init__(address, _Handler)
        self.emulator = emulator
        self.token = token
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut every open connection, kept-alive ones included, as a server process that dies does."""
        with self._open_lock:
            open_, self._open = self._open, set()
        for sock in open_:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        # A client closing its kept-alive connection is routine, not an error worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class EmulatorServer:
    """Serves ``emulator`` on ``host:port`` (port 0: any free port) in a background thread.

    ``token``: when set, every API request must carry ``Authorization: Bearer <token>`` (health
    and version paths excepted, as on a real cluster), or gets 401. Starting the server does not
    start the emulator's control loop: call ``emulator.start()`` for that, or ``emulator.tick()``.
    """

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0, *, token: str | None = None) -> None:
        self.emulator = emulator
        self.host = host
        self.token = token
        self._httpd = _Server((host, port), emulator, token)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="emulator-http", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut the open connections: clients then see a server that is down
        (connection refused) until one is started again, on the same port if they are to find it."""
        self.emulator.faults.clear()  # wake any request hanging on purpose
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
        # Stopped means gone: clients must not go on talking over connections they kept alive.
        self._httpd.close_connections()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kubeconfig(self, *, token: str | None = None, namespace: str = "default") -> dict[str, Any]:
        """The kubeconfig document for this server (``token`` defaults to the server's)."""
        token = token if token is not None else self.token
        user: dict[str, Any] = {"token": token} if token else {}
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": CONTEXT, "cluster": {"server": self.url}}],
            "users": [{"name": CONTEXT, "user": user}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace}}],
            "current-context": CONTEXT,
            "preferences": {},
        }

    def write_kubeconfig(self, path: str | os.PathLike[str], *, token: str | None = None) -> Path:
        """Write the kubeconfig atomically (temporary file + rename), readable by the owner only."""
        target = Path(path)
        write_atomically(target, yaml.safe_dump(self.kubeconfig(token=token), sort_keys=False).encode(), mode=0o600)
        return target
