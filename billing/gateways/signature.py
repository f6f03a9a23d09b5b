"""Midtrans' notification signature: sha512(order_id + status_code + gross_amount + server_key)."""

import hashlib
import hmac

from django.views.decorators.debug import sensitive_variables


# Keep the server key out of Django's error reports, which print each frame's local variables.
@sensitive_variables("server_key")
def compute_signature(*, order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """Lowercase hex SHA-512. ``gross_amount`` must be the string exactly as sent ("150000.00")."""
    return hashlib.sha512(f"{order_id}{status_code}{gross_amount}{server_key}".encode()).hexdigest()


@sensitive_variables("server_key", "expected")
def verify_signature(payload: dict, *, server_key: str) -> bool:
    """Check a notification body's ``signature_key`` in constant time. Never raises on junk."""
    parts = [payload.get(name) for name in ("order_id", "status_code", "gross_amount", "signature_key")]
    # Midtrans sends all four as ASCII; anything else (e.g. a lone surrogate) cannot even be encoded.
    if not all(isinstance(part, str) and part.isascii() for part in parts):
        return False
    order_id, status_code, gross_amount, signature = parts
    expected = compute_signature(
        order_id=order_id, status_code=status_code, gross_amount=gross_amount, server_key=server_key
    )
    return hmac.compare_digest(expected, signature.lower())
