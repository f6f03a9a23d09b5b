"""Generated secrets of an instance (database passwords, n8n's encryption key, WordPress salts).

The renderer never invents secrets: it takes every value from its caller, so rendering the
same instance twice yields the same Secrets and a re-apply never rotates a password or, worse,
n8n's encryption key. The caller (the pods app's reconcile) does this:

1. read the values already in the instance's Secrets in the cluster (none on first deploy);
2. ``secrets_generate_missing(template_key=..., existing=those)`` keeps them and fills the gaps;
3. pass the result to ``render_manifests(secrets=...)`` and apply; create the Secrets only if
   absent (a conflict means they exist: keep them).

The cluster Secret is the store of record. These values are never written to our database in
clear, never logged and never returned by the API.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from .registry import get_blueprint


def secret_keys(*, template_key: str) -> tuple[str, ...]:
    return tuple(s.key for s in get_blueprint(template_key).secret_keys)


def secrets_generate_missing(*, template_key: str, existing: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every secret the blueprint needs: ``existing`` values unchanged, missing ones generated.

    A key present in ``existing`` is never regenerated, whatever its value: replacing a value
    that is in use (n8n's key, a database password) would lock the app out of its own data.
    Keys the blueprint does not declare are kept, so nothing is lost across blueprint changes.
    """
    result = dict(existing or {})
    for spec in get_blueprint(template_key).secret_keys:
        if spec.key not in result:
            # URL-safe alphabet: no quoting problems in env files, shells or connection strings.
            result[spec.key] = secrets.token_urlsafe(spec.nbytes)
    return result
