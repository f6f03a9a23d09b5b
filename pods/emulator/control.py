"""The control API over HTTP, under ``/_emulator/``, for tests and tools in other processes.

Same operations as the ``Emulator`` methods; JSON in, JSON out; errors as ``{"error": ...}``
with 400/404/405. These paths are outside ``/api`` and ``/apis``, so no Kubernetes client can
reach them by accident. When the server has a token, they require it too.

    GET    /_emulator/settings                      current settings
    POST   /_emulator/tick                          run one controller pass
    POST   /_emulator/reset                         back to the initial cluster
    GET    /_emulator/faults                        active fault rules
    POST   /_emulator/faults                        add a rule (FaultRule fields), e.g. {"verb": "create",
                                                    "resource": "deployments", "status": 500, "times": 1}
    DELETE /_emulator/faults                        clear all rules
    DELETE /_emulator/faults/<id>                   remove one rule
    GET    /_emulator/requests[?writes=true]        the request log
    DELETE /_emulator/requests                      clear it
    GET    /_emulator/objects/<resource>[?namespace=ns]
    PUT    /_emulator/image-patterns                {"pullFail": "regex"|null, "crash": "regex"|null}
    PUT    /_emulator/ready-delay                   {"seconds": 0}
    PUT    /_emulator/continue-token-ttl            {"seconds": 0} (or null: tokens never expire)
    POST   /_emulator/nodes/<name>/ready            mark a node Ready
    POST   /_emulator/nodes/<name>/not-ready        mark a node NotReady
    GET    /_emulator/access                        deny rules for access reviews
    POST   /_emulator/access/deny                   {"verb": "create", "resource": "deployments", "group": "apps",
                                                     "namespace": null}
    DELETE /_emulator/access                        clear deny rules
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from .api import Request, Response
from .errors import ApiError

if TYPE_CHECKING:
    from .emulator import Emulator

PREFIX = "/_emulator"


class _ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _body(request: Request) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        doc = json.loads(request.body)
    except json.JSONDecodeError as exc:
        raise _ControlError(400, f"invalid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise _ControlError(400, "expected a JSON object")
    return doc


def _settings(emulator: Emulator) -> dict[str, Any]:
    s = emulator.settings
    return {
        "nodes": s.nodes,
        "nodeCpu": s.node_cpu,
        "nodeMemory": s.node_memory,
        "nodePods": s.node_pods,
        "readyDelay": s.ready_delay,
        "imagePullFailPattern": s.image_pull_fail_pattern,
        "crashPattern": s.crash_pattern,
        "kubernetesVersion": s.kubernetes_version,
        "continueTokenTtl": s.continue_token_ttl,
    }


def handle(emulator: Emulator, request: Request) -> Response:
    try:
        return _route(emulator, request)
    except _ControlError as exc:
        return Response.json(exc.status, {"error": str(exc)})
    except ApiError as exc:
        return Response.json(exc.code, {"error": exc.message})
    except (KeyError, TypeError, ValueError) as exc:
        return Response.json(400, {"error": str(exc)})


def _route(emulator: Emulator, request: Request) -> Response:
    parts = request.path[len(PREFIX) :].strip("/").split("/")
    method = request.method
    head = parts[0] if parts else ""

    if head == "settings" and method == "GET":
        return Response.json(200, _settings(emulator))
    if head == "tick" and method == "POST":
        return Response.json(200, {"synced": emulator.tick()})
    if head == "reset" and method == "POST":
        emulator.reset()
        return Response.json(200, {"reset": True})
    if head == "faults":
        if len(parts) == 1 and method == "GET":
            return Response.json(200, {"items": [rule.as_dict() for rule in emulator.faults.rules()]})
        if len(parts) == 1 and method == "POST":
            rule = emulator.add_fault(**_body(request))
            return Response.json(201, rule.as_dict())
        if len(parts) == 1 and method == "DELETE":
            emulator.clear_faults()
            return Response.json(200, {"cleared": True})
        if len(parts) == 2 and method == "DELETE":
            if not emulator.faults.remove(int(parts[1])):
                raise _ControlError(404, f"no fault rule {parts[1]}")
            return Response.json(200, {"removed": int(parts[1])})
    if head == "requests":
        if method == "GET":
            records = (
                emulator.requests.writes() if request.query.get("writes") == "true" else emulator.requests.records()
            )
            return Response.json(200, {"items": [record.as_dict() for record in records]})
        if method == "DELETE":
            emulator.requests.clear()
            return Response.json(200, {"cleared": True})
    if head == "objects" and len(parts) == 2 and method == "GET":
        return Response.json(200, {"items": emulator.objects(parts[1], request.query.get("namespace"))})
    if head == "image-patterns" and method == "PUT":
        body = _body(request)
        changes = {key: body[wire] for wire, key in (("pullFail", "pull_fail"), ("crash", "crash")) if wire in body}
        emulator.set_image_patterns(**changes)
        return Response.json(200, _settings(emulator))
    if head == "ready-delay" and method == "PUT":
        emulator.set_ready_delay(float(_body(request)["seconds"]))
        return Response.json(200, _settings(emulator))
    if head == "continue-token-ttl" and method == "PUT":
        seconds = _body(request)["seconds"]
        emulator.set_continue_token_ttl(None if seconds is None else float(seconds))
        return Response.json(200, _settings(emulator))
    if head == "nodes" and len(parts) == 3 and method == "POST" and parts[2] in ("ready", "not-ready"):
        return Response.json(200, emulator.set_node_ready(parts[1], parts[2] == "ready"))
    if head == "access":
        if len(parts) == 1 and method == "GET":
            return Response.json(200, {"items": [asdict(d) for d in emulator.access.denials()]})
        if len(parts) == 2 and parts[1] == "deny" and method == "POST":
            body = _body(request)
            denial = emulator.deny(body["verb"], body["resource"], body.get("group", ""), body.get("namespace"))
            return Response.json(201, asdict(denial))
        if len(parts) == 1 and method == "DELETE":
            emulator.access.clear()
            return Response.json(200, {"cleared": True})
    raise _ControlError(404, f"no control endpoint {method} {request.path}")
