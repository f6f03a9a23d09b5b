"""The labels and names every rendered object carries, and the checks on the names it is given."""

from __future__ import annotations

import unicodedata

from ..naming import is_dns_label

MANAGED_BY = "paas"
LABEL_INSTANCE_ID = "paas/instance-id"
LABEL_USER_ID = "paas/user-id"
ANNOTATION_DISPLAY_NAME = "paas/display-name"


def check_namespace(namespace: str) -> None:
    if not is_dns_label(namespace):
        raise ValueError(f"namespace {namespace!r} is not a DNS-1123 label")


def label_value(value: str) -> str:
    # Label values: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends.
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "-" for ch in value)[:63]
    return cleaned.strip("._-")


def printable(text: str) -> str:
    return "".join(" " if unicodedata.category(ch) in {"Cc", "Zl", "Zp"} else ch for ch in text)
