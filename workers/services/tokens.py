"""Node tokens: ``wn_<node id hex>_<secret>``. The id part finds the node with one indexed read;
the secret's SHA-256 is then matched against the stored hash by the database (a hash of 256 random
bits: equality reveals nothing a timing attack could use). The join token (shared by every agent
of the cluster) is compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

PREFIX = "wn_"


def token_new(node_id: uuid.UUID) -> tuple[str, str]:
    """A fresh token for the node, and the hash to store."""
    secret = secrets.token_urlsafe(32)
    token = f"{PREFIX}{node_id.hex}_{secret}"
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_node_id(token: str) -> uuid.UUID | None:
    """The node id a token claims, or None when it is not shaped like one of ours."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    try:
        return uuid.UUID(hex=token[len(PREFIX) : len(PREFIX) + 32])
    except ValueError:
        return None


def join_token_valid(given: str | None, expected: str) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(given.encode(), expected.encode())
