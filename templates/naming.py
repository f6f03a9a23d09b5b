"""DNS-1123 names derived from whatever the customer typed, and from our ids.

Kubernetes object names, label values and host names accept a narrow alphabet; customer
input goes through ``slugify_label`` (or is dropped) before it reaches any of them.
"""

from __future__ import annotations

import re
import unicodedata
import uuid

DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Service names must also start with a letter (DNS-1035); every base name does.
DNS_1035_LABEL_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
SLUG_MAX = 24
SHORT_ID_LENGTH = 12


def slugify_label(text: str, *, max_length: int = SLUG_MAX) -> str:
    """Lowercase ASCII letters, digits and single dashes, at most ``max_length`` long; may be ''."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return slug[:max_length].strip("-")


def as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    """Our ids are UUIDs; anything else is a caller bug (and would not be a valid label value)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def short_id(instance_id: uuid.UUID | str) -> str:
    # 48 random bits of a UUID4: the host name is unique even among instances named alike.
    return as_uuid(instance_id).hex[:SHORT_ID_LENGTH]


def instance_base_name(*, instance_name: str, instance_id: uuid.UUID | str, fallback: str) -> str:
    """``<slug>-<short id>``: the prefix of every object of the instance and its host label.

    At most 24 + 1 + 12 = 37 characters, so suffixed names (``-allow-web-to-db``) stay within
    63 and a StatefulSet name within the 52 its pods' revision label allows.
    """
    slug = slugify_label(instance_name) or slugify_label(fallback) or "app"
    if not slug[0].isalpha():
        slug = f"i-{slug}"[:SLUG_MAX].strip("-")
    return f"{slug}-{short_id(instance_id)}"


def namespace_for_user(user_id: uuid.UUID | str) -> str:
    """The customer's namespace: the whole UUID, since a shortened one could collide between
    customers, and a shared namespace would break tenant isolation."""
    return f"paas-u-{as_uuid(user_id).hex}"


def is_dns_label(value: str) -> bool:
    return len(value) <= 63 and bool(DNS_LABEL_RE.match(value))


def is_dns_subdomain(value: str) -> bool:
    return 0 < len(value) <= 253 and all(is_dns_label(part) for part in value.split("."))
