"""The webhook signature: ``X-Paas-Signature: t=<unix>,v1=<hex hmac-sha256(secret, "<t>.<body>")>``.

The timestamp is inside the signed string so a receiver can refuse replays of old deliveries.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Paas-Signature"
EVENT_HEADER = "X-Paas-Event"
DELIVERY_HEADER = "X-Paas-Delivery"


def sign(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body`` signed now (or at ``timestamp``)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(*, secret: str, body: bytes, header: str, tolerance: int = 300, now: int | None = None) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse stale timestamps."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    now = int(time.time()) if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret=secret, body=body, timestamp=timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
