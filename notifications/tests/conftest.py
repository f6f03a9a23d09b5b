import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: records each request and answers with the next queued status."""

    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    location: str = ""
    delay: float = 0.0

    def answer(self, *statuses: int) -> None:
        self.statuses.extend(statuses)


@pytest.fixture
def receiver():
    state: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            rcv: Receiver = state["receiver"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            rcv.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            code = rcv.statuses.pop(0) if rcv.statuses else rcv.default_status
            if rcv.delay:
                time.sleep(rcv.delay)
            self.send_response(code)
            if rcv.location:
                self.send_header("Location", rcv.location)
            answer = b'{"ok": true}' if code < 300 else b"receiver says no"
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/paas")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    return settings


@pytest.fixture
def eager_retries():
    """Let eager tasks run their retries inline.

    Celery re-runs a retried eager task only when task errors are not propagated; the test
    settings propagate them (so a broken task fails its test), which turns ``self.retry()`` into
    an exception instead. Tests of the retry path switch propagation off for their duration.
    """
    from paas.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous
