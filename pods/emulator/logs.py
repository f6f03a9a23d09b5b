"""``pods/log``: synthetic container logs that say plainly they are not application output.

The lines are derived from the container's state (start time, crashes) so repeated reads agree,
and every line starts with ``[paas-emulator] synthetic log:``. The API's parameters and refusals
are those of a real kubelet: ``container`` is required when a pod has several, a container still
waiting for its image cannot be read, ``previous`` needs a terminated earlier instance.
"""

from __future__ import annotations

from typing import Any

from .errors import bad_request
from .meta import parse_rfc3339, rfc3339_micro

PREFIX = "[paas-emulator] synthetic log:"
LINE_INTERVAL = 30.0
MAX_LINES = 1000


def _flag(value: str | None) -> bool:
    return value in ("true", "1", "True")


def _lines_for_run(
    pod: dict[str, Any], container: dict[str, Any], started: float, ended: float, crashed: bool
) -> list[tuple[float, str]]:
    name, pod_name = container["name"], pod["metadata"]["name"]
    what = f"container {name} of pod {pod_name}"
    lines = [(started, f"{PREFIX} {what} started from image {container.get('image', '')} (no real process runs here)")]
    count = min(int(max(ended - started, 0) // LINE_INTERVAL), MAX_LINES)
    lines += [
        (started + (i + 1) * LINE_INTERVAL, f"{PREFIX} {what} is running (not real application output)")
        for i in range(count)
    ]
    if crashed:
        lines.append((ended, f"{PREFIX} {what} exited with code 1 (simulated crash loop)"))
    return lines


def pod_log(pod: dict[str, Any], query: dict[str, str], now: float) -> str:
    """The text of ``GET .../pods/<name>/log`` for these query parameters; raises 400 like a real server."""
    pod_name = pod["metadata"]["name"]
    containers = pod["spec"].get("containers") or []
    names = [c["name"] for c in containers]
    wanted = query.get("container")
    if not wanted:
        if len(containers) != 1:
            raise bad_request(
                f"a container name must be specified for pod {pod_name}, choose one of: [{' '.join(names)}]"
            )
        wanted = names[0]
    container = next((c for c in containers if c["name"] == wanted), None)
    if container is None:
        raise bad_request(f"container {wanted} is not valid for pod {pod_name}")
    status = next((cs for cs in (pod.get("status") or {}).get("containerStatuses") or [] if cs["name"] == wanted), None)
    state = (status or {}).get("state") or {"waiting": {"reason": "ContainerCreating"}}
    last = ((status or {}).get("lastState") or {}).get("terminated")

    if _flag(query.get("previous")):
        if not last:
            raise bad_request(f'previous terminated container "{wanted}" in pod "{pod_name}" not found')
        lines = _lines_for_run(
            pod, container, parse_rfc3339(last["startedAt"]), parse_rfc3339(last["finishedAt"]), True
        )
    elif "running" in state:
        lines = _lines_for_run(pod, container, parse_rfc3339(state["running"]["startedAt"]), now, False)
    elif last:
        # A crash-looping container between runs: its last run's output, as the kubelet serves it.
        lines = _lines_for_run(
            pod, container, parse_rfc3339(last["startedAt"]), parse_rfc3339(last["finishedAt"]), True
        )
    else:
        reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
        if reason in ("ErrImagePull", "ImagePullBackOff"):
            reason = "trying and failing to pull image"
        raise bad_request(f'container "{wanted}" in pod "{pod_name}" is waiting to start: {reason}')

    since = query.get("sinceSeconds")
    if since and since.isdigit():
        lines = [line for line in lines if line[0] >= now - int(since)]
    tail = query.get("tailLines")
    if tail and tail.lstrip("-").isdigit() and int(tail) >= 0:
        lines = lines[len(lines) - int(tail) :] if int(tail) else []
    stamped = _flag(query.get("timestamps"))
    text = "".join(f"{rfc3339_micro(ts) + ' ' if stamped else ''}{line}\n" for ts, line in lines)
    limit = query.get("limitBytes")
    if limit and limit.isdigit():
        text = text.encode()[: int(limit)].decode(errors="ignore")
    return text
